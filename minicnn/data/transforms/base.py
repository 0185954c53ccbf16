"""Image transforms on NumPy arrays, for one image (C, H, W) or a batch (N, C, H, W).

Datasets apply a transform to a whole batch at once (see TensorDataset), so the random
transforms draw one choice per image in the batch. Randomness comes from minicnn's global
generator: `minicnn.manual_seed` and checkpoints make augmented runs reproducible.
"""
import numpy

from ..backend.random import generator


def _as_batch(images):
    """(N, C, H, W) view of one image or a batch, and a function that restores the input's rank."""
    if images.ndim == 3:
        return images[None], lambda batch: batch[0]
    if images.ndim == 4:
        return images, lambda batch: batch
    raise ValueError(f"transforms: expected an image (C, H, W) or a batch (N, C, H, W), "
                     f"got shape {images.shape}")


class Compose:
    """Apply transforms one after another."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, images):
        for transform in self.transforms:
            images = transform(images)
        return images


class ToTensor:
    """Pixels (H, W), (H, W, C) or (N, H, W, C) to float32 (C, H, W) / (N, C, H, W).

    Integer pixels are scaled from [0, 255] to [0, 1], as torchvision's ToTensor does;
    float pixels are kept as they are.
    """

    def __call__(self, pixels):
        pixels = numpy.asarray(pixels)
        scale = 1 / 255 if pixels.dtype.kind in "ui" else 1
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        if pixels.ndim not in (3, 4):
            raise ValueError(f"ToTensor: expected pixels (H, W), (H, W, C) or (N, H, W, C), "
                             f"got shape {pixels.shape}")
        channels_first = numpy.moveaxis(pixels, -1, -3)
        return numpy.ascontiguousarray(channels_first, dtype=numpy.float32) * numpy.float32(scale)


class Normalize:
    """(x - mean) / std per channel."""

    def __init__(self, mean, std):
        self.mean = numpy.asarray(mean, dtype=numpy.float32).reshape(-1, 1, 1)
        self.std = numpy.asarray(std, dtype=numpy.float32).reshape(-1, 1, 1)
        if numpy.any(self.std <= 0):
            raise ValueError(f"Normalize: std must be positive, got {std}")

    def __call__(self, images):
        channels = images.shape[-3]
        if len(self.mean) not in (1, channels) or len(self.std) not in (1, channels):
            raise ValueError(f"Normalize: {len(self.mean)} means / {len(self.std)} stds for "
                             f"images with {channels} channels")
        return ((images - self.mean) / self.std).astype(numpy.float32, copy=False)


class RandomHorizontalFlip:
    """Mirror each image left-right with probability p."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, images):
        batch, restore = _as_batch(images)
        flip = generator().random(len(batch)) < self.p
        out = batch.copy()
        out[flip] = batch[flip, :, :, ::-1]
        return restore(out)


class RandomCrop:
    """Pad each image by `padding` zeros on every side, then cut a random size x size window.

    size=None keeps the image's own size: a random shift by up to `padding` pixels.
    """

    def __init__(self, size=None, padding=0):
        self.size = (size, size) if isinstance(size, int) else size
        self.padding = padding

    def __call__(self, images):
        batch, restore = _as_batch(images)
        p, (height, width) = self.padding, self.size or batch.shape[2:]
        padded = numpy.pad(batch, ((0, 0), (0, 0), (p, p), (p, p)))
        spare_h, spare_w = padded.shape[2] - height, padded.shape[3] - width
        if spare_h < 0 or spare_w < 0:
            raise ValueError(f"RandomCrop: crop {self.size} is larger than the padded image "
                             f"{padded.shape[2:]}")
        n = len(batch)
        top = generator().integers(spare_h + 1, size=n)
        left = generator().integers(spare_w + 1, size=n)
        rows = (top[:, None] + numpy.arange(height))[:, None, :, None]
        cols = (left[:, None] + numpy.arange(width))[:, None, None, :]
        channels = numpy.arange(batch.shape[1])[None, :, None, None]
        return restore(padded[numpy.arange(n)[:, None, None, None], channels, rows, cols])
