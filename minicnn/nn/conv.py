"""Convolution layers: Conv1d, Conv2d and ConvTranspose2d, holding the weights for
`functional.conv1d / conv2d / conv_transpose2d`, which do the work (functional/conv.py: the
forward and backward; cpu_kernels/reference/conv.py: their arithmetic)."""
from .. import functional as F
from ..functional.pool import expand_argument
from .checks import check_input, check_sizes
from .init import default_init_
from .module import Module
from .parameter import empty_parameter


_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


class _ConvNd(Module):
    """Shared by every convolution: arguments stored as tuples (as PyTorch does), weights
    of shape (out_channels, in_channels / groups, *kernel_size), PyTorch's default init."""
    dims = 2
    transposed = False
    spatial_names = ("H", "W")

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", output_padding=0):
        super().__init__()
        layer = type(self).__name__
        check_sizes(layer, in_channels=in_channels, out_channels=out_channels, groups=groups)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{layer}: padding_mode must be one of "
                             f"{', '.join(_PADDING_MODES)}, got {padding_mode!r}")
        if padding_mode != "zeros" and isinstance(padding, str):
            raise ValueError(f"{layer}: padding_mode={padding_mode!r} needs "
                             f"numeric padding, got padding={padding!r}")
        self.padding_mode = padding_mode
        for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if channels % groups:
                raise ValueError(f"{layer}: {name}={channels} must be divisible "
                                 f"by groups={groups}")
        n = self.dims
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = expand_argument(layer, "kernel_size", kernel_size, n)
        self.stride = expand_argument(layer, "stride", stride, n)
        self.dilation = expand_argument(layer, "dilation", dilation, n)
        self.output_padding = expand_argument(layer, "output_padding", output_padding, n,
                                              minimum=0)
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"{layer}: padding must be 'same', 'valid' or numbers, got {padding!r}")
        self.padding = padding if isinstance(padding, str) else expand_argument(
            layer, "padding", padding, n, minimum=0)
        # A transposed convolution maps out -> in in its forward's adjoint, hence the swap.
        channels = ((in_channels, out_channels // groups) if self.transposed
                    else (out_channels, in_channels // groups))
        self.weight = empty_parameter(*channels, *self.kernel_size)
        self.bias = empty_parameter(out_channels) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        default_init_(self.weight, self.bias)

    def forward(self, x):
        check_input(self, x, ("N", self.in_channels) + self.spatial_names)
        padding = self.padding
        if self.padding_mode != "zeros":
            # As PyTorch: pad explicitly in the chosen mode, then convolve without padding.
            amounts = tuple(amount for size in reversed(padding) for amount in (size, size))
            x, padding = F.pad(x, amounts, mode=self.padding_mode), 0
        return type(self).function(x, self.weight, self.bias, self.stride, padding,
                                   self.dilation, self.groups)

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={_short(self.kernel_size)}"
        defaults = (("stride", 1), ("padding", 0), ("output_padding", 0), ("dilation", 1))
        for name, default in defaults:
            value = getattr(self, name)
            if value != _tuple(default, self.dims):
                text += f", {name}={_short(value)!r}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode!r}"
        return text + ("" if self.bias is not None else ", bias=False")


def _short(value):
    """(5, 5) prints as 5; (3, 1) stays a tuple; 'same' stays a string."""
    if isinstance(value, tuple) and len(set(value)) == 1:
        return value[0]
    return value


class Conv1d(_ConvNd):
    """(N, in_channels, L) -> (N, out_channels, L_out) with
    L_out = floor((L + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1."""
    dims = 1
    spatial_names = ("L",)
    function = staticmethod(F.conv1d)


class Conv2d(_ConvNd):
    """(N, in_channels, H, W) -> (N, out_channels, H_out, W_out) with, per spatial axis,
    H_out = floor((H + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1.

    padding_mode: 'zeros' (default), 'reflect', 'replicate' or 'circular' (see functional.pad).
    """
    function = staticmethod(F.conv2d)


class ConvTranspose2d(_ConvNd):
    """The adjoint of Conv2d, used to upsample: (N, in_channels, H, W) -> (N, out_channels,
    H_out, W_out) with H_out = (H - 1) stride - 2 padding + dilation (kernel_size - 1)
    + output_padding + 1. weight: (in_channels, out_channels / groups, kH, kW)."""
    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, output_padding=output_padding)

    def forward(self, x):
        check_input(self, x, ("N", self.in_channels) + self.spatial_names)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)
