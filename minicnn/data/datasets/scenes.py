"""scenes: synthetic detection images, several coloured shapes each, partly hiding each other.

Every image holds 1 to 6 shapes (circle, square, triangle, diamond, cross, as in shapes.py)
of sizes from about 8 to 36 pixels across (in a 64 x 64 image; sizes scale with
image_size), each in a random colour on a dark, shaded, noisy background. Shapes are drawn
one after another, so a later shape hides part of an earlier one: the annotation of a
shape is its visible part (its instance mask) and the box around that part; a shape left
with less than 40% of its pixels visible (or fewer than 12) is painted over by the
background's texture as if it were not there, so every annotated object can be seen.
A colour says nothing about the class; only the outline does.

A sample is (image, target): image float32 (3, S, S) in [0, 1], target a dict

    boxes      float32 (K, 4) x0, y0, x1, y1, pixel edges (x1, y1 exclusive)
    labels     int64 (K,) in 0..4, an index into SHAPES
    masks      uint8 (K, S, S), 1 on the visible pixels of object k
    occlusion  float32 (K,), the fraction of each shape's pixels hidden by later shapes

Sample i depends only on (seed, i), so any subset is reproducible without the rest. A
sample is drawn when first asked for (about 2 ms) and kept, read-only, for the next epoch
(2,000 scenes of 64 x 64 hold about 130 MB).
detection_collate (data/collate.py) batches samples with different numbers of objects.
"""
import numpy

from ..dataset import Dataset
from .shapes import SHAPES, shape_mask

MIN_VISIBLE_FRACTION = 0.4
MIN_VISIBLE_PIXELS = 12


def make_scene(image_size=64, seed=0, index=0, max_objects=6, noise=0.04):
    """(image, target) of one scene, drawn from numpy.random.default_rng((seed, index))."""
    rng = numpy.random.default_rng((seed, index))
    size = image_size
    y, x = numpy.mgrid[0:size, 0:size] / size
    # A dark background with a linear shade and noise: no two scenes alike.
    base = rng.uniform(0.0, 0.3, (3, 1, 1))
    shade = rng.uniform(-0.15, 0.15, (3, 1, 1)) * (x * rng.uniform(-1, 1) + y * rng.uniform(-1, 1))
    background = numpy.clip(base + shade + rng.normal(0, noise, (3, size, size)), 0, 1)
    image = background.copy()
    owner = numpy.full((size, size), -1)            # which shape each pixel shows
    shapes, boxes = [], []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        for _attempt in range(20):                  # a place not hiding most of another shape
            r = rng.uniform(0.065, 0.28) * size
            cx, cy = rng.uniform(0.5 * r, size - 0.5 * r, size=2)
            box = numpy.array([cx - r, cy - r, cx + r, cy + r])
            if all(_iou(box, other) < 0.35 for other in boxes):
                break
        label = int(rng.integers(len(SHAPES)))
        inside = shape_mask(SHAPES[label], size, cx, cy, r)
        if not inside.any():
            continue
        colour = rng.uniform(0.45, 1.0, (3, 1, 1))
        colour[rng.integers(3)] = rng.uniform(0.75, 1.0)      # at least one bright channel
        image = numpy.where(inside, colour + rng.normal(0, noise, (3, size, size)), image)
        owner[inside] = len(shapes)
        shapes.append((label, int(inside.sum())))
        boxes.append(box)
    kept_boxes, labels, masks, occlusion = [], [], [], []
    for k, (label, full) in enumerate(shapes):
        visible = owner == k
        count = int(visible.sum())
        if count < max(MIN_VISIBLE_PIXELS, MIN_VISIBLE_FRACTION * full):
            image = numpy.where(visible, background, image)   # too hidden: not an object
            continue
        rows, cols = numpy.flatnonzero(visible.any(1)), numpy.flatnonzero(visible.any(0))
        kept_boxes.append([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1])
        labels.append(label)
        masks.append(visible)
        occlusion.append(1 - count / full)
    target = {"boxes": numpy.asarray(kept_boxes, numpy.float32).reshape(-1, 4),
              "labels": numpy.asarray(labels, numpy.int64),
              "masks": numpy.asarray(masks, numpy.uint8).reshape(-1, size, size),
              "occlusion": numpy.asarray(occlusion, numpy.float32)}
    return numpy.clip(image, 0, 1).astype(numpy.float32), target


def _iou(a, b):
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


class ScenesDataset(Dataset):
    """n scenes of `image_size` pixels from `seed` (module docstring). `transform`, if given,
    is called as transform(image, target) -> (image, target), e.g. a joint flip."""
    classes = SHAPES

    def __init__(self, n=2000, image_size=64, seed=0, max_objects=6, transform=None):
        if n < 1 or image_size < 32 or not 1 <= max_objects <= 20:
            raise ValueError(f"ScenesDataset: n must be positive, image_size at least 32 and "
                             f"max_objects in 1..20, got n={n}, image_size={image_size}, "
                             f"max_objects={max_objects}")
        self.n, self.image_size, self.seed, self.max_objects = n, image_size, seed, max_objects
        self.transform = transform
        self._drawn = {}

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        if not -self.n <= index < self.n:
            raise IndexError(f"ScenesDataset: index {index} is out of range for {self.n} scenes")
        index = int(index) % self.n
        if index not in self._drawn:
            image, target = make_scene(self.image_size, self.seed, index, self.max_objects)
            for array in (image, *target.values()):
                array.flags.writeable = False         # shared by every epoch: never changed
            self._drawn[index] = image, target
        image, target = self._drawn[index]
        target = dict(target)
        return self.transform(image, target) if self.transform is not None else (image, target)
