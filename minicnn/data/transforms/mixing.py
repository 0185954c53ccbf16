"""Batch-level augmentation that mixes two images and their labels: MixUp and CutMix.

Both work on a whole batch (images (N, C, H, W), labels) and return soft labels: class
probabilities (N, num_classes), which `minicnn.functional.cross_entropy` takes as its
target directly. As in torchvision.transforms.v2, one lambda is drawn per batch and each
image is mixed with its neighbour in the batch (the batch rolled by one place); the
loader's shuffling makes those pairs random. Give them to a DataLoader as
`batch_transform=`, so that they see the batch after it has been gathered.
"""
import numpy

from ...autograd import Tensor
from ...backend import to_numpy
from ...backend.random import generator

# Soft labels are sums of float32 products: allow rounding, not a missing class.
PROBABILITY_TOLERANCE = 1e-3


class _Mixing:
    """What MixUp and CutMix share: alpha and num_classes checked, labels made probabilities."""

    def __init__(self, alpha=1.0, num_classes=None):
        op = type(self).__name__
        if not alpha > 0:
            raise ValueError(f"{op}: 'alpha' must be > 0 (the Beta(alpha, alpha) distribution "
                             f"of lambda), got {alpha}")
        if num_classes is not None and not (isinstance(num_classes, int) and num_classes > 0):
            raise ValueError(f"{op}: 'num_classes' must be a positive int, got {num_classes!r}")
        self.alpha, self.num_classes = alpha, num_classes

    def __call__(self, images, labels):
        """(mixed images, soft labels (N, num_classes)), as arrays or Tensors like the input."""
        as_tensor = isinstance(images, Tensor)
        images, probabilities = self._check(images, labels)
        images, probabilities = self.mix(images, probabilities)
        return (Tensor(images), Tensor(probabilities)) if as_tensor else (images, probabilities)

    def _check(self, images, labels):
        op = type(self).__name__
        images = to_numpy(images.data) if isinstance(images, Tensor) else numpy.asarray(images)
        labels = to_numpy(labels.data) if isinstance(labels, Tensor) else numpy.asarray(labels)
        if images.ndim != 4:
            raise ValueError(f"{op}: 'images' must be a batch (N, C, H, W), got shape "
                             f"{images.shape}")
        count = len(images)
        if labels.dtype.kind in "iu":
            return images, self._one_hot(labels, count)
        classes = self.num_classes or (labels.shape[-1] if labels.ndim == 2 else None)
        if labels.shape != (count, classes):
            raise ValueError(f"{op}: 'labels' must be class indices ({count},) or class "
                             f"probabilities ({count}, num_classes={self.num_classes}), got "
                             f"shape {labels.shape}")
        sums = labels.sum(axis=1)
        wrong = (numpy.abs(sums - 1) > PROBABILITY_TOLERANCE) | (labels < 0).any(axis=1)
        if wrong.any():
            n = int(numpy.argmax(wrong))
            raise ValueError(f"{op}: 'labels' as class probabilities must be >= 0 and sum to 1 "
                             f"in every row; row {n} sums to {sums[n]:.6g} (min "
                             f"{labels[n].min():.6g})")
        return images, labels.astype(images.dtype)

    def _one_hot(self, labels, count):
        op = type(self).__name__
        if self.num_classes is None:
            raise ValueError(f"{op}: 'num_classes' is needed to turn class indices into "
                             f"probabilities; give {op}(..., num_classes=C)")
        if labels.shape != (count,):
            raise ValueError(f"{op}: 'labels' of class indices must have shape ({count},), got "
                             f"{labels.shape}")
        if count and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(f"{op}: 'labels' must lie in [0, {self.num_classes}), got values "
                             f"{labels.min()}..{labels.max()}")
        return numpy.eye(self.num_classes, dtype=numpy.float32)[labels]

    def __repr__(self):
        return f"{type(self).__name__}(alpha={self.alpha}, num_classes={self.num_classes})"


class MixUp(_Mixing):
    """MixUp (Zhang et al. 2018): lambda ~ Beta(alpha, alpha) per batch, and

        x_n = lambda x_n + (1 - lambda) x_{n-1},   y_n = lambda y_n + (1 - lambda) y_{n-1}

    (y one-hot, or given probabilities). labels: class indices (N,), with num_classes, or
    class probabilities (N, num_classes).
    """

    def mix(self, images, probabilities):
        lam = generator().beta(self.alpha, self.alpha)
        mixed = lam * images + (1 - lam) * numpy.roll(images, 1, axis=0)
        labels = lam * probabilities + (1 - lam) * numpy.roll(probabilities, 1, axis=0)
        return mixed.astype(images.dtype), labels.astype(probabilities.dtype)


class CutMix(_Mixing):
    """CutMix (Yun et al. 2019): paste a box of the neighbouring image into each image.

    lambda ~ Beta(alpha, alpha) (alpha = 1: uniform) per batch; the box is centred at a
    uniform pixel (cx, cy), with half sides int(sqrt(1 - lambda) W / 2) and
    int(sqrt(1 - lambda) H / 2), clipped to the image; then lambda = 1 - box area / (H W),
    the share of the image that is still its own, mixes the labels as in MixUp.
    """

    def mix(self, images, probabilities):
        height, width = images.shape[-2:]
        lam = generator().beta(self.alpha, self.alpha)
        centre_x, centre_y = generator().integers(width), generator().integers(height)
        half = 0.5 * numpy.sqrt(1.0 - lam)
        half_w, half_h = int(half * width), int(half * height)
        x0, x1 = max(centre_x - half_w, 0), min(centre_x + half_w, width)
        y0, y1 = max(centre_y - half_h, 0), min(centre_y + half_h, height)
        mixed = images.copy()
        mixed[..., y0:y1, x0:x1] = numpy.roll(images, 1, axis=0)[..., y0:y1, x0:x1]
        lam = 1.0 - (x1 - x0) * (y1 - y0) / (width * height)
        labels = lam * probabilities + (1 - lam) * numpy.roll(probabilities, 1, axis=0)
        return mixed, labels.astype(probabilities.dtype)
