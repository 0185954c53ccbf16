"""The index geometry of a 2-d correlation, shared by every convolution kernel.

A correlation slides a (kernel_h, kernel_w) window over an input of spatial size
in_size = (H, W) padded by ((top, bottom), (left, right)) zeros. Output pixel (oh, ow)
reads input row and column

    h = oh * stride_h - top  + i * dilation_h,     i in [0, kernel_h)
    w = ow * stride_w - left + j * dilation_w,     j in [0, kernel_w)

so out_size = (H + top + bottom - dilation_h * (kernel_h - 1) - 1) // stride_h + 1 (and the
same for W). The transposed convolution is the adjoint of this map, so it is described by
the same geometry: its output is the correlation's input. `out_size` is stored rather than
derived because a transposed convolution with output_padding fixes it from its own input.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class ConvGeometry:
    in_size: tuple      # (H, W) of the correlation's input
    out_size: tuple     # (out_h, out_w) of the correlation's output
    kernel: tuple       # (kernel_h, kernel_w)
    stride: tuple
    padding: tuple      # ((top, bottom), (left, right))
    dilation: tuple
    groups: int

    @property
    def padded_size(self):
        return tuple(size + before + after for size, (before, after) in zip(self.in_size, self.padding))

    @property
    def numba_args(self):
        """The integers the Numba kernels index with, as one tuple (see conv_numba.py)."""
        (kernel_h, kernel_w), (stride_h, stride_w) = self.kernel, self.stride
        (top, _), (left, _) = self.padding
        (dilation_h, dilation_w), (out_h, out_w) = self.dilation, self.out_size
        return (kernel_h, kernel_w, stride_h, stride_w, top, left, dilation_h, dilation_w,
                out_h, out_w)


def correlation_size(size, kernel, stride, padding, dilation):
    """Output length along one axis: (size + before + after - dilation (kernel - 1) - 1) // stride + 1."""
    before, after = padding
    return (size + before + after - dilation * (kernel - 1) - 1) // stride + 1
