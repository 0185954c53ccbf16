"""minicnn's models made ready for eager-mode quantization.

`prepare` sees a model as a tree of layers and can only quantize what is a layer: a
functional `F.relu(...)` or a `+` inside a forward has no module to hang an observer on.
CifarResNet's blocks use both, so, as torchvision.models.quantization does for its ResNets,
QuantizableResNet and QuantizableBasicBlock run the same computation with ReLU modules and
a FloatFunctional for the residual sum, and with QuantStub/DeQuantStub at the model's ends.
They hold the float model's own layers under the same names, so its state_dict loads as is.

`quantizable(model)` returns the version of any minicnn model to quantize: these for
ResNets, QuantWrapper(model) for models whose forward only chains their children (LeNet5,
MLP, VGGSmall), the model itself when it already has a QuantStub.
"""
import numpy

from ..functional.quantized import QTensor
from ..models import CifarResNet
from ..nn import Flatten, Module, ReLU, Sequential
from .stubs import DeQuantStub, FloatFunctional, QuantStub, QuantWrapper


class QuantizableBasicBlock(Module):
    """BasicBlock's relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)) with module ReLUs."""

    def __init__(self, block):
        super().__init__()
        self.conv1, self.bn1, self.relu1 = block.conv1, block.bn1, ReLU()
        self.conv2, self.bn2 = block.conv2, block.bn2
        self.shortcut = block.shortcut
        self.add_relu = FloatFunctional()

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.add_relu.add_relu(out, self.shortcut(x))

    def fusion_groups(self):
        groups = [["conv1", "bn1", "relu1"], ["conv2", "bn2"]]
        return groups + ([["shortcut.0", "shortcut.1"]] if isinstance(self.shortcut, Sequential) else [])


class QuantizableResNet(Module):
    """CifarResNet between a QuantStub and a DeQuantStub, with QuantizableBasicBlocks."""

    def __init__(self, model):
        super().__init__()
        self.quant = QuantStub()
        self.conv1, self.bn1, self.relu = model.conv1, model.bn1, ReLU()
        for name in ("layer1", "layer2", "layer3"):
            setattr(self, name, Sequential(*[QuantizableBasicBlock(block) for block in getattr(model, name)]))
        self.pool, self.flatten, self.fc = model.pool, Flatten(), model.fc
        self.dequant = DeQuantStub()

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(self.quant(x))))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.dequant(self.fc(self.flatten(self.pool(x))))

    def fusion_groups(self):
        return [["conv1", "bn1", "relu"]]


def quantizable(model):
    """The form of `model` that prepare can quantize (sharing its layers; see above)."""
    if isinstance(model, CifarResNet):
        return QuantizableResNet(model)
    if any(isinstance(module, QuantStub) for module in model.modules()):
        return model
    return QuantWrapper(model)


class QuantizedPadShortcut(Module):
    """ResNet's option-A shortcut on codes: subsample by `stride`, then pad with channels of
    the zero point (real zeros); same scale and zero point."""

    def __init__(self, stride, extra_channels):
        super().__init__()
        self.stride, self.extra_channels = stride, extra_channels

    def forward(self, x):
        codes = x.codes[:, :, ::self.stride, ::self.stride]
        before = self.extra_channels // 2
        codes = numpy.pad(codes, ((0, 0), (before, self.extra_channels - before), (0, 0), (0, 0)),
                          constant_values=x.zero_point)
        return QTensor(codes, x.scale, x.zero_point)

    def extra_repr(self):
        return f"stride={self.stride}, extra_channels={self.extra_channels}"
