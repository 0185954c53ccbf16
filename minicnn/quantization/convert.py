"""convert: replace every observed layer of a prepared (and calibrated, or QAT-trained) model
by its int8 version.

For each layer with an observer (prepare.py), the observer's range gives the output scale
and zero point. A convolution or linear layer gets its weight quantized too: the (BN-folded)
float weight passes through the qconfig's weight observer (per channel by default; in QAT,
the layer's own weight fake quantizer), and is stored as int8 codes with those scales. The
float bias is kept; the kernels turn it into int32 at the input scale of each call.
QuantStub becomes Quantize, DeQuantStub DeQuantize, FloatFunctional QFunctional, and the
pass-through layers (ReLU, pooling, Flatten, ...) their versions on codes (mapping.py).
"""
import copy

import numpy

from .. import functional as F
from ..nn import Conv2d, Linear
from .fake_quantize import FakeQuantize
from .fuse import ConvBn2d, ConvBnReLU2d, ConvReLU2d, LinearReLU, folded_weight_and_bias
from .mapping import CONVOLUTIONS, PASS_THROUGH, is_composite
from .modules import (DeQuantize, FloatIsland, QFunctional, Quantize, QuantizedConv2d,
                      QuantizedLinear)
from .observers import NoObservationsError
from .qat import QATConv2d, QATLinear
from .stubs import FloatFunctional, QuantStub


def convert(model, inplace=False):
    """The int8 model (from a copy of `model`, unless inplace), in eval mode."""
    if not any(_is_observed(module) for module in model.modules()):
        raise ValueError("convert: the model has no observers; prepare (or prepare_qat) it "
                         "and run calibration data through it first")
    if not inplace:
        model = copy.deepcopy(model)
    _convert(model, "", _observed_qparams)
    return model.eval()


def _observed_qparams(path, observer):
    try:
        return observer.calculate_qparams()
    except NoObservationsError:
        raise ValueError(f"convert: the observer of '{path}' has seen no data; run calibration "
                         "batches through the prepared model first (calibrate(model, loader))") from None


def placeholder_qparams(path, observer):
    """Scale 1 and zero point 0 for every output: a converted model to load a file into."""
    return numpy.float32(1), 0


def _convert(module, prefix, qparams):
    """Replace module's children in place; qparams(path, observer) gives (scale, zero_point)."""
    for name, child in list(module.named_children()):
        path = prefix + name
        if _is_observed(child):
            setattr(module, name, _quantized(child, path, qparams))
        elif type(child) in PASS_THROUGH:
            setattr(module, name, PASS_THROUGH[type(child)](child))
        elif isinstance(child, FloatIsland):
            child.dequant = DeQuantize()
            child.quant = _quantized(child.quant, path + ".quant", qparams)
            child.module.eval()
        elif is_composite(child):
            _convert(child, path + ".", qparams)


def _is_observed(module):
    return getattr(module, "qconfig", None) is not None


def _quantized(layer, path, qparams):
    observer = _observer(layer.activation_post_process)
    if observer.dtype != "quint8":
        raise ValueError(f"convert: the output of '{path}' is observed as {observer.dtype}, but "
                         "the integer kernels take quint8 activations; use a qconfig whose "
                         "activation dtype is 'quint8'")
    scale, zero_point = qparams(path, layer.activation_post_process)
    output = dict(scale=scale, zero_point=zero_point, quant_min=observer.quant_min,
                  quant_max=observer.quant_max)
    if isinstance(layer, QuantStub):
        return Quantize(**output)
    if isinstance(layer, FloatFunctional):
        return QFunctional(**output)
    weight, bias, conv, relu, weight_observer = _float_layer(layer)
    quantized_weight = _quantize_weight(path, weight, weight_observer)
    if conv is None:
        return QuantizedLinear(quantized_weight, bias, relu=relu, **output)
    return QuantizedConv2d(quantized_weight, bias, conv.stride, conv.padding, conv.dilation,
                           relu=relu, **output)


def _float_layer(layer):
    """(weight, bias, the Conv2d or None, relu, weight observer) of an observed layer."""
    kind = type(layer)
    if kind in (QATConv2d, QATLinear):
        weight, bias = layer.float_weight_and_bias()
        fake_quant = layer.weight_fake_quant
        if fake_quant.observer_enabled:          # as PyTorch: the final weight is observed once more
            fake_quant.activation_post_process(weight)
        return (weight, bias, layer.conv if kind is QATConv2d else None, layer.relu,
                fake_quant.activation_post_process)
    core = layer if kind in (Conv2d, Linear) else layer[0]
    weight = core.weight.numpy()
    bias = None if core.bias is None else core.bias.numpy()
    if kind in (ConvBn2d, ConvBnReLU2d):
        weight, bias = folded_weight_and_bias(weight, bias, layer[1])
    relu = kind in (ConvReLU2d, ConvBnReLU2d, LinearReLU)
    observer = layer.qconfig.weight()
    return weight, bias, core if kind in CONVOLUTIONS else None, relu, _observer(observer)


def _quantize_weight(path, weight, observer):
    if observer.dtype != "qint8":
        raise ValueError(f"convert: the weight of '{path}' is observed as {observer.dtype}, but "
                         "the integer kernels take qint8 weights")
    if not observer.observed:                    # a fresh observer from the qconfig (PTQ)
        observer(weight)
    scale, zero_point = observer.calculate_qparams()
    codes = dict(dtype="qint8", quant_min=observer.quant_min, quant_max=observer.quant_max)
    if observer.per_channel:
        return F.quantize_per_channel(weight, scale, zero_point, observer.ch_axis, **codes)
    return F.quantize_per_tensor(weight, scale, zero_point, **codes)


def _observer(observer_or_fake_quant):
    if isinstance(observer_or_fake_quant, FakeQuantize):
        return observer_or_fake_quant.activation_post_process
    return observer_or_fake_quant
