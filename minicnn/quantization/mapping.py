"""Which float layers become which int8 layers: the tables that prepare and convert share.

Three kinds of layer, by exact type (a subclass may compute something else):

    OBSERVED       get an observer on their output and become a quantized layer with its own
                   output scale: QuantStub, Conv2d, Linear and their fused forms, FloatFunctional
    PASS_THROUGH   work on the codes and keep the input's scale and zero point: ReLU, MaxPool2d,
                   AdaptiveAvgPool2d, Flatten, Identity, Dropout (the identity at inference),
                   ResNet's PadShortcut, and DeQuantStub
    composites     layers whose forward only calls their children in order: prepare and
                   convert walk into them (Sequential, QuantWrapper, minicnn's models, and
                   any class given to register_composite)

Every other layer, and a supported one with settings the kernels lack (a grouped or
reflect-padded convolution, a ceil_mode pool), has no quantized version: it stays in float
(a FloatIsland) and `unsupported_reason` says why.
"""
from ..models import MLP, LeNet5, PadShortcut, VGGSmall
from ..nn import (AdaptiveAvgPool2d, Conv2d, Dropout, Flatten, Identity, Linear, MaxPool2d, ReLU,
                  Sequential)
from .fuse import ConvBn2d, ConvBnReLU2d, ConvReLU2d, LinearReLU
from .modules import (DeQuantize, QuantizedAdaptiveAvgPool2d, QuantizedFlatten,
                      QuantizedMaxPool2d, QuantizedReLU)
from .qat import QATConv2d, QATLinear
from .quantizable import QuantizableBasicBlock, QuantizableResNet, QuantizedPadShortcut
from .stubs import DeQuantStub, FloatFunctional, QuantStub, QuantWrapper

CONVOLUTIONS = (Conv2d, ConvReLU2d, ConvBn2d, ConvBnReLU2d)
LINEARS = (Linear, LinearReLU)
OBSERVED = (QuantStub, FloatFunctional, QATConv2d, QATLinear) + CONVOLUTIONS + LINEARS

PASS_THROUGH = {
    ReLU: lambda layer: QuantizedReLU(),
    MaxPool2d: lambda layer: QuantizedMaxPool2d(layer.kernel_size, layer.stride, layer.padding,
                                                layer.dilation),
    AdaptiveAvgPool2d: lambda layer: QuantizedAdaptiveAvgPool2d(layer.output_size),
    Flatten: lambda layer: QuantizedFlatten(layer.start_dim, layer.end_dim),
    Identity: lambda layer: Identity(),
    Dropout: lambda layer: Identity(),
    PadShortcut: lambda layer: QuantizedPadShortcut(layer.stride, layer.extra_channels),
    DeQuantStub: lambda layer: DeQuantize(),
}

_composites = {Sequential, QuantWrapper, LeNet5, MLP, VGGSmall, QuantizableBasicBlock,
               QuantizableResNet}


def register_composite(cls):
    """Declare that `cls`'s forward only calls its children one after the other (no functional
    ops on the tensors between them), so that prepare may quantize inside it."""
    _composites.add(cls)
    return cls


def is_composite(layer):
    return type(layer) in _composites


def unsupported_reason(layer):
    """None if `layer` has a quantized version, else why it stays in float."""
    kind = type(layer)
    if kind in CONVOLUTIONS:
        conv = layer if kind is Conv2d else layer[0]
        if conv.groups != 1:
            return f"groups={conv.groups} (the int8 convolution has groups=1)"
        if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            return f"padding {conv.padding!r}, mode {conv.padding_mode!r} (the int8 convolution pads with zeros, by numbers)"
        return None
    if kind is MaxPool2d and (layer.ceil_mode or layer.return_indices):
        return "ceil_mode or return_indices (the int8 max pooling has neither)"
    if kind in OBSERVED or kind in PASS_THROUGH or kind in _composites:
        return None
    return f"no quantized version of {kind.__name__}"
