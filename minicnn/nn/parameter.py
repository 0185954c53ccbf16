"""`Parameter`: a Tensor that a Module learns.

Assigning a Parameter to a Module attribute (`self.weight = Parameter(...)`) registers it,
so that `module.parameters()` finds it and an optimizer can update it. It is an ordinary
leaf Tensor otherwise, with `requires_grad=True` unless asked not to.
"""
import numpy

from ..autograd import Tensor
from ..autograd.tensor import as_array
from ..backend import get_default_dtype


class Parameter(Tensor):
    def __init__(self, data, requires_grad=True):
        super().__init__(as_array(data), requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def empty_parameter(*shape):
    """An uninitialised Parameter of the default dtype, for a layer's init to fill."""
    return Parameter(numpy.empty(shape, dtype=get_default_dtype()))
