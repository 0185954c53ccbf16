"""Install the functional ops on Tensor as operators and methods (x + y, x.sum(), x.relu()).

Tensor is defined in the autograd layer, below the ops, so the methods are attached here,
from above, instead of being imported by tensor.py. Every method is the functional op of
the same name; nothing is implemented twice.
"""
from ..autograd import Tensor, as_tensor
from . import arithmetic


def _swap(op):
    """`2 - x` calls x.__rsub__(2): the op with its arguments swapped."""
    return lambda self, other: op(as_tensor(other, like=self), self)


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
