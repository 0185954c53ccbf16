"""Convolution on the GPU: the CUDA im2col/col2im of kernels/im2col.cu plus cuBLAS GEMMs.

The same three products as cpu_kernels/im2col.py, in a per-image layout that needs no
transposes for the forward pass:

    col[n]      = im2col(x[n])                      (C * kernel_h * kernel_w, out_h * out_w)
    forward     y[n, g]  = W_g @ col[n, g]           batched over n by cupy.matmul (cuBLAS)
    input grad  col[n, g] = W_g^T @ gy[n, g], then col2im
    weight grad gW_g = sum_n gy[n, g] @ col[n, g]^T  (one GEMM over N * out pixels)

`geometry` is the ConvGeometry of cpu_kernels/conv_geometry.py. Only the top and left
padding enter the kernels: the bottom and right padding are the reads past the input
that the output size implies, which im2col writes as zeros.
"""
from ..backend import array_module
from ..backend.cuda_kernels import get_kernel, int32, launch


def _add_bias(y, bias):
    """y[:, c] += bias[c] in place for y (N, C, ...) (nothing when bias is None); returns y."""
    if bias is not None:
        y += bias.reshape((1, -1) + (1,) * (y.ndim - 2))
    return y


def _kernel_arguments(channels, geometry):
    (top, _), (left, _) = geometry.padding
    values = (channels, *geometry.in_size, *geometry.kernel, *geometry.stride, top, left,
              *geometry.dilation, *geometry.out_size)
    return tuple(int32(v) for v in values)


def im2col(x, geometry):
    """(N, C, H, W) -> (N, C * kernel_h * kernel_w, out_h * out_w)."""
    cupy = array_module(x)
    x = cupy.ascontiguousarray(x)
    batch, channels = x.shape[:2]
    taps = geometry.kernel[0] * geometry.kernel[1]
    col = cupy.empty((batch, channels * taps, _pixels(geometry)), dtype=x.dtype)
    launch(get_kernel("im2col", "im2col", x.dtype), col.size, x, col, int32(batch),
           *_kernel_arguments(channels, geometry))
    return col


def col2im(col, geometry, batch, channels):
    """The adjoint of im2col: (N, C * kernel_h * kernel_w, out_h * out_w) -> (N, C, H, W)."""
    cupy = array_module(col)
    x = cupy.empty((batch, channels) + tuple(geometry.in_size), dtype=col.dtype)
    launch(get_kernel("im2col", "col2im", col.dtype), x.size, cupy.ascontiguousarray(col), x,
           int32(batch), *_kernel_arguments(channels, geometry))
    return x


def forward(x, weight, geometry, bias=None):
    batch, groups, out_channels = x.shape[0], geometry.groups, weight.shape[0]
    col = im2col(x, geometry).reshape(batch, groups, -1, _pixels(geometry))
    y = weight.reshape(1, groups, out_channels // groups, -1) @ col
    return _add_bias(y.reshape((batch, out_channels) + tuple(geometry.out_size)), bias)


def input_grad(gy, weight, geometry, bias=None):
    cupy = array_module(gy)
    batch, groups, out_channels = gy.shape[0], geometry.groups, gy.shape[1]
    w_matrix = weight.reshape(1, groups, out_channels // groups, -1).transpose(0, 1, 3, 2)
    gy_matrix = cupy.ascontiguousarray(gy).reshape(batch, groups, out_channels // groups, -1)
    col = (w_matrix @ gy_matrix).reshape(batch, -1, _pixels(geometry))
    return _add_bias(col2im(col, geometry, batch, weight.shape[1] * groups), bias)


def weight_grad(x, gy, geometry):
    cupy = array_module(x)
    batch, groups, out_channels = x.shape[0], geometry.groups, gy.shape[1]
    # (G, rows, N * pixels) layouts, so that the sum over images happens inside one GEMM.
    col = im2col(x, geometry).reshape(batch, groups, -1, _pixels(geometry))
    col = cupy.ascontiguousarray(col.transpose(1, 2, 0, 3)).reshape(groups, col.shape[2], -1)
    gy_matrix = cupy.ascontiguousarray(gy).reshape(batch, groups, out_channels // groups, -1)
    gy_matrix = cupy.ascontiguousarray(gy_matrix.transpose(1, 2, 0, 3)).reshape(groups, out_channels // groups, -1)
    gw = gy_matrix @ col.transpose(0, 2, 1)
    return gw.reshape((out_channels, x.shape[1] // groups) + tuple(geometry.kernel))


def _pixels(geometry):
    return geometry.out_size[0] * geometry.out_size[1]
