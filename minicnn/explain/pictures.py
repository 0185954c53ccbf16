"""Pictures of explanations: a map laid over its image, and grids of pictures (matplotlib).

    heatmap(attribution)           (C, H, W) or (H, W) -> (H, W) in [0, 1]: the largest
                                   absolute value over the channels (Simonyan et al.),
                                   divided by the map's maximum
    overlay(image, heatmap)        (H, W, 3) RGB: the image in grey (or colour) with the
                                   heatmap's colours over it
    grid(pictures, titles)         a Figure with one picture per cell
    save_figure(figure, path)      a PNG, written atomically

The figures are bare matplotlib Figures on the Agg canvas (as training/plots.py draws), so
saving one neither needs a display nor changes a notebook's backend.
"""
import matplotlib
import numpy
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..autograd import Tensor
from ..backend import to_numpy
from ..serialization import write_atomically


def _array(values):
    return to_numpy(values.data) if isinstance(values, Tensor) else numpy.asarray(values)


def heatmap(attribution):
    """An attribution of one image as an (H, W) map in [0, 1] (all zeros stays zeros)."""
    values = numpy.abs(_array(attribution).astype(numpy.float64))
    if values.ndim == 4 and len(values) == 1:
        values = values[0]
    if values.ndim == 3:
        values = values.max(axis=0)
    if values.ndim != 2:
        raise ValueError(f"heatmap: expected one image's attribution (C, H, W) or (H, W), got "
                         f"shape {values.shape}")
    top = values.max()
    return values / top if top > 0 else values


def as_rgb(image):
    """One image (C, H, W) with 1 or 3 channels, or (H, W), in [0, 1] -> (H, W, 3)."""
    pixels = _array(image).astype(numpy.float64)
    if pixels.ndim == 4 and len(pixels) == 1:
        pixels = pixels[0]
    if pixels.ndim == 2:
        pixels = pixels[None]
    if pixels.ndim != 3 or len(pixels) not in (1, 3):
        raise ValueError(f"as_rgb: expected an image (1 or 3, H, W) or (H, W), got shape "
                         f"{pixels.shape}")
    return numpy.clip(numpy.repeat(pixels, 3 // len(pixels), axis=0).transpose(1, 2, 0), 0, 1)


def overlay(image, heat, alpha=0.5, cmap="jet"):
    """The image with `heat` ((H, W) in [0, 1], e.g. from heatmap) coloured by `cmap` over it:
    (1 - alpha) image + alpha colour, an (H, W, 3) array in [0, 1]."""
    rgb = as_rgb(image)
    heat = _array(heat).astype(numpy.float64)
    if heat.ndim == 3 and len(heat) == 1:
        heat = heat[0]
    if heat.shape != rgb.shape[:2]:
        raise ValueError(f"overlay: the heatmap's shape {heat.shape} differs from the image's "
                         f"{rgb.shape[:2]}; upsample it first (GradCAM does)")
    if not 0 <= alpha <= 1:
        raise ValueError(f"overlay: alpha must be in [0, 1], got {alpha}")
    colours = matplotlib.colormaps[cmap](numpy.clip(heat, 0, 1))[..., :3]
    return (1 - alpha) * rgb + alpha * colours


def grid(pictures, titles=None, columns=None, cmap="gray", value_range=None, size=1.6):
    """A Figure with the pictures in rows of `columns` (default: all in one row). A picture is
    an (H, W, 3) RGB array, or an (H, W) map drawn with `cmap`, its colours spanning
    `value_range` ((0, 1) for images) or each map's own range; titles are optional."""
    pictures = [_array(picture) for picture in pictures]
    if not pictures:
        raise ValueError("grid: no pictures to draw")
    titles = list(titles) if titles is not None else [None] * len(pictures)
    if len(titles) != len(pictures):
        raise ValueError(f"grid: {len(titles)} titles for {len(pictures)} pictures")
    columns = columns or len(pictures)
    rows = -(-len(pictures) // columns)
    figure = Figure(figsize=(size * columns, size * rows + 0.3))
    FigureCanvasAgg(figure)
    for index, axes in enumerate(figure.subplots(rows, columns, squeeze=False).ravel()):
        axes.axis("off")
        if index < len(pictures):
            low, high = value_range or (None, None)
            axes.imshow(pictures[index], cmap=None if pictures[index].ndim == 3 else cmap,
                        vmin=low, vmax=high)
            if titles[index]:
                axes.set_title(titles[index], fontsize=8)
    figure.tight_layout()
    return figure


def save_figure(figure, path, dpi=100):
    """Write the figure as a PNG at `path`, atomically (a failed save leaves no half file)."""
    write_atomically(path, lambda file: figure.savefig(file, format="png", dpi=dpi))
