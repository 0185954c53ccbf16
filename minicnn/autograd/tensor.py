"""`Tensor`: an array plus what autograd needs to differentiate through it.

A Tensor holds its array in `.data` (a NumPy array on the CPU, a CuPy array on the GPU),
its gradient in `.grad` after `backward()`, and in `.creator` the Function that produced it
(None for tensors the user made: the leaves). Operators and methods such as `x + y`,
`x.sum()` and `x.relu()` are attached by `minicnn.functional`, where each op is defined
once with its backward.

`Tensor(array)` wraps an existing NumPy or CuPy array without copying it (as
torch.from_numpy does); `minicnn.tensor(data)` is the constructor for lists and numbers,
and copies, as torch.tensor does.

Version counter (PyTorch's idea): a tensor counts the in-place writes made to its memory,
`x._version`. A Function records the versions of the tensors its backward will read, and
backward raises if one has changed since, instead of silently computing the gradient at
the new values (see function.py). Tensors that view the same memory (a reshape, a slice,
`detach()`) share one counter, so a write through any of them is seen by all. The library
bumps the counter wherever it writes in place: `optimizer.step()`, an assignment
`x.data = array` (`x.data += 1` included), and `increment_version(x)`. A write into the
raw array, `x.data[...] = v`, goes straight to NumPy and is not seen, as a write through
PyTorch's `x.data` bypasses its counter; code that writes that way into a tensor that a
graph may still need calls `increment_version(x)` after it.
"""
import numbers

import numpy

from ..backend import array_module, device_of, get_default_dtype, is_floating, to_numpy


class Tensor:
    """An n-dimensional array that records how it was computed; see the module docstring.

    `Tensor(array)` takes a NumPy or CuPy array as it is, sharing its memory;
    `minicnn.tensor(data)` copies numbers, nested lists and arrays into a new one.
    """
    # Makes `ndarray + Tensor` call Tensor.__radd__ instead of NumPy's elementwise loop.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, name=None):
        self._data = (data if isinstance(data, numpy.ndarray)      # the usual case, quickly
                      else _checked_array(data, "Tensor", "'data'"))
        self._version_counter = VersionCounter()
        self.grad = None
        self.creator = None
        self.name = name
        self._hooks = []
        self._retains_grad = False
        self._requires_grad = False
        self.requires_grad = requires_grad

    # --- the array and its version --------------------------------------------------------
    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, array):
        """Replace the array: counts as an in-place write, like optimizer.step()."""
        array = _checked_array(array, "Tensor.data", "the new value")
        if memory_owner(array) is not memory_owner(self._data):
            # Other memory from now on: the tensors viewing the old array keep their counter.
            self._version_counter = VersionCounter(self._version_counter.value)
        self._data = array
        self._version_counter.value += 1

    @property
    def _version(self):
        """How many in-place writes this tensor's memory has had (torch.Tensor._version)."""
        return self._version_counter.value

    # --- autograd state -------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and not is_floating(self._data.dtype):
            raise RuntimeError(
                f"requires_grad: only floating-point tensors can require gradients, "
                f"got dtype {self._data.dtype}")
        if not flag and self.creator is not None:
            raise RuntimeError("requires_grad: cannot turn off gradients of a non-leaf tensor; "
                               "use .detach() instead")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self):
        return self.creator

    @property
    def is_leaf(self):
        return self.creator is None

    def detach(self):
        """The same data, cut from the graph (shares memory and so the version counter,
        like torch.Tensor.detach)."""
        detached = Tensor(self._data)
        detached._version_counter = self._version_counter
        return detached

    def retain_grad(self):
        """Keep `.grad` for this non-leaf tensor after backward (leaves always keep it)."""
        self._retains_grad = True

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a returned Tensor replaces it.

        Returns a handle whose `remove()` unregisters the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that "
                               "does not require grad")
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (see autograd.engine)."""
        from .engine import backward
        backward([self], [grad], retain_graph=retain_graph, create_graph=create_graph)

    # --- array facts ----------------------------------------------------------------------
    @property
    def shape(self):
        return tuple(self._data.shape)

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self):
        return device_of(self._data)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self):
        return int(self.data.size)

    def dim(self):
        return self.ndim

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a Python "
                             f"number, got shape {self.shape}")
        return self.data.reshape(()).item()

    def numpy(self):
        """The data as a NumPy array (a copy from the GPU for CUDA tensors)."""
        return to_numpy(self.data)

    def tolist(self):
        return self.numpy().tolist()

    def __bool__(self):
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype}")
        return int(self.item())

    # Tensors overload ==, so identity must serve as the hash for sets and dict keys.
    __hash__ = object.__hash__

    def __repr__(self):
        body = numpy.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extras = [] if self.dtype == get_default_dtype() or self.dtype == numpy.int64 else [f"dtype={self.dtype}"]
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.creator is not None:
            extras.append(f"grad_fn=<{type(self.creator).__name__}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"


class VersionCounter:
    """The number of in-place writes to one piece of memory, shared by the tensors viewing it."""
    __slots__ = ("value",)

    def __init__(self, value=0):
        self.value = value


def increment_version(tensor):
    """Record an in-place write to `tensor` made through its raw array (`tensor.data[...] = v`),
    so that a backward that saved it raises instead of using the new values
    (torch.autograd.graph.increment_version). Accepts a Tensor or an iterable of them."""
    for one in [tensor] if isinstance(tensor, Tensor) else tensor:
        one._version_counter.value += 1


def memory_owner(array):
    """The array that owns the memory `array` looks at: itself, or the base its view chain
    starts from (NumPy and CuPy keep it in `.base`; a base that is not an array, such as the
    buffer of numpy.frombuffer, ends the chain)."""
    base = getattr(array, "base", None)
    while base is not None and hasattr(base, "base"):
        array, base = base, base.base
    return array


def _checked_array(data, where, argument):
    """`data` if it is a NumPy or CuPy array (or a NumPy scalar), else a TypeError saying what
    to do instead."""
    if hasattr(data, "dtype") and hasattr(data, "shape") and not isinstance(data, Tensor):
        return data
    if isinstance(data, Tensor):
        advice = "x.detach() shares its data without the graph, minicnn.tensor(x) copies it"
    else:
        advice = ("minicnn.tensor(data) builds a tensor from numbers and (nested) lists, as "
                  "torch.tensor does")
    raise TypeError(f"{where}: {argument} must be a NumPy or CuPy array, got "
                    f"{type(data).__name__}; {advice}")


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def as_array(data, dtype=None, like=None):
    """An array from Python numbers, lists, NumPy/CuPy arrays or Tensors.

    Python floats get the default dtype (float32) and ints int64, as in PyTorch; arrays keep
    their dtype. `like` (an array) gives the array module, so scalars join it on its device.
    """
    if isinstance(data, Tensor):
        data = data.data
    xp = array_module(like) if like is not None else array_module(data)
    if hasattr(data, "dtype") and hasattr(data, "shape"):
        array = xp.asarray(data)
    else:
        array = xp.asarray(numpy.asarray(data))
        if dtype is None and array.dtype == numpy.float64:
            # Convert straight to an asked-for dtype: a detour through float32 would round
            # 0.1 to 0.10000000149 even when float64 was asked for.
            dtype = get_default_dtype()
    if dtype is not None and array.dtype != dtype:
        array = array.astype(dtype)
    return array


def as_tensor(value, like=None):
    """`value` as a Tensor. A Python number takes the dtype of the tensor `like`, so that
    `x * 2.0` stays float32 for a float32 `x` instead of being promoted to float64."""
    if isinstance(value, Tensor):
        return value
    reference = like.data if isinstance(like, Tensor) else None
    dtype = None
    if isinstance(value, numbers.Number) and reference is not None:
        if is_floating(reference.dtype) or not isinstance(value, numbers.Integral):
            dtype = reference.dtype if is_floating(reference.dtype) else get_default_dtype()
        else:
            dtype = reference.dtype
    return Tensor(as_array(value, dtype=dtype, like=reference))

