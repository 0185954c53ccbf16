"""Pooling on the GPU (kernels/pool.cu). Inputs are (N, C, H, W); the caller computes the
output size (ceil_mode included), so the kernels only follow the window arithmetic."""
from ..backend import array_module
from ..backend.cuda_kernels import get_kernel, int32, launch


def _window(kernel, stride, padding, dilation=None):
    values = (*kernel, *stride, *padding) + (tuple(dilation) if dilation is not None else ())
    return tuple(int32(v) for v in values)


def max_pool2d_forward(x, out_size, kernel, stride, padding, dilation):
    """Returns (y, argmax) with argmax the flat index iy * W + ix within each plane."""
    cupy = array_module(x)
    x = cupy.ascontiguousarray(x)
    n, c, h, w = x.shape
    y = cupy.empty((n, c, *out_size), dtype=x.dtype)
    argmax = cupy.empty((n, c, *out_size), dtype=cupy.int64)
    launch(get_kernel("pool", "max_pool2d_forward", x.dtype), y.size, x, y, argmax,
           int32(n * c), int32(h), int32(w), int32(out_size[0]), int32(out_size[1]),
           *_window(kernel, stride, padding, dilation))
    return y, argmax


def max_pool2d_backward(gy, argmax, input_shape, kernel, stride, padding, dilation):
    cupy = array_module(gy)
    gy = cupy.ascontiguousarray(gy)
    n, c, h, w = input_shape
    gx = cupy.empty(input_shape, dtype=gy.dtype)
    launch(get_kernel("pool", "max_pool2d_backward", gy.dtype), gx.size, gy,
           cupy.ascontiguousarray(argmax), gx, int32(n * c), int32(h), int32(w),
           int32(gy.shape[2]), int32(gy.shape[3]), *_window(kernel, stride, padding, dilation))
    return gx


def avg_pool2d_forward(x, out_size, kernel, stride, padding, count_include_pad,
                       divisor_override=None):
    cupy = array_module(x)
    x = cupy.ascontiguousarray(x)
    n, c, h, w = x.shape
    y = cupy.empty((n, c, *out_size), dtype=x.dtype)
    launch(get_kernel("pool", "avg_pool2d_forward", x.dtype), y.size, x, y,
           int32(n * c), int32(h), int32(w), int32(out_size[0]), int32(out_size[1]),
           *_window(kernel, stride, padding), cupy.bool_(count_include_pad),
           int32(divisor_override or 0))
    return y


def avg_pool2d_backward(gy, input_shape, kernel, stride, padding, count_include_pad,
                        divisor_override=None):
    cupy = array_module(gy)
    gy = cupy.ascontiguousarray(gy)
    n, c, h, w = input_shape
    gx = cupy.empty(input_shape, dtype=gy.dtype)
    launch(get_kernel("pool", "avg_pool2d_backward", gy.dtype), gx.size, gy, gx,
           int32(n * c), int32(h), int32(w), int32(gy.shape[2]), int32(gy.shape[3]),
           *_window(kernel, stride, padding), cupy.bool_(count_include_pad),
           int32(divisor_override or 0))
    return gx


def adaptive_pool2d_forward(x, out_size, take_max):
    """Adaptive average or max pooling; returns (y, argmax), argmax None for averages."""
    cupy = array_module(x)
    x = cupy.ascontiguousarray(x)
    n, c, h, w = x.shape
    y = cupy.empty((n, c, *out_size), dtype=x.dtype)
    argmax = cupy.empty(y.shape, dtype=cupy.int64) if take_max else cupy.empty(1, dtype=cupy.int64)
    launch(get_kernel("pool", "adaptive_pool2d_forward", x.dtype), y.size, x, y, argmax,
           cupy.bool_(take_max), int32(n * c), int32(h), int32(w),
           int32(out_size[0]), int32(out_size[1]))
    return y, (argmax if take_max else None)


def adaptive_pool2d_backward(gy, argmax, input_shape, take_max):
    cupy = array_module(gy)
    gy = cupy.ascontiguousarray(gy)
    n, c, h, w = input_shape
    gx = cupy.empty(input_shape, dtype=gy.dtype)
    argmax = cupy.ascontiguousarray(argmax) if take_max else cupy.empty(1, dtype=cupy.int64)
    launch(get_kernel("pool", "adaptive_pool2d_backward", gy.dtype), gx.size, gy, argmax, gx,
           cupy.bool_(take_max), int32(n * c), int32(h), int32(w),
           int32(gy.shape[2]), int32(gy.shape[3]))
    return gx
