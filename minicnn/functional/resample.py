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
Bilinear and trilinear apply this 1-d rule along each dim in turn, each step a sum of
two weighted gathers. The gathers are GatherPlanes (pool.py), whose gradient is the
scatter-add of dL/dy to the positions read, so interpolate's backward (and its double
backward) come from those ops and the multiplications by constant weights.
"""
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
        source = numpy.arange(out) * size // out
    else:
        scale32 = numpy.float32(1.0 / scale) if scale else numpy.float32(size) / numpy.float32(out)
        source = numpy.floor(numpy.arange(out, dtype=numpy.float32) * scale32).astype(numpy.int64)
        source = numpy.minimum(source, size - 1)
    return None if numpy.array_equal(source, numpy.arange(size)) else [(source, None)]


def _linear(size, out, scale, align_corners):
    if out == size:
        return None
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


def _along_axis(x, axis, terms, plane):
    """sum over terms of weight * x[..., positions, ...] along spatial `axis` of `plane`."""
    xp = array_module(x.data)
    grids = [numpy.arange(n) for n in plane]
    out_plane = tuple(len(terms[0][0]) if k == axis else n for k, n in enumerate(plane))
    result = None
    for positions, weight in terms:
        grids[axis] = positions
        index = numpy.ravel_multi_index(numpy.ix_(*grids), plane).reshape(1, -1)
        term = GatherPlanes(xp.asarray(index), plane, out_plane)(x)
        if weight is not None:
            shape = [-1 if k == axis else 1 for k in range(len(plane))]
            term = term * Tensor(xp.asarray(weight.astype(x.dtype).reshape(shape)))
        result = term if result is None else result + term
    return result


def _sizes(input, size, scale_factor, spatial):
    if (size is None) == (scale_factor is None):
        given = "both" if size is not None else "neither"
        raise ValueError(f"interpolate: give exactly one of size and scale_factor, got {given}")
    in_plane = tuple(input.shape[2:])
    if size is not None:
        return expand_argument("interpolate", "size", size, spatial), (None,) * spatial
    scales = ((scale_factor,) * spatial if isinstance(scale_factor, numbers.Real)
              else tuple(scale_factor))
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
    result = input
    # The last dim first, as PyTorch sums: h0 (w0 x00 + w1 x01) + h1 (w0 x10 + w1 x11).
    for axis in reversed(range(spatial)):
        n, out, scale = input.shape[2 + axis], out_plane[axis], scales[axis]
        terms = (_nearest(n, out, scale, spatial == 2) if mode == "nearest"
                 else _linear(n, out, scale, bool(align_corners)))
        if terms is not None:           # None: the dim is copied unchanged
            result = _along_axis(result, axis, terms, tuple(result.shape[2:]))
    if result is input:                 # a new tensor even so, as PyTorch returns one
        result = _along_axis(input, 0, [(numpy.arange(input.shape[2]), None)], out_plane)
    return result
