"""Random photometric transforms: pixel values change, boxes and masks stay where they are.

torchvision's names and argument meanings; each image of a batch draws its own parameters
from minicnn's generator. Pixels are expected in [0, 1] (apply Normalize afterwards).
"""
import numbers

import numpy

from ...backend.random import generator
from . import functional as F
from .base import PhotometricTransform, check_size


def _factor_range(name, value, centre=1.0, bound=(0.0, numpy.inf)):
    """torchvision's ColorJitter ranges: a number v means centre -/+ v (cut at the bound),
    a pair is taken as given; None when the range is the single point `centre` (no change)."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"ColorJitter: '{name}' as a single number must be >= 0, got {value}")
        low, high = max(centre - value, bound[0]), centre + value
    else:
        low, high = (float(v) for v in value)
    if not bound[0] <= low <= high <= bound[1]:
        raise ValueError(f"ColorJitter: '{name}' must give a range inside [{bound[0]}, "
                         f"{bound[1]}], got {value!r}")
    return None if low == high == centre else (low, high)


class ColorJitter(PhotometricTransform):
    """Random brightness, contrast, saturation and hue, as torchvision's ColorJitter.

    brightness, contrast, saturation: a number v draws the factor from [max(0, 1 - v), 1 + v],
    a pair from itself; hue: a number h draws from [-h, h] (h <= 0.5). Each image applies
    the four adjustments that are on in its own random order (see functional's adjust_*:
    blends with black, the mean gray, the grayscale image; a hue turn), clamping to [0, 1].
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _factor_range("brightness", brightness)
        self.contrast = _factor_range("contrast", contrast)
        self.saturation = _factor_range("saturation", saturation)
        self.hue = _factor_range("hue", hue, centre=0.0, bound=(-0.5, 0.5))

    def adjust(self, batch):
        count = len(batch)
        steps = [(F.adjust_brightness, self.brightness), (F.adjust_contrast, self.contrast),
                 (F.adjust_saturation, self.saturation), (F.adjust_hue, self.hue)]
        order = numpy.argsort(generator().random((count, len(steps))), axis=1)
        factors = [None if bounds is None else generator().uniform(*bounds, size=count)
                   for _, bounds in steps]
        out = batch.copy()
        for position in range(len(steps)):
            for index, (adjust, _) in enumerate(steps):
                chosen = order[:, position] == index
                if factors[index] is not None and chosen.any():
                    out[chosen] = adjust(out[chosen], factors[index][chosen])
        return out


class RandomGrayscale(PhotometricTransform):
    """Turn each image gray with probability p, keeping its number of channels."""

    def __init__(self, p=0.1):
        self.p = p

    def adjust(self, batch):
        gray = generator().random(len(batch)) < self.p
        out = batch.copy()
        out[gray] = F.rgb_to_grayscale(batch[gray], batch.shape[1])
        return out


class GaussianBlur(PhotometricTransform):
    """Blur each image with a Gaussian of sigma ~ U(sigma) (see functional.gaussian_blur)."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        self.kernel_size = check_size("GaussianBlur", kernel_size, "kernel_size")
        if not all(k % 2 for k in self.kernel_size):
            raise ValueError(f"GaussianBlur: 'kernel_size' must be odd, got {kernel_size!r}")
        self.sigma = (sigma, sigma) if isinstance(sigma, numbers.Number) else tuple(sigma)
        if not 0 < self.sigma[0] <= self.sigma[1]:
            raise ValueError(f"GaussianBlur: 'sigma' must be positive, (min, max) with "
                             f"min <= max, got {sigma!r}")

    def adjust(self, batch):
        sigmas = generator().uniform(*self.sigma, size=len(batch))
        # kernel_size is (height, width) here; gaussian_blur takes (kx, ky).
        return F.gaussian_blur(batch, self.kernel_size[::-1], numpy.stack([sigmas, sigmas], 1))


class GaussianNoise(PhotometricTransform):
    """Add N(mean, sigma^2) noise to every pixel, clamped to [0, 1] if `clip`."""

    def __init__(self, mean=0.0, sigma=0.1, clip=True):
        if sigma < 0:
            raise ValueError(f"GaussianNoise: 'sigma' must be >= 0, got {sigma}")
        self.mean, self.sigma, self.clip = mean, sigma, clip

    def adjust(self, batch):
        return F.gaussian_noise(batch, self.mean, self.sigma, self.clip)


class RandomErasing(PhotometricTransform):
    """Cutout: with probability p, replace a random rectangle by `value`, as torchvision's
    RandomErasing (Zhong et al. 2017).

    Up to 10 tries per image: area fraction ~ U(scale), aspect ratio h / w log-uniform in
    `ratio`, h = round(sqrt(area * ratio)), w = round(sqrt(area / ratio)); the first that
    fits strictly inside (h < H, w < W) is placed uniformly; none: the image is left as it
    is. value: a number, one per channel, or 'random' (standard normal noise). Boxes and
    masks are left as they are: the object is occluded, not moved.
    """

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0):
        if not 0 <= p <= 1:
            raise ValueError(f"RandomErasing: 'p' must be a probability in [0, 1], got {p}")
        if not (0 <= scale[0] <= scale[1] <= 1 and 0 < ratio[0] <= ratio[1]):
            raise ValueError(f"RandomErasing: 'scale' must be (min, max) in [0, 1] and 'ratio' "
                             f"positive (min, max), got scale {scale!r}, ratio {ratio!r}")
        if isinstance(value, str) and value != "random":
            raise ValueError(f"RandomErasing: 'value' must be a number, one per channel or "
                             f"'random', got {value!r}")
        self.p, self.scale, self.ratio, self.value = p, tuple(scale), tuple(ratio), value

    def adjust(self, batch, tries=10):
        count, channels, height, width = batch.shape
        erased = generator().random(count) < self.p
        area = height * width * generator().uniform(*self.scale, size=(count, tries))
        aspect = numpy.exp(generator().uniform(*numpy.log(self.ratio), size=(count, tries)))
        h = numpy.round(numpy.sqrt(area * aspect)).astype(numpy.int64)
        w = numpy.round(numpy.sqrt(area / aspect)).astype(numpy.int64)
        fits = (h < height) & (w < width)
        first = numpy.argmax(fits, axis=1)
        h, w = h[numpy.arange(count), first], w[numpy.arange(count), first]
        keep = ~(erased & fits.any(axis=1))
        h[keep], w[keep] = 0, 0
        tops = generator().integers(height - h + 1)
        lefts = generator().integers(width - w + 1)
        value = (generator().standard_normal(batch.shape).astype(batch.dtype)
                 if isinstance(self.value, str) else self.value)
        return F.erase(batch, tops, lefts, h, w, value)


class RandomIllumination(PhotometricTransform):
    """Light from a random side: a brightness ramp of strength ~ U(0, strength) in a
    direction ~ U(0, 360) degrees (see functional.adjust_illumination). Not in torchvision."""

    def __init__(self, strength=0.4):
        if not 0 <= strength <= 1:
            raise ValueError(f"RandomIllumination: 'strength' must lie in [0, 1], got {strength}")
        self.strength = strength

    def adjust(self, batch):
        count = len(batch)
        angles = generator().uniform(0, 360, size=count)
        return F.adjust_illumination(batch, angles, generator().uniform(0, self.strength, count))
