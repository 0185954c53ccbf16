"""Convolutions: conv1d, conv2d, conv_transpose2d, as three Functions that are each other's adjoints.

A convolution layer (a cross-correlation, as in PyTorch) is bilinear in its input x and
weight w. Write C_w for the linear map x -> y = x (*) w. Its three products are

    Conv:            y  = C_w x                    (N, C, H, W) -> (N, O, out_h, out_w)
    ConvTranspose:   x' = C_w^T y'                 (N, O, out_h, out_w) -> (N, C, H, W)
    ConvWeightGrad:  gw = the correlation of x with gy, the weight's gradient (O, C / G, kh, kw)

and every derivative of one of them is one of the others, with the same index geometry
(cpu_kernels/conv_geometry.py): dL/dx of Conv is C_w^T dL/dy (ConvTranspose), dL/dw is
ConvWeightGrad(x, dL/dy), and round the triangle. So each backward is built from the other
two Functions, and second derivatives (gradgradcheck) come for free.

The arithmetic of each product, a loop over the kernel window with one einsum per tap, is
cpu_kernels/reference/conv.py. The kernel that actually runs is picked by
cpu_kernels/dispatch.py: that reference, im2col + GEMM, Numba or Winograd on the CPU
(set_conv_algorithm), the CUDA kernels on a GPU. conv1d is conv2d on inputs of height 1;
conv_arguments.py checks the arguments.
"""
from ..autograd import Function
from ..backend import array_module
from ..cpu_kernels import dispatch as kernels
from ..cpu_kernels.dispatch import (conv_algorithm_choices, get_conv_algorithm, set_conv_algorithm,
                                    set_conv_algorithm_choices)
from .conv_arguments import conv_geometry, transposed_conv_geometry

__all__ = ["conv1d", "conv2d", "conv_transpose2d", "set_conv_algorithm", "get_conv_algorithm",
           "conv_algorithm_choices", "set_conv_algorithm_choices"]
nondifferentiable = ("set_conv_algorithm", "get_conv_algorithm", "conv_algorithm_choices",
                     "set_conv_algorithm_choices")


class Conv(Function):
    """y[n, o, oh, ow] = b[o] + sum_{c, i, j} w[o, c, i, j] x_padded[n, g C/G + c, oh s + i d, ow s + j d].

    x (N, C, H, W) or (N, C, L); w (O, C / G, kh, kw) or (O, C / G, k); b (O,) or None.
    dL/dx = ConvTranspose(dL/dy, w),  dL/dw = ConvWeightGrad(x, dL/dy),  dL/db = ChannelSum(dL/dy).
    """
    saved = {"x": "w", "w": "x"}

    def __init__(self, geometry):
        self.geometry = geometry

    def forward(self, x, w, b):
        return kernels.conv_forward(x, w, self.geometry, bias=b)

    def backward(self, gy):
        x, w, b = self.inputs
        gx = ConvTranspose(self.geometry)(gy, w, None) if x.requires_grad else None
        gw = ConvWeightGrad(self.geometry)(x, gy) if w.requires_grad else None
        gb = ChannelSum()(gy) if b is not None and b.requires_grad else None
        return gx, gw, gb


class ConvTranspose(Function):
    """x = b + C_w^T y: every y[n, o, oh, ow] spread back, weighted by w[o, c, i, j], over the
    window it would have been computed from (Conv's map run backwards).

    y (N, O, out_h, out_w) -> (N, C, H, W) with w (O, C / G, kh, kw), b (C,) or None.
    dL/dy = Conv(dL/dx, w),  dL/dw = ConvWeightGrad(dL/dx, y),  dL/db = ChannelSum(dL/dx).
    """
    saved = {"y": "w", "w": "y"}

    def __init__(self, geometry):
        self.geometry = geometry

    def forward(self, y, w, b):
        return kernels.conv_input_grad(y, w, self.geometry, bias=b)

    def backward(self, gx):
        y, w, b = self.inputs
        gy = Conv(self.geometry)(gx, w, None) if y.requires_grad else None
        gw = ConvWeightGrad(self.geometry)(gx, y) if w.requires_grad else None
        gb = ChannelSum()(gx) if b is not None and b.requires_grad else None
        return gy, gw, gb


class ConvWeightGrad(Function):
    """gw[o, c, i, j] = sum_{n, oh, ow} gy[n, o, oh, ow] x_padded[n, g C/G + c, oh s + i d, ow s + j d].

    Conv's weight gradient, bilinear in (x, gy): with v = dL/dgw,
    dL/dx = ConvTranspose(gy, v),  dL/dgy = Conv(x, v).
    """
    saved = {"x": "gy", "gy": "x"}

    def __init__(self, geometry):
        self.geometry = geometry

    def forward(self, x, gy):
        return kernels.conv_weight_grad(x, gy, self.geometry)

    def backward(self, gw):
        x, gy = self.inputs
        gx = ConvTranspose(self.geometry)(gy, gw, None) if x.requires_grad else None
        ggy = Conv(self.geometry)(x, gw, None) if gy.requires_grad else None
        return gx, ggy


class ChannelSum(Function):
    """y[c] = sum of x[:, c, ...] (a bias's gradient).   dL/dx = dL/dy[c] at every position of channel c."""

    saved = {}

    def forward(self, x):
        # The batch first: adding whole samples runs along contiguous memory, and then each
        # channel's pixels are contiguous too (one reduction over (0, 2, 3) strides through memory).
        return x.sum(axis=0).reshape(x.shape[1], -1).sum(axis=1)

    def backward(self, gy):
        return ChannelBroadcast(self.inputs[0].shape)(gy)


class ChannelBroadcast(Function):
    """y[:, c, ...] = b[c] over `shape`, the adjoint of ChannelSum.   dL/db = ChannelSum(dL/dy)."""

    saved = {}

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, b):
        xp = array_module(b)
        return xp.broadcast_to(b.reshape((1, -1) + (1,) * (len(self.shape) - 2)), self.shape)

    def backward(self, gy):
        return ChannelSum()(gy)


# --- public functions with PyTorch's signatures -------------------------------------------

def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d cross-correlation, as torch.nn.functional.conv2d (padding may be 'same' or 'valid').

    input (N, C, H, W), weight (O, C / groups, kh, kw), bias (O,) -> (N, O, out_h, out_w).
    """
    geometry = conv_geometry("conv2d", input, weight, bias, stride, padding, dilation, groups, 2)
    return Conv(geometry)(input, weight, bias)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d cross-correlation, as torch.nn.functional.conv1d: input (N, C, L), weight (O, C / groups, k)."""
    geometry = conv_geometry("conv1d", input, weight, bias, stride, padding, dilation, groups, 1)
    return Conv(geometry)(input, weight, bias)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed convolution, as torch.nn.functional.conv_transpose2d: conv2d's input gradient
    used as a layer, to upsample.

    input (N, C_in, H, W), weight (C_in, C_out / groups, kh, kw), bias (C_out,)
    -> (N, C_out, (H - 1) s - 2 p + d (k - 1) + output_padding + 1, ...).
    """
    geometry = transposed_conv_geometry("conv_transpose2d", input, weight, bias, stride, padding,
                                        output_padding, groups, dilation)
    return ConvTranspose(geometry)(input, weight, bias)
