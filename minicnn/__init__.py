"""minicnn: a from-scratch deep-learning engine for convolutional networks.

Layers, from the bottom up (each imports only from those below it):
    backend     array module (NumPy / CuPy), devices, dtypes, random numbers
    autograd    Tensor, Function, backward engine, no_grad, grad, gradcheck
    functional  differentiable ops, one file per family, with their kernels
    nn, optim, data
    training    the training loop, metrics, plots and the `minicnn` command
"""
from .autograd import (Function, GradcheckError, Tensor, arange, enable_grad, eye, full,
                       full_like, grad, gradcheck, gradgradcheck, is_grad_enabled, no_grad,
                       ones, ones_like, rand, rand_like, randint, randn, randn_like,
                       set_grad_enabled, tensor, zeros, zeros_like)
from .backend import Device as device
from .backend import get_default_dtype, manual_seed, set_default_dtype
from .backend.dtypes import (bool_, float16, float32, float64, int8, int32, int64, uint8)
from . import cuda, data, functional, models, nn, optim
from .functional import (abs, add, argmax, argmin, broadcast_to, cat, chunk, clamp, clip,
                         concatenate, cos, div, eq, exp, flatten, ge, gt, le, log, log1p,
                         log_softmax, logsumexp, lt, matmul, max, maximum, mean, min, minimum,
                         mul, ne, neg, permute, pow, relu, reshape, sigmoid, sin, softmax,
                         split, sqrt, squeeze, stack, std, sub, sum, tanh, transpose, unsqueeze,
                         var, where)
from .serialization import load, save

__version__ = "0.1.0"
