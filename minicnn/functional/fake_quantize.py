"""Fake quantization: round to the int8 grid and back, in float, with a gradient that passes.

Quantization-aware training (Jacob et al. 2018) trains the float network with every weight
and activation snapped to the grid it will have in int8:

    y = (clamp(round(x / scale) + zero_point, quant_min, quant_max) - zero_point) * scale

The staircase has derivative 0 almost everywhere, which would stop all learning, so the
backward pass uses the straight-through estimator (Bengio et al. 2013), PyTorch's rule:

    dL/dx = dL/dy   where round(x / scale) + zero_point lies in [quant_min, quant_max],
            0       where it was clamped.

Seen from one grid step away, the staircase is the line y = x inside the range and flat
outside it, and the estimator is that line's derivative; finite differences over exactly
one step (gradcheck with eps = scale) therefore see the same numbers.
The rounding is functional/quantized.py's affine_codes, in float32 as PyTorch does it.
"""
import numpy

from ..autograd import Function, Tensor
from ..backend import array_module
from .quantized import along_axis, affine_codes, affine_values, check_scale, check_zero_point

__all__ = ["fake_quantize_per_channel_affine", "fake_quantize_per_tensor_affine"]


class FakeQuantize(Function):
    """y = (clamp(round(x / s) + z, quant_min, quant_max) - z) * s, with s and z broadcast
    against x (numbers, or per-channel arrays shaped along their axis).
    dL/dx = dL/dy * [quant_min <= round(x / s) + z <= quant_max].   Any shape."""
    saved = {}          # the mask is computed in forward: backward reads neither x nor y

    def __init__(self, scale, zero_point, quant_min, quant_max):
        self.scale, self.zero_point = scale, zero_point
        self.quant_min, self.quant_max = quant_min, quant_max

    def forward(self, x):
        xp = array_module(x)
        unclamped = affine_codes(x, self.scale, self.zero_point, -numpy.inf, numpy.inf)
        self.inside = (unclamped >= self.quant_min) & (unclamped <= self.quant_max)
        codes = xp.clip(unclamped, self.quant_min, self.quant_max, out=unclamped)
        return affine_values(codes, self.scale, self.zero_point, x.dtype)

    def backward(self, gy):
        # A product with a constant mask: linear in gy, so second derivatives work too.
        return gy * Tensor(self.inside.astype(gy.dtype))


def fake_quantize_per_tensor_affine(input, scale, zero_point, quant_min, quant_max):
    """Fake-quantize with one scale and zero point, as torch.fake_quantize_per_tensor_affine."""
    op = "fake_quantize_per_tensor_affine"
    _check_range(op, quant_min, quant_max)
    scale = check_scale(op, scale)
    zero_point = check_zero_point(op, zero_point, quant_min, quant_max)
    return FakeQuantize(scale, zero_point, quant_min, quant_max)(input)


def fake_quantize_per_channel_affine(input, scale, zero_point, axis, quant_min, quant_max):
    """Fake-quantize slice c along `axis` with scale[c] and zero_point[c], as
    torch.fake_quantize_per_channel_affine."""
    op = "fake_quantize_per_channel_affine"
    _check_range(op, quant_min, quant_max)
    if not isinstance(axis, int) or not -input.ndim <= axis < input.ndim:
        raise ValueError(f"{op}: axis must be a dimension of the input (shape {input.shape}), "
                         f"got {axis!r}")
    axis %= input.ndim
    channels = input.shape[axis]
    scale = along_axis(check_scale(op, scale, channels), axis, input.ndim)
    zero_point = along_axis(check_zero_point(op, zero_point, quant_min, quant_max, channels,
                                          "zero_point"), axis, input.ndim)
    return FakeQuantize(scale, zero_point, quant_min, quant_max)(input)


def _check_range(op, quant_min, quant_max):
    if not (isinstance(quant_min, (int, numpy.integer)) and isinstance(quant_max, (int, numpy.integer))
            and quant_min < quant_max):
        raise ValueError(f"{op}: need integers quant_min < quant_max, got {quant_min!r}, {quant_max!r}")
