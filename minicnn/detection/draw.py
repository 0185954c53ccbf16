"""Pictures of detections: boxes with their class name and score drawn on the image.

Drawn on bare matplotlib Figures with the Agg canvas (as training/plots.py), written to PNG
files atomically. Detections in a solid colour per class, ground truth (when given) dashed
white, (on a black stroke), so misses and false alarms show at a glance.
"""
import numpy
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.patheffects import withStroke

from ..serialization import write_atomically

__all__ = ["draw_detections", "save_detections_png", "save_detection_grid"]

COLOURS = ("#ff4040", "#40c0ff", "#ffd020", "#60ff60", "#ff60ff", "#ff9040", "#a080ff", "#40ffd0")


def draw_detections(axes, image, detections, class_names, truth=None, min_score=0.0):
    """On matplotlib axes: the image (C, H, W) in [0, 1], each detection's box and
    'name score', and the true boxes (dict with 'boxes') dashed. Pixel edges: a box from
    x0 to x1 covers the pixels x0 .. x1 - 1 (imshow centres pixel j at x = j)."""
    pixels = numpy.asarray(image).transpose(1, 2, 0)
    axes.imshow(pixels[:, :, 0] if pixels.shape[2] == 1 else numpy.clip(pixels, 0, 1),
                cmap="gray" if pixels.shape[2] == 1 else None, interpolation="nearest")
    for box in ([] if truth is None else numpy.asarray(truth["boxes"])):
        # White dashes on a black stroke: visible on the light shapes whose edges they follow.
        axes.add_patch(Rectangle((box[0] - 0.5, box[1] - 0.5), box[2] - box[0], box[3] - box[1],
                                 fill=False, edgecolor="white", linestyle="--", linewidth=1,
                                 path_effects=[withStroke(linewidth=2, foreground="black")]))
    for box, score, label in zip(detections["boxes"], detections["scores"], detections["labels"]):
        if score < min_score:
            continue
        colour = COLOURS[int(label) % len(COLOURS)]
        axes.add_patch(Rectangle((box[0] - 0.5, box[1] - 0.5), box[2] - box[0], box[3] - box[1],
                                 fill=False, edgecolor=colour, linewidth=1.5))
        axes.text(box[0] - 0.5, box[1] - 1, f"{class_names[int(label)]} {score:.2f}", color="black",
                  fontsize=7, va="bottom", bbox=dict(facecolor=colour, edgecolor="none", pad=1, alpha=0.8))
    axes.set_xticks([])
    axes.set_yticks([])


def save_detections_png(path, image, detections, class_names, min_score=0.3, size_inches=6):
    """One image with its detections scoring at least min_score, as a PNG."""
    figure = Figure(figsize=(size_inches, size_inches * image.shape[1] / image.shape[2]))
    FigureCanvasAgg(figure)
    axes = figure.add_axes([0, 0, 1, 1])
    draw_detections(axes, image, detections, class_names, min_score=min_score)
    write_atomically(path, lambda file: figure.savefig(file, format="png", dpi=100))


def save_detection_grid(path, images, detections, class_names, truths=None, min_score=0.3, columns=4):
    """Several images with their detections (and true boxes, dashed), as one PNG."""
    rows = -(-len(images) // columns)
    figure = Figure(figsize=(3 * columns, 3 * rows))
    FigureCanvasAgg(figure)
    for k, axes in enumerate(figure.subplots(rows, columns, squeeze=False).ravel()):
        if k < len(images):
            draw_detections(axes, images[k], detections[k], class_names,
                            None if truths is None else truths[k], min_score)
        else:
            axes.axis("off")
    figure.tight_layout()
    write_atomically(path, lambda file: figure.savefig(file, format="png", dpi=100))
