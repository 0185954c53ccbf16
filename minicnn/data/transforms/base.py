"""What every transform shares: the call with an optional target, batches and single images,
and the transforms that are not augmentations (Compose, RandomChoice, ToTensor, Normalize).
"""
import numbers

import numpy

from ...backend.random import generator
from .targets import check_targets


def as_batch(op, images):
    """(N, C, H, W) view of one image or a batch, whether it was a batch, and a function that
    restores the input's rank."""
    images = numpy.asarray(images)
    if images.ndim == 3:
        return images[None], False, lambda batch: batch[0]
    if images.ndim == 4:
        return images, True, lambda batch: batch
    raise ValueError(f"{op}: 'img' must be an image (C, H, W) or a batch (N, C, H, W), got "
                     f"shape {images.shape}")


def per_image(op, name, value, count, shape=()):
    """`value` as float64 (count,) + shape: one number for all images, or one per image."""
    array = numpy.asarray(value, dtype=numpy.float64)
    if array.shape not in (shape, (count,) + shape):
        one = f"of shape {shape}" if shape else "a number"
        raise ValueError(f"{op}: '{name}' must be {one} or one per image, shape "
                         f"{(count,) + shape}, got shape {array.shape}")
    return numpy.broadcast_to(array, (count,) + shape)


def check_size(op, size, name="size"):
    """(height, width) from an int or a pair of positive ints."""
    pair_of = (size, size) if isinstance(size, numbers.Integral) else tuple(size)
    if len(pair_of) != 2 or not all(isinstance(s, numbers.Integral) and s > 0 for s in pair_of):
        raise ValueError(f"{op}: '{name}' must be a positive int or (height, width), got {size!r}")
    return pair_of


def with_targets(op, images, target, apply):
    """Run `apply(batch, targets)` -> (batch, targets) on the images as a batch, with the
    targets checked first (a list of dicts or None), and give back the caller's ranks:
    images alone when target is None, else (images, target)."""
    batch, batched, restore = as_batch(op, images)
    targets = check_targets(op, target, batch, batched)
    out, moved = apply(batch, targets)
    if target is None:
        return restore(out)
    return restore(out), (moved if batched else moved[0])


class Transform:
    """Base class: `transform(img)` -> img, `transform(img, target)` -> (img, target).

    img is one image (C, H, W) or a batch (N, C, H, W); target is None, a dict for an
    image or a list of N dicts for a batch (see the package docstring). Subclasses define
    `apply(batch, targets)` on a batch (N, C, H, W) and a list of N checked dicts (or None)
    and return both. Random transforms draw one choice per image from minicnn's global
    generator, so `minicnn.manual_seed` and the checkpoints reproduce them.
    """

    def __call__(self, img, target=None):
        return with_targets(type(self).__name__, img, target, self.apply)

    def apply(self, batch, targets):
        raise NotImplementedError(f"{type(self).__name__} must define apply(batch, targets)")

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class PhotometricTransform(Transform):
    """A transform of pixel values only: targets pass through unchanged (but checked)."""

    def apply(self, batch, targets):
        return self.adjust(batch), targets

    def adjust(self, batch):
        raise NotImplementedError(f"{type(self).__name__} must define adjust(batch)")


def pair(function, batch, targets, *args, **kwargs):
    """`function(batch, *args, target=targets, **kwargs)` (a functional form) as a pair
    (images, targets), with targets None when there are none."""
    if targets is None:
        return function(batch, *args, **kwargs), None
    return function(batch, *args, target=targets, **kwargs)


def apply_to_chosen(batch, targets, chosen, function):
    """`function(images, targets)` -> (images, targets) applied to the images where `chosen`
    (N,) is True; the others are copied unchanged. The function must keep the images' shape."""
    out = batch.copy()
    indices = numpy.flatnonzero(chosen)
    if not len(indices):
        return out, targets
    subset = None if targets is None else [targets[i] for i in indices]
    out[indices], moved = function(batch[indices], subset)
    if targets is not None:
        targets = list(targets)
        for i, target in zip(indices, moved):
            targets[i] = target
    return out, targets


class Compose:
    """Apply transforms one after another; `compose(img, target)` threads the target through."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img, target=None):
        for transform in self.transforms:
            if target is None:
                img = transform(img)
            else:
                img, target = transform(img, target)
        return img if target is None else (img, target)

    def __repr__(self):
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class RandomChoice:
    """Apply one of `transforms`, picked at random with probabilities `p` (equal by default)
    once per call: per batch, not per image (e.g. MixUp or CutMix for each batch)."""

    def __init__(self, transforms, p=None):
        self.transforms = list(transforms)
        if not self.transforms:
            raise ValueError("RandomChoice: 'transforms' must not be empty")
        p = numpy.full(len(self.transforms), 1 / len(self.transforms)) if p is None else \
            numpy.asarray(p, dtype=numpy.float64)
        if p.shape != (len(self.transforms),) or (p < 0).any() or p.sum() <= 0:
            raise ValueError(f"RandomChoice: 'p' must hold {len(self.transforms)} non-negative "
                             f"weights, got {p.tolist()}")
        self.p = p / p.sum()

    def __call__(self, *args):
        return self.transforms[generator().choice(len(self.transforms), p=self.p)](*args)


class ToTensor:
    """Pixels (H, W), (H, W, C) or (N, H, W, C) to float32 (C, H, W) / (N, C, H, W).

    Integer pixels are scaled from [0, 255] to [0, 1], as torchvision's ToTensor does;
    float pixels are kept as they are. A target passes through unchanged.
    """

    def __call__(self, pixels, target=None):
        pixels = numpy.asarray(pixels)
        scale = 1 / 255 if pixels.dtype.kind in "ui" else 1
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        if pixels.ndim not in (3, 4):
            raise ValueError(f"ToTensor: expected pixels (H, W), (H, W, C) or (N, H, W, C), "
                             f"got shape {pixels.shape}")
        channels_first = numpy.moveaxis(pixels, -1, -3)
        out = numpy.ascontiguousarray(channels_first, dtype=numpy.float32) * numpy.float32(scale)
        return out if target is None else (out, target)


class Normalize(PhotometricTransform):
    """(x - mean) / std per channel. Apply it after the augmentations, which expect pixels
    in [0, 1]."""

    def __init__(self, mean, std):
        self.mean = numpy.asarray(mean, dtype=numpy.float32).reshape(-1, 1, 1)
        self.std = numpy.asarray(std, dtype=numpy.float32).reshape(-1, 1, 1)
        if numpy.any(self.std <= 0):
            raise ValueError(f"Normalize: std must be positive, got {std}")

    def adjust(self, batch):
        channels = batch.shape[-3]
        if len(self.mean) not in (1, channels) or len(self.std) not in (1, channels):
            raise ValueError(f"Normalize: {len(self.mean)} means / {len(self.std)} stds for "
                             f"images with {channels} channels")
        return ((batch - self.mean) / self.std).astype(numpy.float32, copy=False)
