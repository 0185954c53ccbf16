"""Nearest and bilinear upsampling on the GPU (kernels/upsample.cu).

`scales` are the source-coordinate scales (scale_h, scale_w) computed by the op with
PyTorch's rules; the backward kernels scatter into a zeroed gradient with atomicAdd.
"""
import numpy

from ..backend import array_module
from ..backend.cuda_kernels import get_kernel, int32, launch


def _arguments(planes, in_size, out_size, scales):
    return (int32(planes), int32(in_size[0]), int32(in_size[1]), int32(out_size[0]),
            int32(out_size[1]), numpy.float32(scales[0]), numpy.float32(scales[1]))


def upsample_forward(x, out_size, scales, mode, align_corners=False):
    cupy = array_module(x)
    x = cupy.ascontiguousarray(x)
    n, c, h, w = x.shape
    y = cupy.empty((n, c, *out_size), dtype=x.dtype)
    extra = () if mode == "nearest" else (cupy.bool_(align_corners),)
    launch(get_kernel("upsample", f"upsample_{mode}2d_forward", x.dtype), y.size, x, y,
           *_arguments(n * c, (h, w), out_size, scales), *extra)
    return y


def upsample_backward(gy, input_shape, scales, mode, align_corners=False):
    cupy = array_module(gy)
    gy = cupy.ascontiguousarray(gy)
    n, c, h, w = input_shape
    gx = cupy.zeros(input_shape, dtype=gy.dtype)
    extra = () if mode == "nearest" else (cupy.bool_(align_corners),)
    launch(get_kernel("upsample", f"upsample_{mode}2d_backward", gy.dtype), gy.size, gy, gx,
           *_arguments(n * c, (h, w), gy.shape[2:], scales), *extra)
    return gx
