"""Pooling: max and average over windows, fixed (max_pool2d) or adaptive (adaptive_avg_pool2d).

Pooling treats every (image, channel) plane alike, so the ops reshape (N, C, H, W) to
(N * C, H, W) planes and the kernels loop over planes (cpu_kernels/reference/pool.py is the
plainest statement of each, cpu_kernels/dispatch.py picks the kernel that runs). A window along one axis is (start, count, step): output o reads input
positions start[o] + i * step for i < count[o], those outside the input being padding.

    fixed       start = o * stride - padding,   count = kernel_size,   step = dilation
    adaptive    start = floor(o * H / out),     count = ceil((o + 1) * H / out) - start

Output size of a fixed window, as in PyTorch (ceil_mode rounds up, but the last window
must start inside the input or its left padding, and padding <= kernel_size / 2):

    span = dilation (kernel - 1) + 1
    out = floor((H + 2 padding - span + (stride - 1 if ceil_mode)) / stride) + 1

Gradients: average pooling is linear, y = A x, so dL/dx = A^T dL/dy (AvgPoolBackward) and
that op's own gradient is A again. Max pooling routes each dL/dy to the position its max
came from: a scatter by the saved indices (ScatterPlanes), whose gradient is the gather at
the same indices (GatherPlanes). padding.py and resample.py reuse that gather/scatter pair.
"""
import functools
import numbers
from dataclasses import dataclass
from math import prod

import numpy

from ..autograd import Function
from ..backend import array_module
from ..cpu_kernels import dispatch as kernels

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "global_avg_pool2d"]


@dataclass(frozen=True, eq=False)
class PoolGeometry:
    rows: tuple          # (start, count, step) along H; a single row for 1-d pooling
    cols: tuple          # (start, count, step) along W
    in_plane: tuple      # the pooled trailing dims of the input: (H, W), or (L,) in 1-d
    out_plane: tuple
    divisor: object = None   # (out_h, out_w) float64 array: what average pooling divides by

    def to_planes(self, array, plane):
        """(*lead, *plane) -> ((P, H, W) array, lead), with H = 1 for 1-d planes."""
        lead = array.shape[:array.ndim - len(plane)]
        return array.reshape((-1,) + (1,) * (2 - len(plane)) + tuple(plane)), lead


class MaxPool(Function):
    """y = max of x over each window, and the flat position h * W + w where it was found.
    dL/dx = ScatterPlanes(dL/dy) at those positions (summed where windows overlap).
    (*, H, W) -> values and int64 indices, both (*, out_h, out_w)."""

    saved = {"x": "y1"}                 # self.index is a view of the indices output

    def __init__(self, geometry):
        self.geometry = geometry

    def forward(self, x):
        g = self.geometry
        planes, lead = g.to_planes(x, g.in_plane)
        values, index = kernels.max_pool(planes, g.rows, g.cols)
        self.index = index.reshape(index.shape[0], prod(g.out_plane))
        return values.reshape(lead + g.out_plane), index.reshape(lead + g.out_plane)

    def backward(self, gy, _index_grad):
        g = self.geometry
        return ScatterPlanes(self.index, g.in_plane, g.out_plane)(gy)


class AvgPool(Function):
    """y = (sum of x over each window) / divisor, a linear map y = A x.
    dL/dx = A^T dL/dy = AvgPoolBackward(dL/dy).   (*, H, W) -> (*, out_h, out_w)."""

    saved = {}

    def __init__(self, geometry):
        self.geometry = geometry

    def forward(self, x):
        g = self.geometry
        planes, lead = g.to_planes(x, g.in_plane)
        return kernels.avg_pool(planes, g.rows, g.cols, g.divisor).reshape(lead + g.out_plane)

    def backward(self, gy):
        return AvgPoolBackward(self.geometry)(gy)


class AvgPoolBackward(Function):
    """gx = A^T gy: each output gradient, divided by its divisor, added over its window.
    Its adjoint is A itself: dL/dgy = AvgPool(dL/dgx).   (*, out_h, out_w) -> (*, H, W)."""

    saved = {}

    def __init__(self, geometry):
        self.geometry = geometry

    def forward(self, gy):
        g = self.geometry
        planes, lead = g.to_planes(gy, g.out_plane)
        in_size = (1,) * (2 - len(g.in_plane)) + tuple(g.in_plane)
        gx = kernels.avg_pool_backward(planes, g.rows, g.cols, g.divisor, in_size)
        return gx.reshape(lead + g.in_plane)

    def backward(self, ggx):
        return AvgPool(self.geometry)(ggx)


class GatherPlanes(Function):
    """y[p, l] = x[p, index[q, l]] on planes p (the leading dims) with the trailing dims
    flattened; q = p, or 0 when index has one row shared by every plane.
    dL/dx = ScatterPlanes(dL/dy): each gradient goes back to where its value was read.
    (*, *in_plane) -> (*, *out_plane)."""

    saved = {}

    def __init__(self, index, in_plane, out_plane):
        self.index, self.in_plane, self.out_plane = index, tuple(in_plane), tuple(out_plane)

    def forward(self, x):
        lead = x.shape[:x.ndim - len(self.in_plane)]
        flat = x.reshape(-1, prod(self.in_plane))
        xp = array_module(x)
        if self.index.shape[0] == 1:
            gathered = xp.take(flat, self.index[0], axis=1)
        else:
            gathered = xp.take_along_axis(flat, self.index, axis=1)
        return gathered.reshape(lead + self.out_plane)

    def backward(self, gy):
        return ScatterPlanes(self.index, self.in_plane, self.out_plane)(gy)


class ScatterPlanes(Function):
    """The adjoint of GatherPlanes: y[p, k] = sum of x[p, l] over the l with index[q, l] = k.
    dL/dx = GatherPlanes(dL/dy).   (*, *out_plane) -> (*, *in_plane)."""

    saved = {}

    def __init__(self, index, in_plane, out_plane):
        self.index, self.in_plane, self.out_plane = index, tuple(in_plane), tuple(out_plane)

    def forward(self, x):
        lead = x.shape[:x.ndim - len(self.out_plane)]
        flat = x.reshape(-1, prod(self.out_plane))
        summed = kernels.scatter_add(flat, self.index, prod(self.in_plane))
        return summed.reshape(lead + self.in_plane)

    def backward(self, gy):
        return GatherPlanes(self.index, self.in_plane, self.out_plane)(gy)


# --- arguments and window geometry ---------------------------------------------------------

def expand_argument(op, name, value, count, minimum=1):
    """An int or a sequence of `count` ints (one int is repeated), each at least `minimum`."""
    values = (value,) if isinstance(value, numbers.Integral) else tuple(value)
    values = values * count if len(values) == 1 else values
    if len(values) != count or not all(isinstance(v, numbers.Integral) for v in values):
        raise ValueError(f"{op}: {name} must be an int or {count} ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return tuple(int(v) for v in values)


def check_rank(op, input, spatial):
    """Inputs are (N, C, *spatial) or unbatched (C, *spatial)."""
    if input.ndim not in (spatial + 1, spatial + 2):
        dims = "L" if spatial == 1 else ", ".join("DHW"[-spatial:])
        raise ValueError(f"{op}: expected a {spatial + 1}-D (C, {dims}) or {spatial + 2}-D "
                         f"(N, C, {dims}) input, got shape {tuple(input.shape)}")


def _pooled_size(size, kernel, stride, padding, dilation, ceil_mode):
    span = dilation * (kernel - 1) + 1
    out = (size + 2 * padding - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1          # that window would start in the right padding
    return out


def _fixed_windows(op, input, kernel_size, stride, padding, dilation, ceil_mode, spatial):
    """Per pooled axis (start, count, step) plus the geometry's plane shapes."""
    check_rank(op, input, spatial)
    return _windows_of_shape(op, tuple(input.shape), _hashable(kernel_size), _hashable(stride),
                             _hashable(padding), _hashable(dilation), ceil_mode, spatial)


def _hashable(argument):
    return tuple(argument) if isinstance(argument, list) else argument


@functools.lru_cache(maxsize=256)
def _windows_of_shape(op, shape, kernel_size, stride, padding, dilation, ceil_mode, spatial):
    """_fixed_windows for an input shape, cached: a network pools the same shapes every
    step, and building the windows costs more than pooling a small layer."""
    kernel = expand_argument(op, "kernel_size", kernel_size, spatial)
    stride = (kernel if stride is None or stride == []
              else expand_argument(op, "stride", stride, spatial))
    padding = expand_argument(op, "padding", padding, spatial, minimum=0)
    dilation = expand_argument(op, "dilation", dilation, spatial)
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half of kernel_size {kernel}")
    in_plane = shape[-spatial:]
    out_plane = tuple(_pooled_size(*args, ceil_mode)
                      for args in zip(in_plane, kernel, stride, padding, dilation))
    if min(out_plane) < 1:
        padded = tuple(size + 2 * p for size, p in zip(in_plane, padding))
        raise ValueError(f"{op}: kernel_size {kernel} with dilation {dilation} is larger than the "
                         f"padded input {padded} (input {shape}, padding {padding})")
    windows = [(numpy.arange(out) * s - p, numpy.full(out, k), d)
               for out, k, s, p, d in zip(out_plane, kernel, stride, padding, dilation)]
    for axis, ((start, _, step), size, k) in enumerate(zip(windows, in_plane, kernel)):
        taps = start[:, None] + step * numpy.arange(k)
        empty = numpy.flatnonzero(~((taps >= 0) & (taps < size)).any(axis=1))
        if empty.size:     # dilation can step over a small input: PyTorch gives -inf and an
                           # index outside the input there, which no gradient can use
            dim = len(shape) - spatial + axis
            raise ValueError(f"{op}: window {int(empty[0])} along dim {dim} reads only padding "
                             f"(kernel_size {kernel}, dilation {dilation}, padding {padding}, "
                             f"input {shape})")
    return windows, in_plane, out_plane, kernel, padding


def _geometry(windows, in_plane, out_plane, divisor=None):
    """1-d pooling gets a single row, so that every kernel sees (P, H, W) planes."""
    if len(windows) == 1:
        single = numpy.zeros(1, numpy.int64)
        windows = [(single, single + 1, 1)] + windows
    rows, cols = [(start.astype(numpy.int64), count.astype(numpy.int64), step)
                  for start, count, step in windows]
    return PoolGeometry(rows, cols, in_plane, out_plane, divisor)


def _divisor(factors):
    """The (out_h, out_w) divisor as the outer product of one factor per pooled axis."""
    factors = [numpy.ones(1)] * (2 - len(factors)) + [f.astype(numpy.float64) for f in factors]
    return numpy.outer(*factors)


def _adaptive_geometry(op, input, output_size, spatial, with_divisor):
    check_rank(op, input, spatial)
    in_plane = tuple(input.shape[-spatial:])
    sizes = (output_size,) * spatial if isinstance(output_size, numbers.Integral) else output_size
    sizes = tuple(in_plane[k] if size is None else size for k, size in enumerate(sizes))
    out_plane = expand_argument(op, "output_size", sizes, spatial)
    windows = []
    for size, out in zip(in_plane, out_plane):
        o = numpy.arange(out)
        start, end = o * size // out, -(-(o + 1) * size // out)
        windows.append((start, end - start, 1))
    divisor = _divisor([count for _, count, _ in windows]) if with_divisor else None
    return _geometry(windows, in_plane, out_plane, divisor)


def _max_pool(op, spatial, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    windows, in_plane, out_plane, _, _ = _fixed_windows(op, input, kernel_size, stride, padding,
                                                        dilation, ceil_mode, spatial)
    values, indices = MaxPool(_geometry(windows, in_plane, out_plane))(input)
    return (values, indices) if return_indices else values


def _adaptive_max(op, spatial, input, output_size, return_indices):
    values, indices = MaxPool(_adaptive_geometry(op, input, output_size, spatial, False))(input)
    return (values, indices) if return_indices else values


def _avg_pool(op, spatial, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    windows, in_plane, out_plane, kernel, pads = _fixed_windows(
        op, input, kernel_size, stride, padding, 1, ceil_mode, spatial)
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must not be zero")
        divisor = numpy.full((1,) * (2 - spatial) + out_plane, float(divisor_override))
    else:
        factors = []
        for (start, _, _), size, k, p in zip(windows, in_plane, kernel, pads):
            end = numpy.minimum(start + k, size + p)    # PyTorch counts padding, not overhang
            factors.append(end - start if count_include_pad
                           else numpy.minimum(end, size) - numpy.maximum(start, 0))
        divisor = _divisor(factors)
    geometry = _geometry(windows, in_plane, out_plane, divisor)
    return AvgPool(geometry)(input)


# --- public functions ----------------------------------------------------------------------

def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over kernel_size windows moved by stride (default kernel_size), as torch's.

    (N, C, H, W) or (C, H, W) -> (..., out_h, out_w); with return_indices also the flat
    index h * W + w of each max within its plane (int64, no gradient). Padding counts as
    -inf and must be at most half the kernel. dL/dx: dL/dy added at the max positions.
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """max_pool2d along the last dim only: (N, C, L) or (C, L) -> (..., out_l)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over kernel_size windows moved by stride (default kernel_size), as torch's.

    The divisor is the window's size clipped to the padded input (count_include_pad=True),
    the number of real input pixels in it (False), or divisor_override.
    dL/dx: each dL/dy / divisor added over its window.
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """avg_pool2d along the last dim only: (N, C, L) or (C, L) -> (..., out_l)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def adaptive_avg_pool2d(input, output_size):
    """Mean over the windows [floor(i H / out), ceil((i + 1) H / out)) (and the same along W)
    that give exactly output_size (an int, or (out_h, out_w) where None keeps that size)."""
    return AvgPool(_adaptive_geometry("adaptive_avg_pool2d", input, output_size, 2, True))(input)


def adaptive_avg_pool1d(input, output_size):
    return AvgPool(_adaptive_geometry("adaptive_avg_pool1d", input, output_size, 1, True))(input)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over adaptive_avg_pool2d's windows; indices as in max_pool2d."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def global_avg_pool2d(input):
    """The mean over H and W of every channel: (N, C, H, W) -> (N, C, 1, 1).

    The same as adaptive_avg_pool2d(input, 1); the singleton dims are kept, as PyTorch's
    AdaptiveAvgPool2d(1) keeps them, so a flatten usually follows.
    """
    return AvgPool(_adaptive_geometry("global_avg_pool2d", input, 1, 2, True))(input)
