"""Install the functional ops on Tensor as operators and methods (x + y, x.sum(), x.relu()).

Tensor is defined in the autograd layer, below the ops, so the methods are attached here,
from above, instead of being imported by tensor.py. Every method is the functional op of
the same name; nothing is implemented twice.
"""
import numbers

from ..autograd import Tensor, as_tensor
from ..backend.dtypes import float32, float64, int32, int64
from . import arithmetic, broadcast, conversion, elementwise, matrix, reduce, shape
from .activation import log_softmax, relu, sigmoid, softmax, tanh


def _swap(op):
    """`2 - x` calls x.__rsub__(2): the op with its arguments swapped."""
    return lambda self, other: op(as_tensor(other, like=self), self)


def _comparison(op):
    """`x < y` for anything that can be a tensor; otherwise NotImplemented, so that
    `x == None` is False (Python's fallback) rather than an error."""
    def compare(self, other):
        if not isinstance(other, (Tensor, numbers.Number)) and not hasattr(other, "dtype"):
            return NotImplemented
        return op(self, other)
    return compare


# --- operators -----------------------------------------------------------------------------
Tensor.__add__ = arithmetic.add
Tensor.__radd__ = _swap(arithmetic.add)
Tensor.__sub__ = arithmetic.sub
Tensor.__rsub__ = _swap(arithmetic.sub)
Tensor.__mul__ = arithmetic.mul
Tensor.__rmul__ = _swap(arithmetic.mul)
Tensor.__truediv__ = arithmetic.div
Tensor.__rtruediv__ = _swap(arithmetic.div)
Tensor.__neg__ = arithmetic.neg
Tensor.__pow__ = arithmetic.pow
Tensor.__rpow__ = _swap(arithmetic.pow)
Tensor.__matmul__ = matrix.matmul
Tensor.__rmatmul__ = _swap(matrix.matmul)
Tensor.__abs__ = elementwise.abs
Tensor.__getitem__ = shape.index
Tensor.__eq__ = _comparison(elementwise.eq)
Tensor.__ne__ = _comparison(elementwise.ne)
Tensor.__lt__ = _comparison(elementwise.lt)
Tensor.__le__ = _comparison(elementwise.le)
Tensor.__gt__ = _comparison(elementwise.gt)
Tensor.__ge__ = _comparison(elementwise.ge)

# --- math --------------------------------------------------------------------------------------
for _name in ("add", "sub", "mul", "div", "neg", "pow"):
    setattr(Tensor, _name, getattr(arithmetic, _name))
for _name in ("exp", "log", "log1p", "sqrt", "abs", "sin", "cos", "clip", "clamp",
              "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge"):
    setattr(Tensor, _name, getattr(elementwise, _name))
for _name in ("sum", "mean", "var", "std", "max", "min", "logsumexp", "argmax", "argmin"):
    setattr(Tensor, _name, getattr(reduce, _name))
Tensor.matmul = matrix.matmul
Tensor.relu, Tensor.sigmoid, Tensor.tanh = relu, sigmoid, tanh
Tensor.softmax, Tensor.log_softmax = softmax, log_softmax

# --- shape -------------------------------------------------------------------------------------
for _name in ("reshape", "view", "permute", "transpose", "flatten", "squeeze", "unsqueeze",
              "split", "chunk"):
    setattr(Tensor, _name, getattr(shape, _name))
Tensor.expand = broadcast.expand
Tensor.broadcast_to = broadcast.broadcast_to
Tensor.T = property(lambda self: shape.permute(self, tuple(reversed(range(self.ndim)))))
Tensor.mT = property(lambda self: shape.transpose(self, -2, -1))

# --- dtype and device --------------------------------------------------------------------------
Tensor.to = conversion.to
Tensor.cpu = conversion.cpu
Tensor.cuda = conversion.cuda
Tensor.astype = conversion.astype
Tensor.float = lambda self: conversion.astype(self, float32)
Tensor.double = lambda self: conversion.astype(self, float64)
Tensor.long = lambda self: conversion.astype(self, int64)
Tensor.int = lambda self: conversion.astype(self, int32)


def _type(self, dtype=None):
    """`x.type(float64)` casts; `x.type()` names the dtype, e.g. 'float32'."""
    return str(self.dtype) if dtype is None else conversion.astype(self, dtype)


Tensor.type = _type
