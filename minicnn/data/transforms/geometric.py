"""Random geometric transforms, with torchvision's names and argument meanings.

Each draws its parameters once per image from minicnn's generator, all images of a batch
in one draw, and moves the pixels, boxes and masks with the functional forms of
functional.py. The defaults that differ from torchvision are said where they do.
"""
import math
import numbers

import numpy

from ...backend.random import generator
from . import functional as F
from .base import Transform, apply_to_chosen, check_size, pair


def _range(op, name, value, low=-math.inf):
    """(a, b) from a number d (meaning -d .. d) or a pair, not below `low`."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"{op}: '{name}' as a single number must be >= 0, got {value}")
        bounds = (-value, value)
    else:
        bounds = tuple(float(v) for v in value)
        if len(bounds) != 2 or bounds[0] > bounds[1]:
            raise ValueError(f"{op}: '{name}' must be a number or a pair (min, max) with "
                             f"min <= max, got {value!r}")
    if bounds[0] < low:
        raise ValueError(f"{op}: '{name}' must not go below {low}, got {value!r}")
    return bounds


def _uniform(bounds, count):
    return generator().uniform(bounds[0], bounds[1], size=count)


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability p."""
    flip = staticmethod(F.hflip)

    def __init__(self, p=0.5):
        self.p = p

    def apply(self, batch, targets):
        flipped = generator().random(len(batch)) < self.p
        return apply_to_chosen(batch, targets, flipped, lambda b, t: pair(self.flip, b, t))


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror each image top-bottom with probability p."""
    flip = staticmethod(F.vflip)


class RandomCrop(Transform):
    """Pad each image by `padding` (as in pad()), then cut a random `size` window.

    size: int or (h, w); None (a minicnn extension) keeps the image's own size, which makes
    this a random shift by up to `padding` pixels. pad_if_needed pads an image smaller
    than `size` up to it, as torchvision.
    """

    def __init__(self, size=None, padding=None, pad_if_needed=False, fill=0,
                 padding_mode="constant"):
        self.size = None if size is None else check_size("RandomCrop", size)
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    def apply(self, batch, targets):
        height, width = self.size or batch.shape[-2:]
        if self.padding:
            batch, targets = pair(F.pad, batch, targets, self.padding, self.fill, self.padding_mode)
        if self.pad_if_needed and (batch.shape[-2] < height or batch.shape[-1] < width):
            grow_w, grow_h = max(width - batch.shape[-1], 0), max(height - batch.shape[-2], 0)
            batch, targets = pair(F.pad, batch, targets, (grow_w, grow_h), self.fill,
                                  self.padding_mode)
        spare_h, spare_w = batch.shape[-2] - height, batch.shape[-1] - width
        if spare_h < 0 or spare_w < 0:
            raise ValueError(f"RandomCrop: crop {(height, width)} is larger than the padded "
                             f"image {batch.shape[-2:]}")
        tops = generator().integers(spare_h + 1, size=len(batch))
        lefts = generator().integers(spare_w + 1, size=len(batch))
        return pair(F.crop, batch, targets, tops, lefts, height, width)


class CenterCrop(Transform):
    """The central `size` window (see functional.center_crop)."""

    def __init__(self, size):
        self.size = check_size("CenterCrop", size)

    def apply(self, batch, targets):
        return pair(F.center_crop, batch, targets, self.size)


class Resize(Transform):
    """Resize to `size` (see functional.resize): (h, w), or an int for the shorter side."""

    def __init__(self, size, interpolation="bilinear"):
        self.size, self.interpolation = size, interpolation

    def apply(self, batch, targets):
        return pair(F.resize, batch, targets, self.size, self.interpolation)


class Pad(Transform):
    """Pad every image (see functional.pad)."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def apply(self, batch, targets):
        return pair(F.pad, batch, targets, self.padding, self.fill, self.padding_mode)


class RandomResizedCrop(Transform):
    """A random window resized to `size`, as torchvision's RandomResizedCrop.

    For each image, up to 10 tries: area fraction ~ U(scale), aspect ratio w / h drawn
    log-uniformly from `ratio`, w = round(sqrt(area * ratio)), h = round(sqrt(area /
    ratio)) (Python's round); the first try that fits (0 < w <= W, 0 < h <= H) is placed
    uniformly. If none fits: the centre crop of the whole image, cut to the ratio range.
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), interpolation="bilinear"):
        self.size = check_size("RandomResizedCrop", size)
        self.scale = _range("RandomResizedCrop", "scale", scale, low=0)
        self.ratio = _range("RandomResizedCrop", "ratio", ratio, low=0)
        if self.ratio[0] <= 0:
            raise ValueError(f"RandomResizedCrop: 'ratio' must be positive, got {ratio!r}")
        self.interpolation = interpolation

    def window(self, count, height, width, tries=10):
        """(top, left, h, w), each (count,): one window per image."""
        area = height * width * _uniform(self.scale, (count, tries))
        aspect = numpy.exp(_uniform(numpy.log(self.ratio), (count, tries)))
        # numpy.round rounds halves to even, as Python's round in torchvision does.
        w = numpy.round(numpy.sqrt(area * aspect)).astype(numpy.int64)
        h = numpy.round(numpy.sqrt(area / aspect)).astype(numpy.int64)
        fits = (w > 0) & (w <= width) & (h > 0) & (h <= height)
        first = numpy.argmax(fits, axis=1)
        h, w = h[numpy.arange(count), first], w[numpy.arange(count), first]
        fallback = ~fits.any(axis=1)
        h[fallback], w[fallback] = self._centre_window(height, width)
        tops = generator().integers(height - h + 1)
        lefts = generator().integers(width - w + 1)
        tops[fallback], lefts[fallback] = (height - h[fallback]) // 2, (width - w[fallback]) // 2
        return tops, lefts, h, w

    def _centre_window(self, height, width):
        if width / height < self.ratio[0]:
            return int(round(width / self.ratio[0])), width
        if width / height > self.ratio[1]:
            return height, int(round(height * self.ratio[1]))
        return height, width

    def apply(self, batch, targets):
        tops, lefts, heights, widths = self.window(len(batch), *batch.shape[-2:])
        return pair(F.resized_crop, batch, targets, tops, lefts, heights, widths, self.size,
                    self.interpolation)


class RandomRotation(Transform):
    """Turn each image counter-clockwise by an angle ~ U(degrees) (a number d: -d .. d)
    about its centre (see functional.rotate). Bilinear by default (torchvision: nearest)."""

    def __init__(self, degrees, interpolation="bilinear", fill=0):
        self.degrees = _range("RandomRotation", "degrees", degrees)
        self.interpolation, self.fill = interpolation, fill

    def apply(self, batch, targets):
        angles = _uniform(self.degrees, len(batch))
        return pair(F.rotate, batch, targets, angles, self.interpolation, self.fill)


class RandomAffine(Transform):
    """torchvision's RandomAffine, per image (see functional.affine for the map):

    angle ~ U(degrees) (a number d: -d .. d); translate = (a, b): dx, dy = round(U(-a W,
    a W)), round(U(-b H, b H)) pixels; scale ~ U(scale); shear: a number s or (min, max)
    for sx only, (min_x, max_x, min_y, max_y) for both. Bilinear by default (torchvision:
    nearest).
    """

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation="bilinear",
                 fill=0):
        op = "RandomAffine"
        self.degrees = _range(op, "degrees", degrees)
        if translate is not None and (len(translate) != 2
                                      or not all(0 <= t <= 1 for t in translate)):
            raise ValueError(f"{op}: 'translate' must be a pair of fractions in [0, 1], got "
                             f"{translate!r}")
        self.translate = translate
        self.scale = None if scale is None else _range(op, "scale", scale, low=0)
        if shear is None or isinstance(shear, numbers.Number) or len(shear) == 2:
            self.shear = None if shear is None else (_range(op, "shear", shear), (0.0, 0.0))
        elif len(shear) == 4:
            self.shear = (_range(op, "shear", shear[:2]), _range(op, "shear", shear[2:]))
        else:
            raise ValueError(f"{op}: 'shear' must be a number, or 2 or 4 numbers, got {shear!r}")
        self.interpolation, self.fill = interpolation, fill

    def apply(self, batch, targets):
        count, _, height, width = batch.shape
        angles = _uniform(self.degrees, count)
        translations = numpy.zeros((count, 2))
        if self.translate is not None:
            reach = numpy.array([self.translate[0] * width, self.translate[1] * height])
            translations = numpy.round(generator().uniform(-reach, reach, size=(count, 2)))
        scales = numpy.ones(count) if self.scale is None else _uniform(self.scale, count)
        shears = numpy.zeros((count, 2))
        if self.shear is not None:
            shears = numpy.stack([_uniform(bounds, count) for bounds in self.shear], axis=1)
        return pair(F.affine, batch, targets, angles, translations, scales, shears,
                    self.interpolation, self.fill)


class ElasticTransform(Transform):
    """Simard et al. 2003's elastic distortion, with torchvision's meaning of alpha, sigma.

    Per image, a random field U(-1, 1) for dx and for dy, smoothed by a Gaussian of
    `sigma` (kernel size int(8 sigma + 1), made odd, edges reflected), scaled by alpha / H
    for dx and alpha / W for dy in grid units of 2 / W and 2 / H: in pixels, dx = alpha / H
    * W / 2 * smoothed noise (alpha / 2 for a square image). Large alpha and small sigma
    tear the image; sigma around 5 bends it smoothly.
    """

    def __init__(self, alpha=50.0, sigma=5.0, interpolation="bilinear", fill=0):
        if alpha < 0 or sigma < 0:
            raise ValueError(f"ElasticTransform: 'alpha' and 'sigma' must be >= 0, got alpha "
                             f"{alpha}, sigma {sigma}")
        self.alpha, self.sigma = alpha, sigma
        self.interpolation, self.fill = interpolation, fill

    def displacement(self, count, height, width):
        """(count, 2, H, W) displacements (dx, dy) in pixels."""
        noise = generator().uniform(-1, 1, size=(count, 2, height, width))
        if self.sigma > 0:
            size = int(8 * self.sigma + 1)
            noise = F.gaussian_blur(noise, size + (size % 2 == 0), self.sigma)
        noise[:, 0] *= self.alpha / height * width / 2
        noise[:, 1] *= self.alpha / width * height / 2
        return noise

    def apply(self, batch, targets):
        field = self.displacement(len(batch), *batch.shape[-2:])
        return pair(F.elastic, batch, targets, field, self.interpolation, self.fill)
