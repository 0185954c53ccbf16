"""Ways to make tensors: `tensor(data)`, `zeros`, `ones`, `randn`, `arange`, ... as in PyTorch.

Shapes may be given as separate integers or as one tuple: `zeros(2, 3)` == `zeros((2, 3))`.
`device='cuda'` builds the array on the CPU and copies it, which keeps random draws equal
on both devices for the same seed.
"""
import numpy

from ..backend import Device, array_module, as_dtype, get_default_dtype, move_array
from ..backend.random import generator
from .tensor import Tensor, as_array


def tensor(data, requires_grad=False, dtype=None, device=None):
    """A new leaf tensor holding a copy of `data` (a number, nested list, array or Tensor),
    as torch.tensor. (`Tensor(array)` instead wraps an existing array without a copy.)"""
    try:
        array = as_array(data, dtype=as_dtype(dtype))
    except ValueError as error:     # a ragged nested list, or text asked to become a number
        raise ValueError(f"tensor: cannot make an array of 'data' ({_describe(data)}): "
                         f"{error}") from None
    if array.dtype.kind not in "biufc":
        advice = ("; minicnn.stack(tensors) joins tensors" if isinstance(data, (list, tuple))
                  and any(isinstance(item, Tensor) for item in data) else "")
        raise TypeError(f"tensor: 'data' must hold numbers or bools, got {_describe(data)}, "
                        f"which NumPy stores with dtype {array.dtype}{advice}")
    array = array.copy() if array is _source_array(data) else array
    return _place(array, requires_grad, device)


def zeros(*shape, dtype=None, requires_grad=False, device=None):
    return _filled(numpy.zeros, shape, dtype, requires_grad, device)


def ones(*shape, dtype=None, requires_grad=False, device=None):
    return _filled(numpy.ones, shape, dtype, requires_grad, device)


def full(shape, fill_value, dtype=None, requires_grad=False, device=None):
    shape = _shape((shape,))
    array = numpy.full(shape, fill_value, dtype=as_dtype(dtype) or _dtype_of(fill_value))
    return _place(array, requires_grad, device)


def randn(*shape, dtype=None, requires_grad=False, device=None):
    """Samples from the standard normal distribution N(0, 1)."""
    array = generator().standard_normal(_shape(shape)).astype(as_dtype(dtype) or get_default_dtype())
    return _place(array, requires_grad, device)


def rand(*shape, dtype=None, requires_grad=False, device=None):
    """Samples from the uniform distribution on [0, 1)."""
    array = generator().random(_shape(shape)).astype(as_dtype(dtype) or get_default_dtype())
    return _place(array, requires_grad, device)


def randint(low, high, shape, dtype=None, device=None):
    array = generator().integers(low, high, size=_shape((shape,)), dtype=as_dtype(dtype) or numpy.int64)
    return _place(array, False, device)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    if end is None:
        start, end = 0, start
    integral = all(isinstance(v, (int, numpy.integer)) for v in (start, end, step))
    dtype = as_dtype(dtype) or (numpy.int64 if integral else get_default_dtype())
    return _place(numpy.arange(start, end, step, dtype=dtype), requires_grad, device)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    array = numpy.eye(n, m, dtype=as_dtype(dtype) or get_default_dtype())
    return _place(array, requires_grad, device)


def zeros_like(x, dtype=None, requires_grad=False):
    return _like(x, 0, dtype, requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    return _like(x, 1, dtype, requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad=False):
    return _like(x, fill_value, dtype, requires_grad)


def randn_like(x, dtype=None, requires_grad=False):
    return randn(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad, device=x.device)


def rand_like(x, dtype=None, requires_grad=False):
    return rand(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad, device=x.device)


def _like(x, fill_value, dtype, requires_grad):
    array = x.data if isinstance(x, Tensor) else x
    xp = array_module(array)
    data = xp.full(array.shape, fill_value, dtype=as_dtype(dtype) or array.dtype)
    return Tensor(data, requires_grad=requires_grad)


def _filled(make, shape, dtype, requires_grad, device):
    return _place(make(_shape(shape), dtype=as_dtype(dtype) or get_default_dtype()),
                  requires_grad, device)


def _place(array, requires_grad, device):
    if device is not None:
        array = move_array(array, Device(device))
    return Tensor(array, requires_grad=requires_grad)


def _shape(args):
    """Accept shape as f(2, 3) or f((2, 3)) or f([2, 3])."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for size in args:
        if not isinstance(size, (int, numpy.integer)) or size < 0:
            raise ValueError(f"shape: expected non-negative integers, got {args}")
    return tuple(int(size) for size in args)


def _dtype_of(value):
    if isinstance(value, bool):
        return numpy.bool_
    if isinstance(value, int):
        return numpy.int64
    return get_default_dtype()


def _describe(data):
    """What the caller passed, for an error message: its type and the start of its repr."""
    text = repr(data)
    return f"{type(data).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _source_array(data):
    return data.data if isinstance(data, Tensor) else data
