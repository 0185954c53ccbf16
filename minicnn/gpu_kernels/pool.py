"""Pooling and index scatter on the GPU (kernels/pool.cu), with the same functions and
arguments as cpu_kernels/pool_numba.py: planes (P, H, W), windows rows/cols =
(start, count, step) along each axis (NumPy arrays, uploaded here), divisor (out_h, out_w)."""
import numpy

from ..backend import array_module
from ..backend.cuda_kernels import get_kernel, int32, int64, launch


def _windows(cupy, rows, cols):
    (row_start, row_count, row_step), (col_start, col_count, col_step) = rows, cols
    return (cupy.asarray(row_start, dtype=numpy.int64), cupy.asarray(row_count, dtype=numpy.int64),
            int64(row_step), cupy.asarray(col_start, dtype=numpy.int64),
            cupy.asarray(col_count, dtype=numpy.int64), int64(col_step))


def _sizes(planes, in_size, out_size):
    return (int64(planes), int32(in_size[0]), int32(in_size[1]), int32(out_size[0]),
            int32(out_size[1]))


def max_pool(x, rows, cols):
    """x (P, H, W) -> (values, index), both (P, out_h, out_w); index = h * W + w."""
    cupy = array_module(x)
    x = cupy.ascontiguousarray(x)
    out_size = (len(rows[0]), len(cols[0]))
    out = cupy.empty((x.shape[0],) + out_size, dtype=x.dtype)
    index = cupy.empty(out.shape, dtype=numpy.int64)
    launch(get_kernel("pool", "max_pool_planes", x.dtype), out.size, x, *_windows(cupy, rows, cols),
           out, index, *_sizes(x.shape[0], x.shape[1:], out_size))
    return out, index


def avg_pool(x, rows, cols, divisor):
    cupy = array_module(x)
    x = cupy.ascontiguousarray(x)
    out_size = (len(rows[0]), len(cols[0]))
    out = cupy.empty((x.shape[0],) + out_size, dtype=x.dtype)
    launch(get_kernel("pool", "avg_pool_planes", x.dtype), out.size, x, *_windows(cupy, rows, cols),
           cupy.asarray(divisor, dtype=numpy.float64), out,
           *_sizes(x.shape[0], x.shape[1:], out_size))
    return out


def avg_pool_backward(gy, rows, cols, divisor, in_size):
    cupy = array_module(gy)
    gy = cupy.ascontiguousarray(gy)
    gx = cupy.zeros((gy.shape[0],) + tuple(in_size), dtype=gy.dtype)
    launch(get_kernel("pool", "avg_pool_backward_planes", gy.dtype), gy.size, gy,
           *_windows(cupy, rows, cols), cupy.asarray(divisor, dtype=numpy.float64), gx,
           *_sizes(gy.shape[0], in_size, gy.shape[1:]))
    return gx


def scatter_add(values, index, size):
    """values (P, L), index (P or 1, L) into [0, size) -> (P, size) sums."""
    cupy = array_module(values)
    values = cupy.ascontiguousarray(values)
    out = cupy.zeros((values.shape[0], size), dtype=values.dtype)
    launch(get_kernel("pool", "scatter_add_planes", values.dtype), values.size, values,
           cupy.ascontiguousarray(cupy.asarray(index), dtype=numpy.int64), out,
           int64(values.shape[0]), int64(values.shape[1]), int64(size),
           numpy.bool_(index.shape[0] == 1))
    return out
