"""Saving and restoring a Module's state: `state_dict` and `load_state_dict`.

The state is an ordered mapping from dotted names ("features.0.weight") to tensors: every
parameter and every persistent buffer, module by module, each module's own entries before
its children's, which is PyTorch's order and naming. Loading checks everything first
(missing keys, unexpected keys, shapes) and only then copies, so a failed load leaves the
model exactly as it was.
"""
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy

from ..autograd import Tensor
from ..backend import move_array
from ..backend.arrays import is_cupy_array

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def state_dict(module, prefix="", keep_vars=False):
    """Name -> Tensor. The tensors share memory with the model (copy them to keep a snapshot);
    with keep_vars=True they are the Parameter objects themselves."""
    result = OrderedDict()
    for name, tensor in _named_state(module, prefix):
        result[name] = tensor if keep_vars else tensor.detach()
    return result


def _named_state(module, prefix):
    for owner_name, owner in module.named_modules(prefix=prefix, remove_duplicate=False):
        dot = f"{owner_name}." if owner_name else ""
        for name, param in owner._parameters.items():
            if param is not None:
                yield dot + name, param
        for name, buffer in owner._buffers.items():
            if buffer is not None and name not in owner._non_persistent_buffers:
                yield dot + name, buffer


def load_state_dict(module, state, strict=True):
    """Copy `state` into the module's tensors, in place.

    Raises RuntimeError listing every problem (missing keys and unexpected keys when
    `strict`, shape mismatches always) before anything is copied. Returns
    IncompatibleKeys(missing_keys, unexpected_keys), as PyTorch does.
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"load_state_dict: state must be a dict from names to tensors, such as "
                        f"model.state_dict() or minicnn.load(path), got {type(state).__name__}")
    own = OrderedDict(_named_state(module, ""))
    missing = [name for name in own if name not in state]
    unexpected = [name for name in state if name not in own]
    mismatched = [(name, own[name].shape, _shape(value))
                  for name, value in state.items()
                  if name in own and _shape(value) != own[name].shape]
    problems = []
    if strict and missing:
        problems.append("missing keys: " + ", ".join(missing))
    if strict and unexpected:
        problems.append("unexpected keys: " + ", ".join(unexpected))
    problems += [f"size mismatch for {name}: expected shape {expected}, got {received}"
                 for name, expected, received in mismatched]
    if problems:
        raise RuntimeError(f"load_state_dict: cannot load into {type(module).__name__} "
                           "(nothing was changed):\n  " + "\n  ".join(problems))

    for name, tensor in own.items():
        if name in state:
            value = state[name]
            array = value.data if isinstance(value, Tensor) else value
            tensor.data[...] = move_array(_as_array(array), tensor.device).astype(tensor.dtype)
    return IncompatibleKeys(missing, unexpected)


def _shape(value):
    return tuple(value.shape) if hasattr(value, "shape") else _as_array(value).shape


def _as_array(value):
    """NumPy/CuPy arrays pass through; anything else NumPy can read becomes a NumPy array:
    nested lists, numbers, and CPU tensors of other libraries (a PyTorch state_dict)."""
    if isinstance(value, numpy.ndarray) or is_cupy_array(value):
        return value
    return numpy.asarray(value)
