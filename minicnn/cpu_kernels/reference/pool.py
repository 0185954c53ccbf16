"""Pooling as its definition: a loop over the output pixels, each window read in one piece.

The arrays are planes (P, H, W), one per (image, channel). A window along one axis is
(start, count, step) (functional/pool.py builds them): output o reads the input positions
start[o] + t * step for t < count[o] that lie inside the plane; padding is skipped.
This is what pool_numba.py and gpu_kernels/pool.py compute, without threads or Numba;
the tests compare them with these functions.
"""
import numpy

from ...backend import array_module


def max_pool(x, rows, cols):
    """values[p, oh, ow] = the max of x[p, h, w] over window (oh, ow), and index[p, oh, ow] =
    h * W + w where it was found: the first in row-major order, or the last NaN if the window
    holds one (PyTorch's rule: a later tap wins when it is larger or NaN).

    x (P, H, W); rows, cols = (start, count, step) -> values and int64 index, (P, out_h, out_w).
    """
    xp = array_module(x)
    planes, height, width = x.shape
    shape = (planes, len(rows[0]), len(cols[0]))
    values, index = xp.empty(shape, x.dtype), xp.empty(shape, xp.int64)
    flat, every_plane = x.reshape(planes, height * width), xp.arange(planes)
    for oh, ow in _outputs(shape):
        where = xp.asarray((_inside(rows, oh, height)[:, None] * width + _inside(cols, ow, width)).ravel())
        window = flat[:, where]                                   # (P, taps) in row-major order
        nan = xp.isnan(window)
        last_nan = window.shape[1] - 1 - nan[:, ::-1].argmax(axis=1)
        # argmax gives the first largest tap (or the first NaN, which the last NaN replaces).
        tap = xp.where(nan.any(axis=1), last_nan, window.argmax(axis=1))
        values[:, oh, ow] = window[every_plane, tap]
        index[:, oh, ow] = where[tap]
    return values, index


def avg_pool(x, rows, cols, divisor):
    """y[p, oh, ow] = (sum of x[p, h, w] over window (oh, ow)) / divisor[oh, ow].

    x (P, H, W), divisor (out_h, out_w) -> (P, out_h, out_w).
    """
    xp = array_module(x)
    planes, height, width = x.shape
    y = xp.empty((planes, len(rows[0]), len(cols[0])), x.dtype)
    for oh, ow in _outputs(y.shape):
        window = x[:, xp.asarray(_inside(rows, oh, height))][:, :, xp.asarray(_inside(cols, ow, width))]
        y[:, oh, ow] = window.sum(axis=(1, 2)) / divisor[oh, ow]
    return y


def avg_pool_backward(gy, rows, cols, divisor, in_size):
    """gx[p, h, w] = sum over the windows (oh, ow) that read (h, w) of gy[p, oh, ow] / divisor[oh, ow]:
    the adjoint of avg_pool, each output gradient shared out over its window.

    gy (P, out_h, out_w), in_size = (H, W) -> gx (P, H, W).
    """
    xp = array_module(gy)
    (height, width) = in_size
    gx = xp.zeros((gy.shape[0], height, width), gy.dtype)
    for oh, ow in _outputs(gy.shape):
        window_rows, window_cols = (xp.asarray(_inside(axis, o, size)) for axis, o, size
                                    in ((rows, oh, height), (cols, ow, width)))
        share = gy[:, oh, ow] / divisor[oh, ow]
        # A window reads each pixel once, so one fancy-indexed add has no repeated targets.
        gx[:, window_rows[:, None], window_cols[None, :]] += share[:, None, None]
    return gx


def scatter_add(values, index, size):
    """out[p, index[q, l]] += values[p, l] for every l, with q = p, or q = 0 when index has one
    row shared by every plane: max pooling's backward (each gradient back to where its max
    was), and the adjoint of a gather.

    values (P, L), index (P or 1, L) into [0, size) -> (P, size).
    """
    xp = array_module(values)
    out = xp.zeros((values.shape[0], size), values.dtype)
    planes = xp.arange(values.shape[0])[:, None]
    xp.add.at(out, (planes, xp.broadcast_to(index, values.shape)), values)   # adds repeated targets
    return out


def _outputs(shape):
    """Every (oh, ow) of an output (P, out_h, out_w), row by row."""
    return [(oh, ow) for oh in range(shape[1]) for ow in range(shape[2])]


def _inside(axis, o, size):
    """The input positions that window o reads along one axis: start + t * step for t < count,
    those in [0, size) only (a NumPy array: the windows are NumPy arrays on every device)."""
    start, count, step = axis
    positions = int(start[o]) + step * numpy.arange(int(count[o]))
    return positions[(positions >= 0) & (positions < size)]
