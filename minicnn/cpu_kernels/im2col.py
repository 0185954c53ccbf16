"""Convolution as matrix multiplication: im2col with NumPy stride tricks, one GEMM per group.

im2col lays every window the kernel sees out as a column (index math in conv_geometry.py):

    cols[c, i, j, n, oh, ow] = x_padded[n, c, oh * stride_h + i * dilation_h,
                                              ow * stride_w + j * dilation_w]

which `as_strided` builds as a view of the padded input without copying; one copy then
makes it a (groups, C/groups * kernel_h * kernel_w, N * out_h * out_w) matrix. With the
weight as a (groups, O/groups, C/groups * kernel_h * kernel_w) matrix, the three products
of a convolution layer are GEMMs over it:

    forward      y_g   = W_g  @ cols_g                (O/g, N * out pixels)
    input grad   cols  = W_g^T @ gy_g, then col2im    (adds each column back where it was read)
    weight grad  gW_g  = gy_g @ cols_g^T

conv_numba.py does the same products batch-chunk by batch-chunk, which measured faster on
most shapes; gpu_kernels/conv.py does them on the GPU with CUDA im2col/col2im kernels.
reference/conv.py computes them from their definition; the tests compare.
"""
from ..backend import array_module
from .bias import add_bias
from .threads import matmul


def im2col(x, geometry):
    """(N, C, H, W) -> the (C, kernel_h, kernel_w, N, out_h, out_w) windows, contiguous."""
    xp = array_module(x)
    padded = xp.pad(x, ((0, 0), (0, 0)) + geometry.padding)
    (kernel_h, kernel_w), (out_h, out_w) = geometry.kernel, geometry.out_size
    (stride_h, stride_w), (dilation_h, dilation_w) = geometry.stride, geometry.dilation
    batch, channels = x.shape[:2]
    step_n, step_c, step_h, step_w = padded.strides
    windows = xp.lib.stride_tricks.as_strided(
        padded, (channels, kernel_h, kernel_w, batch, out_h, out_w),
        (step_c, step_h * dilation_h, step_w * dilation_w, step_n, step_h * stride_h, step_w * stride_w))
    return xp.ascontiguousarray(windows)


def col2im(cols, geometry, batch):
    """The adjoint of im2col: add cols (C, kernel_h, kernel_w, N, out_h, out_w) into (N, C, H, W)."""
    xp = array_module(cols)
    channels, kernel_h, kernel_w = cols.shape[:3]
    (out_h, out_w), (stride_h, stride_w) = geometry.out_size, geometry.stride
    (dilation_h, dilation_w), ((top, _), (left, _)) = geometry.dilation, geometry.padding
    padded_h, padded_w = geometry.padded_size
    padded = xp.zeros((channels, batch, padded_h, padded_w), dtype=cols.dtype)
    # One strided add per kernel tap: kernel_h * kernel_w vectorised adds instead of a
    # Python loop over pixels. Taps overlap when stride < kernel, so they cannot be one add.
    for i in range(kernel_h):
        rows = slice(i * dilation_h, i * dilation_h + stride_h * (out_h - 1) + 1, stride_h)
        for j in range(kernel_w):
            columns = slice(j * dilation_w, j * dilation_w + stride_w * (out_w - 1) + 1, stride_w)
            padded[:, :, rows, columns] += cols[:, i, j]
    height, width = geometry.in_size
    return padded[:, :, top:top + height, left:left + width].transpose(1, 0, 2, 3).copy()


def forward(x, weight, geometry, bias=None):
    """y[n, o] = bias[o] + sum over c, i, j of weight[o, c, i, j] * window; returns (N, O, out_h, out_w)."""
    groups, batch, out_channels = geometry.groups, x.shape[0], weight.shape[0]
    cols = im2col(x, geometry).reshape(groups, -1, batch * _pixels(geometry))
    y = matmul(weight.reshape(groups, out_channels // groups, -1), cols)
    return add_bias(y.reshape((out_channels, batch) + geometry.out_size).transpose(1, 0, 2, 3).copy(), bias)


def input_grad(gy, weight, geometry, bias=None):
    """dL/dx of the forward above (the transposed convolution of gy), plus bias[c] if given
    (a transposed convolution layer's bias); returns (N, C, H, W)."""
    groups, batch, out_channels = geometry.groups, gy.shape[0], gy.shape[1]
    gy_matrix = _channels_first(gy).reshape(groups, out_channels // groups, -1)
    w_matrix = weight.reshape(groups, out_channels // groups, -1).transpose(0, 2, 1)
    cols = matmul(w_matrix, gy_matrix)
    channels = weight.shape[1] * groups
    cols = cols.reshape((channels,) + weight.shape[2:] + (batch,) + geometry.out_size)
    return add_bias(col2im(cols, geometry, batch), bias)


def weight_grad(x, gy, geometry):
    """dL/dweight of the forward above: the correlation of x with gy; returns (O, C/groups, kh, kw)."""
    groups, batch, out_channels = geometry.groups, x.shape[0], gy.shape[1]
    cols = im2col(x, geometry).reshape(groups, -1, batch * _pixels(geometry))
    gy_matrix = _channels_first(gy).reshape(groups, out_channels // groups, -1)
    gw = matmul(gy_matrix, cols.transpose(0, 2, 1))
    return gw.reshape((out_channels, x.shape[1] // groups) + geometry.kernel)


def _channels_first(gy):
    """(N, O, out_h, out_w) -> (O, N, out_h, out_w), contiguous, to match the cols layout."""
    return array_module(gy).ascontiguousarray(gy.transpose(1, 0, 2, 3))


def _pixels(geometry):
    return geometry.out_size[0] * geometry.out_size[1]
