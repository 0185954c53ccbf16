"""Pictures of masks: test images with their true and predicted masks laid over them, and a
predicted mask as a PNG file whose pixel values are the class indices.

Drawn on a bare matplotlib Figure with the Agg canvas (like training/plots.py), and written
to a temporary file renamed over the target, so a failed drawing leaves no half a file.
"""
import os

import numpy
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..functional import center_crop


def class_colours(num_classes):
    """(num_classes, 3) uint8: black for the background (class 0), then tab10's colours."""
    palette = colormaps["tab10"].colors
    colours = [(0.0, 0.0, 0.0)] + [palette[(c - 1) % len(palette)] for c in range(1, num_classes)]
    return (numpy.asarray(colours) * 255).round().astype(numpy.uint8)


def overlay(image, mask, num_classes, opacity=0.45):
    """An RGB picture (H, W, 3) in [0, 1] of image (C, H, W) with every non-background pixel
    of mask (H, W) tinted by its class colour. The image is cropped to the mask's centre
    when the mask is smaller (the valid-padded U-Net's output)."""
    image = center_crop(image, *mask.shape)
    rgb = numpy.repeat(image, 3, axis=0) if image.shape[0] == 1 else image[:3]
    rgb = numpy.clip(rgb.transpose(1, 2, 0), 0, 1)
    tint = class_colours(num_classes)[mask] / 255
    alpha = opacity * (mask > 0)[..., None]
    return (1 - alpha) * rgb + alpha * tint


def save_overlays(images, true_masks, predicted_masks, path, class_names, titles=None):
    """A grid of up to 8 columns: each image, its true mask and its predicted mask overlaid."""
    count = min(len(images), 8)
    figure = Figure(figsize=(1.9 * count, 6.2))
    FigureCanvasAgg(figure)
    grid = figure.subplots(3, count, squeeze=False)
    rows = (("image", None), ("true", true_masks), ("predicted", predicted_masks))
    for column in range(count):
        for row, (name, masks) in enumerate(rows):
            axes = grid[row, column]
            picture = (overlay(images[column], numpy.zeros_like(true_masks[column]), 1)
                       if masks is None else overlay(images[column], masks[column], len(class_names)))
            axes.imshow(picture, interpolation="nearest")
            axes.set_xticks([])
            axes.set_yticks([])
            if column == 0:
                axes.set_ylabel(name)
            if row == 0 and titles is not None:
                axes.set_title(titles[column], fontsize=8)
    colours = class_colours(len(class_names)) / 255
    handles = [_patch(colour) for colour in colours[1:]]
    figure.legend(handles, class_names[1:], loc="lower center", ncol=len(class_names) - 1,
                  fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    _write_atomically(path, lambda temporary: figure.savefig(temporary, dpi=100, format="png"))


def save_mask_png(mask, path, num_classes):
    """The mask (H, W) as a palette PNG: pixel value = class index, shown in class colours."""
    from PIL import Image
    picture = Image.fromarray(numpy.asarray(mask, dtype=numpy.uint8), mode="P")
    picture.putpalette(class_colours(num_classes).ravel().tolist())
    _write_atomically(path, lambda temporary: picture.save(temporary, format="PNG"))


def _patch(colour):
    from matplotlib.patches import Patch
    return Patch(color=colour)


def _write_atomically(path, write):
    temporary = f"{path}.tmp"
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
