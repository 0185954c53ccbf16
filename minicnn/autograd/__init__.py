"""The autograd layer: Tensor, Function, the backward engine, grad modes and gradient checks."""
from .engine import backward, grad
from .factories import (arange, eye, full, full_like, ones, ones_like, rand, rand_like, randint,
                        randn, randn_like, tensor, zeros, zeros_like)
from .function import Function
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import Tensor, as_tensor, increment_version
