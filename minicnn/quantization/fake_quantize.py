"""FakeQuantize: an observer followed by fake quantization, the building block of QAT.

During quantization-aware training every weight and every observed activation passes
through one: the observer updates the range, the range gives the scale and zero point, and
functional.fake_quantize_per_tensor_affine (or per channel) rounds the tensor to that grid
with a straight-through gradient. Both halves can be switched off, as in PyTorch: late in
training the observers are frozen (disable_observer) so that the ranges stop moving.
"""
from .. import functional as F
from ..nn import Module
from .observers import MovingAverageMinMaxObserver


class FakeQuantize(Module):
    """x -> observer(x) -> fake_quantize(x, scale, zero_point) with the observer's qparams."""

    def __init__(self, observer=MovingAverageMinMaxObserver, **observer_options):
        super().__init__()
        self.activation_post_process = observer(**observer_options)
        self.observer_enabled = self.fake_quant_enabled = True

    @property
    def quant_min(self):
        return self.activation_post_process.quant_min

    @property
    def quant_max(self):
        return self.activation_post_process.quant_max

    def calculate_qparams(self):
        return self.activation_post_process.calculate_qparams()

    def forward(self, x):
        if self.observer_enabled:
            self.activation_post_process(x.detach())
        if not self.fake_quant_enabled:
            return x
        scale, zero_point = self.calculate_qparams()
        observer = self.activation_post_process
        if observer.per_channel:
            return F.fake_quantize_per_channel_affine(x, scale, zero_point, observer.ch_axis,
                                                      self.quant_min, self.quant_max)
        return F.fake_quantize_per_tensor_affine(x, scale, zero_point, self.quant_min,
                                                 self.quant_max)

    def extra_repr(self):
        return (f"observer {'on' if self.observer_enabled else 'off'}, "
                f"fake quant {'on' if self.fake_quant_enabled else 'off'}")


def disable_observer(model):
    """Freeze every FakeQuantize's range (their scales and zero points stop changing)."""
    _set(model, "observer_enabled", False)


def enable_observer(model):
    _set(model, "observer_enabled", True)


def disable_fake_quant(model):
    """Let tensors through every FakeQuantize unrounded (the float model again)."""
    _set(model, "fake_quant_enabled", False)


def enable_fake_quant(model):
    _set(model, "fake_quant_enabled", True)


def _set(model, flag, value):
    for module in model.modules():
        if isinstance(module, FakeQuantize):
            setattr(module, flag, value)
