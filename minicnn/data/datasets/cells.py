"""cells: synthetic fluorescence-microscopy images of nuclei, made on the fly.

Each grayscale image holds a crowd of nuclei: round or elongated ellipses of uneven
brightness with a slightly darker rim and a grainy inside, some touching or overlapping
their neighbours, on a background with uneven illumination, blurred by the optics and
noisy like a camera. Besides the image, a sample knows its instance labels (0 for the
background, 1, 2, ... one per nucleus; where two overlap, the upper one owns the overlap)
and its semantic mask (0 background, 1 nucleus).

As in the annotations of the U-Net paper, the masks separate touching nuclei by a thin line
of background: a pixel that borders a pixel of another nucleus is background in the mask.
A network must learn to draw that line where the image shows only a faint seam, which is
what the paper's weight map (minicnn.segmentation.weight_map) is for. Everything depends
on `seed` alone.
"""
import numpy

from ..dataset import TensorDataset

CELL_CLASSES = ("background", "nucleus")


def gaussian_blur(image, sigma):
    """image (H, W) convolved with a Gaussian of standard deviation sigma pixels, separably
    (rows, then columns), with mirrored edges; the kernel is cut at 3 sigma."""
    radius = max(1, int(numpy.ceil(3 * sigma)))
    offsets = numpy.arange(-radius, radius + 1)
    kernel = numpy.exp(-offsets ** 2 / (2 * sigma ** 2))
    kernel /= kernel.sum()
    height, width = image.shape
    padded = numpy.pad(image, radius, mode="reflect")
    rows = sum(k * padded[i:i + height, :] for i, k in enumerate(kernel))
    return sum(k * rows[:, i:i + width] for i, k in enumerate(kernel))


def neighbour_labels(labels):
    """The labels of every pixel's four neighbours (up, down, left, right): (4, H, W) for
    labels (H, W), 0 beyond the image's edge."""
    padded = numpy.pad(labels, 1)
    return numpy.stack([padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]])


def separate_touching(instances):
    """Instance labels with every pixel that touches (4-neighbourhood) a pixel of another
    nucleus set to 0: touching nuclei end up two pixels apart."""
    neighbours = neighbour_labels(instances)
    touching = ((neighbours != 0) & (neighbours != instances)).any(axis=0)
    return numpy.where(touching, 0, instances)


def _draw_nucleus(rng, placed, size, radii, elongated):
    """Centre, semi-axes and angle of a nucleus. Half of them are put next to one already
    placed, at 0.8 to 1.05 times the sum of their mean radii, so that they touch or
    overlap a little; the others anywhere."""
    a = rng.uniform(*radii)
    b = a * (rng.uniform(0.45, 0.65) if rng.random() < elongated else rng.uniform(0.8, 1.0))
    angle = rng.uniform(0, numpy.pi)
    if placed and rng.random() < 0.5:
        cx, cy, other_a, other_b, _ = placed[rng.integers(len(placed))]
        direction = rng.uniform(0, 2 * numpy.pi)
        distance = rng.uniform(0.8, 1.05) * (other_a + other_b + a + b) / 2
        centre = (cx + distance * numpy.cos(direction), cy + distance * numpy.sin(direction))
    else:
        centre = rng.uniform(0, size, 2)
    return (*numpy.clip(centre, 0, size - 1), a, b, angle)


def _hides_too_much(labels, inside, most=0.25):
    """Whether a new nucleus covering `inside` would hide more than `most` of a nucleus
    already drawn in `labels`, or be hidden that much itself (no slivers of nuclei)."""
    covered = labels[inside]
    if not covered.any():
        return False
    areas = numpy.bincount(labels.ravel())
    hidden = numpy.bincount(covered, minlength=len(areas))
    return bool((hidden[1:] > most * areas[1:]).any() or (covered > 0).mean() > most)


def make_cells(n, image_size=64, seed=0, nuclei=(6, 14), radii=(3.5, 7.0), elongated=0.3,
               blur=1.0, noise=0.04):
    """images float32 (n, 1, S, S) in [0, 1], masks int64 (n, S, S) with 0 = background and
    1 = nucleus, instances int32 (n, S, S) with 0 = background and 1.. one per nucleus.

    nuclei: (fewest, most) per image; radii: range of the long semi-axis in pixels;
    elongated: share of nuclei with an axis ratio near 0.55 (the others near 0.9);
    blur: the optics' Gaussian sigma in pixels; noise: the camera's Gaussian noise.
    """
    rng = numpy.random.default_rng(seed)
    size = image_size
    y, x = numpy.mgrid[0:size, 0:size].astype(numpy.float64)
    images = numpy.empty((n, 1, size, size), numpy.float32)
    instances = numpy.zeros((n, size, size), numpy.int32)
    for i in range(n):
        # Uneven illumination: a dim background that brightens along a random direction.
        direction = rng.uniform(0, 2 * numpy.pi)
        slope = rng.uniform(0, 0.15) / size
        light = rng.uniform(0.05, 0.15) + slope * ((x - size / 2) * numpy.cos(direction)
                                                   + (y - size / 2) * numpy.sin(direction))
        # Stained chromatin is grainy: smooth noise multiplies each nucleus's brightness.
        grain = 1 + 0.25 * gaussian_blur(rng.standard_normal((size, size)), 1.0)
        signal = numpy.zeros((size, size))
        labels = numpy.zeros((size, size), numpy.int32)
        placed, wanted = [], rng.integers(nuclei[0], nuclei[1] + 1)
        for _ in range(10 * wanted):           # tries; a crowded image may hold fewer
            if len(placed) == wanted:
                break
            cx, cy, a, b, angle = nucleus = _draw_nucleus(rng, placed, size, radii, elongated)
            along = (x - cx) * numpy.cos(angle) + (y - cy) * numpy.sin(angle)
            across = -(x - cx) * numpy.sin(angle) + (y - cy) * numpy.cos(angle)
            radius = numpy.sqrt((along / a) ** 2 + (across / b) ** 2)     # 1 on the outline
            inside = radius <= 1
            if _hides_too_much(labels, inside):
                continue
            placed.append(nucleus)
            # Bright in the middle, dimmer at the rim; overlapping nuclei add up, as dyes do.
            signal += inside * rng.uniform(0.35, 0.9) * (1 - 0.35 * radius ** 4) * grain
            labels[inside] = len(placed)
        image = gaussian_blur(light + signal, blur) + rng.normal(0, noise, (size, size))
        images[i, 0] = numpy.clip(image, 0, 1)
        # Numbered 1, 2, ... without gaps: a nucleus hidden under others leaves no number.
        present, numbered = numpy.unique(separate_touching(labels), return_inverse=True)
        instances[i] = numbered.reshape(size, size) + (present[0] != 0)
    return images, (instances > 0).astype(numpy.int64), instances


class CellsDataset(TensorDataset):
    """n synthetic nucleus images; a sample is (image (1, S, S), mask (S, S)). The instance
    labels of all images are in `.instances` (n, S, S), for instance-level evaluation and
    for the weight map."""
    classes = CELL_CLASSES
    task = "segment"

    def __init__(self, n=500, image_size=64, seed=0, transform=None, **options):
        if image_size < 16:
            raise ValueError(f"CellsDataset: image_size must be at least 16, got {image_size}")
        images, masks, self.instances = make_cells(n, image_size, seed, **options)
        super().__init__(images, masks, transform=transform)
