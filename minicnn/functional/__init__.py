"""minicnn.functional: every differentiable operation, one file per family.

Each op is a `Function` subclass (forward and backward side by side, the gradient formula
in its docstring) plus a lowercase wrapper with PyTorch's name and arguments. Importing
this package also installs the Tensor operators and methods (tensor_methods.py).
"""
from . import (activation, arithmetic, broadcast, conversion, conv, dropout, elementwise,
               embedding, fake_quantize, loss, matrix, norm, padding, pool, quantized, reduce,
               resample, roi, shape)

# Taken before the star imports below, which rebind names such as `dropout` from the
# module to the function of the same name.
_families = (activation, arithmetic, broadcast, conversion, conv, dropout, elementwise,
             embedding, fake_quantize, loss, matrix, norm, padding, pool, quantized, reduce,
             resample, roi, shape)

from .activation import *
from .arithmetic import *
from .broadcast import *
from .conversion import *
from .conv import *
from .dropout import *
from .elementwise import *
from .embedding import *
from .fake_quantize import *
from .loss import *
from .matrix import *
from .norm import *
from .padding import *
from .pool import *
from .quantized import *
from .reduce import *
from .resample import *
from .roi import *
from .shape import *
from . import tensor_methods

__all__ = sorted(name for family in _families for name in family.__all__)

# Public functions whose outputs carry no gradient (indices, masks); every other name in
# __all__ must have a gradcheck case (tests/test_gradcheck_coverage.py enforces it).
NON_DIFFERENTIABLE = frozenset(
    name for family in _families for name in getattr(family, "nondifferentiable", ()))
