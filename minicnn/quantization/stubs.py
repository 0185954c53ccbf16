"""Marks in a float model that say where quantization starts and ends, and its sums.

    QuantStub        float -> quantized: its observer sets the input's scale and zero point
    DeQuantStub      quantized -> float
    QuantWrapper     QuantStub -> model -> DeQuantStub around a whole model
    FloatFunctional  `a + b` (and relu(a + b)) as a module: a functional `+` in a forward
                     has no place for an observer, a module does

In the float model each is the identity (or the plain sum); `prepare` attaches observers
to them and `convert` replaces them by Quantize, DeQuantize and QFunctional. PyTorch's
torch.ao.quantization has the same four.
"""
from .. import functional as F
from ..nn import Module


class QuantStub(Module):
    """The identity in float; converted to Quantize with the scale and zero point observed here."""

    def forward(self, x):
        return x


class DeQuantStub(Module):
    """The identity in float; converted to DeQuantize."""

    def forward(self, x):
        return x


class QuantWrapper(Module):
    """quant -> module -> dequant, for a model whose forward only chains its children."""

    def __init__(self, module):
        super().__init__()
        self.quant, self.module, self.dequant = QuantStub(), module, DeQuantStub()

    def forward(self, x):
        return self.dequant(self.module(self.quant(x)))


class FloatFunctional(Module):
    """Sums as a module: add(a, b) and add_relu(a, b) pass the result through forward (the
    identity), so that a forward hook (an observer) sees every sum this module makes."""

    def forward(self, x):
        return x

    def add(self, a, b):
        return self(a + b)

    def add_relu(self, a, b):
        return self(F.relu(a + b))
