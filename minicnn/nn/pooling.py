"""Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d.

They have no parameters; each keeps its settings and checks the input's shape before
calling the functional op of the same name.
"""
from .. import functional as F
from .checks import check_input
from .module import Module, settings_repr

_IMAGES = ("N", "C", "H", "W")


class MaxPool2d(Module):
    """The largest value in each kernel_size window, moved by stride (default kernel_size).
    (N, C, H, W) -> (N, C, H_out, W_out)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

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
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
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
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x):
        check_input(self, x, _IMAGES)
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size!r}"

