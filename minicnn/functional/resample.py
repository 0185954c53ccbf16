"""Resampling: interpolate (resize) the spatial dims of (N, C, ...) tensors, as torch's.

Each output position o along a dim of input size `size` and output size `out` reads:

    nearest   src = min(floor(o * scale), size - 1), computed in float32 as PyTorch does,
              with scale = 1 / scale_factor if given, else size / out
    linear    real = scale * o                                  (align_corners=True,
                     with scale = (size - 1) / (out - 1))
              real = max(scale * (o + 0.5) - 0.5, 0)            (align_corners=False,
                     scale = 1 / scale_factor or size / out: pixel centres line up)
              i0 = min(floor(real), size - 1), i1 = min(i0 + 1, size - 1),
              y = (1 - t) x[i0] + t x[i1] with t = real - i0

In the linear modes a dim whose size does not change is copied, whatever the scale
(PyTorch's rule; _nearest documents the nearest kernels' own shortcuts).
Bilinear and trilinear are this 1-d rule along every dim: the output is the sum over the
2^d corners of a gather from the input times the product of the corner's weights. The
gathers are GatherPlanes (pool.py), whose gradient is the scatter-add of dL/dy to the
positions read, so interpolate's backward (and its double backward) come from those ops.
"""
import itertools
import math
import numbers

import numpy

from ..autograd import Tensor
from ..backend import array_module
from .pool import GatherPlanes, expand_argument

__all__ = ["interpolate"]

# mode -> the number of spatial dims it works on (None: any of 1, 2, 3).
_MODES = {"nearest": None, "linear": 1, "bilinear": 2, "trilinear": 3}


def _nearest(size, out, scale, shortcuts):
    """PyTorch's 2-d kernel (shortcuts=True) copies an unchanged dim and takes o // 2 for an
    exact doubling whatever the scale_factor; its 1-d and 3-d kernels always use the scale."""
    if shortcuts and out in (size, 2 * size):
        return [(numpy.arange(out) * size // out, None)]
    scale32 = numpy.float32(1.0 / scale) if scale else numpy.float32(size) / numpy.float32(out)
    source = numpy.floor(numpy.arange(out, dtype=numpy.float32) * scale32).astype(numpy.int64)
    return [(numpy.minimum(source, size - 1), None)]


def _linear(size, out, scale, align_corners):
    if out == size:
        return [(numpy.arange(out), numpy.ones(out)), (numpy.arange(out), numpy.zeros(out))]
    o = numpy.arange(out, dtype=numpy.float64)
    if align_corners:
        real = o * ((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        step = 1.0 / scale if scale else size / out
        real = numpy.maximum(step * (o + 0.5) - 0.5, 0.0)
    low = numpy.minimum(numpy.floor(real).astype(numpy.int64), size - 1)
    high = numpy.minimum(low + 1, size - 1)
    t = numpy.clip(real - low, 0.0, 1.0)
    return [(low, 1.0 - t), (high, t)]


def _sizes(input, size, scale_factor, spatial):
    if (size is None) == (scale_factor is None):
        given = "both" if size is not None else "neither"
        raise ValueError(f"interpolate: give exactly one of size and scale_factor, got {given}")
    in_plane = tuple(input.shape[2:])
    if size is not None:
        return expand_argument("interpolate", "size", size, spatial), (None,) * spatial
    scales = (scale_factor,) * spatial if isinstance(scale_factor, numbers.Real) else tuple(scale_factor)
    if len(scales) != spatial or not all(isinstance(s, numbers.Real) and s > 0 for s in scales):
        raise ValueError(f"interpolate: scale_factor must be a positive number or {spatial} "
                         f"of them for input {tuple(input.shape)}, got {scale_factor!r}")
    out = tuple(math.floor(n * s) for n, s in zip(in_plane, scales))
    if min(out) < 1:
        raise ValueError(f"interpolate: scale_factor {scale_factor!r} gives an empty output "
                         f"{out} for input {tuple(input.shape)}")
    return out, tuple(float(s) for s in scales)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """Resize the spatial dims of an (N, C, L), (N, C, H, W) or (N, C, D, H, W) input.

    Give the output `size` or a `scale_factor` (output = floor(input * scale_factor)).
    mode: 'nearest' (any of those ranks), 'linear' (3-D), 'bilinear' (4-D), 'trilinear' (5-D).
    align_corners (linear modes only, default False): map the corner pixels' centres onto
    each other instead of the image edges. recompute_scale_factor=True derives the scale
    from the sizes instead of using scale_factor.
    dL/dx: each dL/dy times its interpolation weight, added to the input positions read.
    """
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    spatial = input.ndim - 2
    expected = _MODES[mode]
    if (expected is None and spatial not in (1, 2, 3)) or expected not in (None, spatial):
        dims = f"{expected + 2}-D" if expected else "3-D, 4-D or 5-D"
        raise ValueError(f"interpolate: mode {mode!r} needs a {dims} (N, C, ...) input, got "
                         f"shape {tuple(input.shape)}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners can only be set with the linear modes "
                         "(linear, bilinear, trilinear), not with 'nearest'")
    out_plane, scales = _sizes(input, size, scale_factor, spatial)
    if recompute_scale_factor:
        scales = (None,) * spatial
    in_plane = tuple(input.shape[2:])
    per_dim = [_nearest(n, o, s, spatial == 2) if mode == "nearest" else _linear(n, o, s, bool(align_corners))
               for n, o, s in zip(in_plane, out_plane, scales)]
    xp = array_module(input.data)
    result = None
    for corner in itertools.product(*per_dim):
        index = numpy.ravel_multi_index(numpy.ix_(*[p for p, _ in corner]), in_plane)
        term = GatherPlanes(xp.asarray(index.reshape(1, -1)), in_plane, out_plane)(input)
        if mode != "nearest":
            weight = numpy.ones(()).reshape((1,) * spatial)
            for axis, (_, w) in enumerate(corner):
                weight = weight * w.reshape([-1 if k == axis else 1 for k in range(spatial)])
            term = term * Tensor(xp.asarray(weight.astype(input.dtype)))
        result = term if result is None else result + term
    return result
