"""RoIAlign and RoIPool on the GPU (kernels/roi_align.cu), with the same functions and
arguments as cpu_kernels/roi_align_numba.py: x (N, C, H, W), rois (K, 5) rows
(n, x0, y0, x1, y1), uploaded as float64 here."""
import numpy

from ..backend import array_module
from ..backend.cuda_kernels import get_kernel, int32, int64, launch


def _sizes(rois, shape, output_size):
    return (int64(len(rois)), int32(shape[1]), int32(shape[2]), int32(shape[3]),
            int32(output_size[0]), int32(output_size[1]))


def roi_align_forward(x, rois, spatial_scale, output_size, sampling_ratio, aligned):
    cupy = array_module(x)
    x = cupy.ascontiguousarray(x)
    rois = cupy.ascontiguousarray(cupy.asarray(rois), dtype=numpy.float64)
    y = cupy.empty((len(rois), x.shape[1]) + tuple(output_size), dtype=x.dtype)
    launch(get_kernel("roi_align", "roi_align_forward", x.dtype), y.size, x, rois,
           numpy.float64(spatial_scale), int32(sampling_ratio), int32(bool(aligned)), y,
           *_sizes(rois, x.shape, output_size))
    return y


def roi_align_backward(gy, rois, spatial_scale, sampling_ratio, aligned, input_shape):
    cupy = array_module(gy)
    gy = cupy.ascontiguousarray(gy)
    rois = cupy.ascontiguousarray(cupy.asarray(rois), dtype=numpy.float64)
    gx = cupy.zeros(tuple(input_shape), dtype=gy.dtype)
    launch(get_kernel("roi_align", "roi_align_backward", gy.dtype), gy.size, gy, rois,
           numpy.float64(spatial_scale), int32(sampling_ratio), int32(bool(aligned)), gx,
           *_sizes(rois, input_shape, gy.shape[2:]))
    return gx


def roi_pool_forward(x, rois, spatial_scale, output_size):
    cupy = array_module(x)
    x = cupy.ascontiguousarray(x)
    rois = cupy.ascontiguousarray(cupy.asarray(rois), dtype=numpy.float64)
    values = cupy.empty((len(rois), x.shape[1]) + tuple(output_size), dtype=x.dtype)
    index = cupy.empty(values.shape, dtype=numpy.int64)
    launch(get_kernel("roi_align", "roi_pool_forward", x.dtype), values.size, x, rois,
           numpy.float64(spatial_scale), values, index, *_sizes(rois, x.shape, output_size))
    return values, index
