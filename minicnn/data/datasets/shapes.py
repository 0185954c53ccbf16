"""shapes: a synthetic dataset of coloured shapes on noisy backgrounds, made on the fly.

Every image holds one shape (circle, square, triangle, diamond or cross) of random size,
position and colour. Besides its class label, each sample knows its pixel mask and bounding
box, so the same generator serves classification, segmentation and detection. The images
depend on `seed` alone.
"""
import numpy

from ..dataset import TensorDataset

SHAPES = ("circle", "square", "triangle", "diamond", "cross")
TASKS = ("classify", "segment", "detect")


def shape_mask(kind, size, cx, cy, r):
    """Boolean (size, size) mask of a shape centred at (cx, cy) with half-width r."""
    y, x = numpy.mgrid[0:size, 0:size].astype(numpy.float64)
    dx, dy = x - cx, y - cy
    if kind == "circle":
        return dx ** 2 + dy ** 2 <= r ** 2
    if kind == "square":
        return (abs(dx) <= r) & (abs(dy) <= r)
    if kind == "triangle":      # apex up, base at dy = r: inside when |dx| <= (dy + r) / 2
        return (dy <= r) & (abs(dx) <= (dy + r) / 2)
    if kind == "diamond":
        return abs(dx) + abs(dy) <= r
    if kind == "cross":
        return ((abs(dx) <= r / 3) & (abs(dy) <= r)) | ((abs(dy) <= r / 3) & (abs(dx) <= r))
    raise ValueError(f"shape_mask: unknown shape {kind!r}; choose from {', '.join(SHAPES)}")


def make_shapes(n, image_size=32, seed=0, noise=0.05):
    """images float32 (n, 3, S, S) in [0, 1], labels int64 (n,), masks int64 (n, S, S) with
    0 = background and label + 1 on the shape, boxes float32 (n, 4) as (x0, y0, x1, y1),
    pixel edges, x1 and y1 exclusive."""
    rng = numpy.random.default_rng(seed)
    size = image_size
    images = numpy.empty((n, 3, size, size), numpy.float32)
    labels = rng.integers(len(SHAPES), size=n)
    masks = numpy.zeros((n, size, size), numpy.int64)
    boxes = numpy.empty((n, 4), numpy.float32)
    for i, label in enumerate(labels):
        r = rng.uniform(0.15, 0.35) * size
        cx, cy = rng.uniform(r, size - 1 - r, size=2)
        inside = shape_mask(SHAPES[label], size, cx, cy, r)
        # A dark background and a bright shape keep every shape visible in every channel mix.
        background = rng.uniform(0.0, 0.4, size=(3, 1, 1))
        colour = rng.uniform(0.6, 1.0, size=(3, 1, 1))
        image = numpy.where(inside, colour, background) + rng.normal(0, noise, (3, size, size))
        images[i] = numpy.clip(image, 0, 1)
        masks[i][inside] = label + 1
        rows, cols = numpy.flatnonzero(inside.any(1)), numpy.flatnonzero(inside.any(0))
        boxes[i] = cols[0], rows[0], cols[-1] + 1, rows[-1] + 1
    return images, labels.astype(numpy.int64), masks, boxes


class ShapesDataset(TensorDataset):
    """n synthetic shape images; the task chooses what a sample holds:

    'classify': (image, label)   'segment': (image, mask)   'detect': (image, box, label)

    `classes` names the labels a sample holds: the shapes, with "background" first for the
    masks' class 0 when the task is 'segment'.
    """
    classes = SHAPES

    def __init__(self, n=2000, image_size=32, seed=0, task="classify", noise=0.05,
                 transform=None):
        if task not in TASKS:
            raise ValueError(f"ShapesDataset: unknown task {task!r}; choose from {', '.join(TASKS)}")
        if image_size < 8:
            raise ValueError(f"ShapesDataset: image_size must be at least 8, got {image_size}")
        images, labels, masks, boxes = make_shapes(n, image_size, seed, noise)
        fields = {"classify": (labels,), "segment": (masks,), "detect": (boxes, labels)}[task]
        super().__init__(images, *fields, transform=transform)
        self.task = task
        if task == "segment":
            self.classes = ("background",) + SHAPES
