"""The layers of a converted (int8) model. Each takes and returns QTensors and computes in
integers (functional/quantized.py); their state is what an int8 model file holds.

    Quantize, DeQuantize             the float <-> int8 boundaries (from QuantStub, DeQuantStub)
    QuantizedConv2d, QuantizedLinear int8 weight codes with per-channel (or one) scale, float
                                     bias, output scale and zero point; relu=True for a fused ReLU
    QFunctional                      add / add_relu of two QTensors into the observed scale
    QuantizedReLU, QuantizedMaxPool2d, QuantizedAdaptiveAvgPool2d, QuantizedFlatten
                                     on the codes, keeping their scale and zero point
    FloatIsland                      a layer with no quantized version, run in float between
                                     a DeQuantize and a Quantize (see prepare.py)
"""
import numpy

from .. import functional as F
from ..autograd import Tensor
from ..functional.quantized import QTensor
from ..nn import Module
from ..nn.module import settings_repr


class _OutputQParams(Module):
    """A layer whose output has its own scale, zero point and code range, kept as buffers
    (`scale`, `zero_point`) so that they are saved with the model."""

    def __init__(self, scale, zero_point, quant_min=0, quant_max=255):
        super().__init__()
        self._register_output_qparams(scale, zero_point, quant_min, quant_max)

    def _register_output_qparams(self, scale, zero_point, quant_min, quant_max):
        self.register_buffer("scale", Tensor(numpy.array(scale, numpy.float32)))
        self.register_buffer("zero_point", Tensor(numpy.array(zero_point, numpy.int32)))
        self.quant_min, self.quant_max = quant_min, quant_max

    @property
    def output_qparams(self):
        return dict(scale=float(self.scale.data), zero_point=int(self.zero_point.data),
                    quant_min=self.quant_min, quant_max=self.quant_max)

    def extra_repr(self):
        return (f"scale={float(self.scale.data):.6g}, zero_point={int(self.zero_point.data)}"
                + ("" if (self.quant_min, self.quant_max) == (0, 255)
                   else f", range=[{self.quant_min}, {self.quant_max}]"))


class Quantize(_OutputQParams):
    """float Tensor -> quint8 QTensor with the observed scale and zero point."""

    def forward(self, x):
        return F.quantize_per_tensor(x, float(self.scale.data), int(self.zero_point.data),
                                     "quint8", self.quant_min, self.quant_max)


class DeQuantize(Module):
    """QTensor -> float32 Tensor."""

    def forward(self, x):
        return F.dequantize(x)


class _WeightedLayer(_OutputQParams):
    """A layer with int8 weight codes: buffers weight (int8), weight_scale and
    weight_zero_point (one per output channel, or 0-d for one scale), bias (float32 or None)."""

    def __init__(self, weight, bias, scale, zero_point, relu, quant_min, quant_max):
        Module.__init__(self)            # the weight's entries first in the state_dict
        self.register_buffer("weight", Tensor(weight.codes))
        self.register_buffer("weight_scale", Tensor(numpy.asarray(weight.scale, numpy.float32)))
        self.register_buffer("weight_zero_point", Tensor(numpy.asarray(weight.zero_point, numpy.int32)))
        self.register_buffer("bias", None if bias is None else Tensor(numpy.asarray(bias, numpy.float32)))
        self._register_output_qparams(scale, zero_point, quant_min, quant_max)
        self.relu = relu

    def quantized_weight(self):
        """The weight as a QTensor (per channel along axis 0 when there is a scale per channel)."""
        per_channel = self.weight_scale.ndim == 1
        return QTensor(self.weight.data, self.weight_scale.data, self.weight_zero_point.data,
                       axis=0 if per_channel else None)

    def _qparams(self):
        return dict(relu=self.relu, **self.output_qparams)


class QuantizedConv2d(_WeightedLayer):
    """Quantized convolution (groups 1, zero padding); relu=True fuses a ReLU."""

    def __init__(self, weight, bias, stride, padding, dilation, scale, zero_point, relu=False,
                 quant_min=0, quant_max=255):
        super().__init__(weight, bias, scale, zero_point, relu, quant_min, quant_max)
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x):
        return F.quantized_conv2d(x, self.quantized_weight(), self.bias, self.stride,
                                  self.padding, self.dilation, **self._qparams())

    def extra_repr(self):
        out_channels, in_channels = self.weight.shape[:2]
        return (f"{in_channels}, {out_channels}, kernel_size={tuple(self.weight.shape[2:])}, "
                f"stride={self.stride}, padding={self.padding}, "
                + ("relu=True, " if self.relu else "") + super().extra_repr())


class QuantizedLinear(_WeightedLayer):
    """Quantized fully connected layer; relu=True fuses a ReLU."""

    def __init__(self, weight, bias, scale, zero_point, relu=False, quant_min=0, quant_max=255):
        super().__init__(weight, bias, scale, zero_point, relu, quant_min, quant_max)

    def forward(self, x):
        return F.quantized_linear(x, self.quantized_weight(), self.bias, **self._qparams())

    def extra_repr(self):
        out_features, in_features = self.weight.shape
        return (f"in_features={in_features}, out_features={out_features}, "
                + ("relu=True, " if self.relu else "") + super().extra_repr())


class QFunctional(_OutputQParams):
    """add(a, b) and add_relu(a, b) of QTensors, into this module's scale and zero point."""

    def forward(self, x):
        raise RuntimeError("QFunctional: call add(a, b) or add_relu(a, b), not the module itself")

    def add(self, a, b):
        return F.quantized_add(a, b, **self.output_qparams)

    def add_relu(self, a, b):
        return F.quantized_add(a, b, relu=True, **self.output_qparams)


class QuantizedReLU(Module):
    def forward(self, x):
        return F.quantized_relu(x)


class QuantizedMaxPool2d(Module):
    def __init__(self, kernel_size, stride, padding=0, dilation=1):
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation

    def forward(self, x):
        return F.quantized_max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self):
        return settings_repr(self, "kernel_size", "stride", padding=0, dilation=1)


class QuantizedAdaptiveAvgPool2d(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return F.quantized_adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size!r}"


class QuantizedFlatten(Module):
    """Merge dimensions start_dim..end_dim of the codes, as nn.Flatten."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        start, end = self.start_dim % x.ndim, self.end_dim % x.ndim
        return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1:])

    def extra_repr(self):
        return settings_repr(self, start_dim=1, end_dim=-1)


class FloatIsland(Module):
    """dequant -> module -> quant: a layer that has no quantized version keeps running in
    float32, between a DeQuantStub and a QuantStub (after convert: DeQuantize, Quantize)."""

    def __init__(self, module, dequant, quant):
        super().__init__()
        self.dequant, self.module, self.quant = dequant, module, quant

    def forward(self, x):
        return self.quant(self.module(self.dequant(x)))
