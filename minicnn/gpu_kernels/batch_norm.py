"""Batch-norm statistics and backward on the GPU (kernels/batch_norm.cu).

Data of shape (N, C, *) is treated as C channels of N * L values, L the product of the
trailing dimensions. The reductions launch one block per channel.
"""
import math

from ..backend import array_module
from ..backend.cuda_kernels import get_kernel, int32, launch


def _layout(x):
    return int32(x.shape[0]), int32(x.shape[1]), int32(math.prod(x.shape[2:]))


def _reduction_block(kernel, dtype):
    """Threads per block of a reduction kernel: exactly the length of its __shared__ array.

    The reductions keep one value per thread in that array and halve it as a tree, so a
    larger block would write past it (into memory that no guard band watches, even on the
    emulator) and a block that is not a power of two would drop values. The compiler reports
    the array's size as kernel.shared_size_bytes, on CuPy and on the emulator alike.
    """
    threads = kernel.shared_size_bytes // dtype.itemsize
    if threads < 1 or threads & (threads - 1):
        raise RuntimeError(f"batch_norm: the reduction kernel's __shared__ array holds {threads} "
                           "values; the tree sum needs a power of two")
    return threads


def batch_norm_stats(x):
    """Per-channel mean and biased variance of x (N, C, *)."""
    cupy = array_module(x)
    x = cupy.ascontiguousarray(x)
    mean = cupy.empty(x.shape[1], dtype=x.dtype)
    var = cupy.empty(x.shape[1], dtype=x.dtype)
    kernel = get_kernel("batch_norm", "batch_norm_stats", x.dtype)
    launch(kernel, 0, x, mean, var, *_layout(x), grid=x.shape[1],
           block=_reduction_block(kernel, x.dtype))
    return mean, var


def batch_norm_backward(gy, x, mean, invstd, weight):
    """Returns (grad_input, grad_weight, grad_bias) of y = (x - mean) * invstd * weight + bias."""
    cupy = array_module(x)
    gy, x = cupy.ascontiguousarray(gy), cupy.ascontiguousarray(x)
    channels = x.shape[1]
    sum_gy = cupy.empty(channels, dtype=x.dtype)
    sum_gy_xhat = cupy.empty(channels, dtype=x.dtype)
    kernel = get_kernel("batch_norm", "batch_norm_backward_reduce", x.dtype)
    launch(kernel, 0, gy, x, mean, invstd, sum_gy, sum_gy_xhat, *_layout(x), grid=channels,
           block=_reduction_block(kernel, x.dtype))
    gx = cupy.empty_like(x)
    weight = cupy.ones(channels, dtype=x.dtype) if weight is None else cupy.ascontiguousarray(weight)
    launch(get_kernel("batch_norm", "batch_norm_backward_input", x.dtype), x.size, gy, x, mean,
           invstd, weight, sum_gy, sum_gy_xhat, gx, *_layout(x))
    return gx, sum_gy_xhat, sum_gy
