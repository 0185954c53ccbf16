"""Occlusion (Zeiler & Fergus 2014): slide a window over the image, replace what it covers by
a baseline, and see how much the class score drops. No gradient is involved, so it explains
even a model whose gradients are uninformative; it costs one forward pass per window.

    attribution[p] = mean, over the windows w that cover p, of y_c(x) - y_c(x with w occluded)

The windows are Captum's: along each dimension of an image (C, H, W) the window starts at
0, stride, 2 stride, ... for ceil((size - window) / stride) + 1 positions, and the last one
may stick out of the image (it is cut at the border).
"""
import itertools
import math

import numpy

from ..autograd import Tensor, no_grad
from ..backend import array_module, to_numpy
from .attribution import Attribution
from .checks import check_baseline, check_number


def window_slices(op, image_shape, window, stride):
    """The windows as tuples of slices over an image (C, H, W). `window` and `stride`: one
    number for every dimension, (h, w) for all channels at once, or (c, h, w)."""
    window = _per_dimension(op, "window", window, image_shape)
    stride = _per_dimension(op, "stride", stride, image_shape)
    starts = []
    for size, length, step, axis in zip(image_shape, window, stride, "CHW"):
        if length > size:
            raise ValueError(f"{op}: the window {window} is larger than the image "
                             f"{tuple(image_shape)} along {axis}")
        if step > length and length < size:
            raise ValueError(f"{op}: stride {stride} is larger than the window {window} along "
                             f"{axis}, so some pixels would never be occluded")
        starts.append([i * step for i in range(math.ceil((size - length) / step) + 1)])
    return [tuple(slice(start, start + length) for start, length in zip(corner, window))
            for corner in itertools.product(*starts)]


def _per_dimension(op, name, value, image_shape):
    values = (value,) * 2 if numpy.ndim(value) == 0 else tuple(value)
    if len(values) == 2:                         # (h, w): across all the channels
        values = (image_shape[0] if name == "window" else 1,) + values
    if len(values) != 3:
        raise ValueError(f"{op}: {name} must be a number, (h, w) or (c, h, w), got {value!r}")
    for size in values:
        check_number(op, name, size, low=1, integer=True)
    return values


class Occlusion(Attribution):
    """Occlusion by a `window` ((h, w) or (c, h, w)) moved by `stride`, filled with `baseline`
    (a number or an array broadcastable to the inputs); `batch_size` occluded images per
    forward pass."""

    def attribute(self, inputs, target, window=(4, 4), stride=2, baseline=0.0, batch_size=256):
        check_number(self.name, "batch_size", batch_size, low=1, integer=True)
        x = inputs.data
        xp = array_module(x)
        count = len(x)
        windows = window_slices(self.name, x.shape[1:], window, stride)
        baseline = check_baseline(self.name, baseline, x)
        targets = self.targets(inputs, target)
        rows = numpy.arange(count)
        with no_grad():
            original = to_numpy(self.model(inputs).data)[rows, targets]
        total, covered = xp.zeros_like(x), xp.zeros(x.shape[1:], dtype=x.dtype)
        per_pass = max(1, batch_size // count)
        for start in range(0, len(windows), per_pass):
            chunk = windows[start:start + per_pass]
            occluded = xp.repeat(x[None], len(chunk), axis=0)      # (windows, N, C, H, W)
            for index, region in enumerate(chunk):
                occluded[(index, slice(None)) + region] = baseline[(slice(None),) + region]
            with no_grad():
                scores = to_numpy(self.model(Tensor(occluded.reshape((-1,) + x.shape[1:]))).data)
            drops = original - scores.reshape(len(chunk), count, -1)[:, rows, targets]
            for region, drop in zip(chunk, xp.asarray(drops, dtype=x.dtype)):
                total[(slice(None),) + region] += drop[:, None, None, None]
                covered[region] += 1
        return total / covered
