"""Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d.

They have no parameters; each checks its settings when it is made (as the layers with
weights do), keeps them, and checks the input's shape before calling the functional op of
the same name.
"""
import numbers

from .. import functional as F
from ..functional.pool import expand_argument
from .checks import check_input
from .module import Module, settings_repr

_IMAGES = ("N", "C", "H", "W")


def _check_window(layer, kernel_size, stride, padding, dilation=1):
    expand_argument(layer, "kernel_size", kernel_size, 2)
    expand_argument(layer, "stride", stride, 2)
    expand_argument(layer, "padding", padding, 2, minimum=0)
    expand_argument(layer, "dilation", dilation, 2)


def _check_output_size(layer, output_size):
    """An int or (H_out, W_out), where None keeps the input's size along that axis."""
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(sizes) != 2 or not all(size is None or (isinstance(size, numbers.Integral)
                                                   and size >= 1) for size in sizes):
        raise ValueError(f"{layer}: output_size must be a positive int or 2 of them (None "
                         f"keeps the input's size), got {output_size!r}")


class MaxPool2d(Module):
    """The largest value in each kernel_size window, moved by stride (default kernel_size).
    (N, C, H, W) -> (N, C, H_out, W_out)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride      # stride=0 is refused below
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode
        _check_window("MaxPool2d", kernel_size, self.stride, padding, dilation)

    def forward(self, x):
        check_input(self, x, _IMAGES)
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return settings_repr(self, "kernel_size", stride=self.kernel_size, padding=0,
                         dilation=1, ceil_mode=False)


class AvgPool2d(Module):
    """The mean of each kernel_size window, moved by stride (default kernel_size).
    (N, C, H, W) -> (N, C, H_out, W_out)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride      # stride=0 is refused below
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        _check_window("AvgPool2d", kernel_size, self.stride, padding)
        self.divisor_override = divisor_override

    def forward(self, x):
        check_input(self, x, _IMAGES)
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return settings_repr(self, "kernel_size", stride=self.kernel_size, padding=0,
                         ceil_mode=False, count_include_pad=True, divisor_override=None)


class AdaptiveAvgPool2d(Module):
    """Average pooling whose windows are chosen to give exactly `output_size` (an int or
    (H_out, W_out)); AdaptiveAvgPool2d(1) is global average pooling."""

    def __init__(self, output_size):
        super().__init__()
        _check_output_size("AdaptiveAvgPool2d", output_size)
        self.output_size = output_size

    def forward(self, x):
        check_input(self, x, _IMAGES)
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size!r}"


class AdaptiveMaxPool2d(Module):
    """Max pooling whose windows are chosen to give exactly `output_size`."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        _check_output_size("AdaptiveMaxPool2d", output_size)
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x):
        check_input(self, x, _IMAGES)
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size!r}"

