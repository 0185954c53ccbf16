"""`Tensor`: an array plus what autograd needs to differentiate through it.

A Tensor holds its array in `.data` (a NumPy array on the CPU, a CuPy array on the GPU),
its gradient in `.grad` after `backward()`, and in `.creator` the Function that produced it
(None for tensors the user made: the leaves). Operators and methods such as `x + y`,
`x.sum()` and `x.relu()` are attached by `minicnn.functional`, where each op is defined
once with its backward.
"""
import numbers

import numpy

from ..backend import array_module, device_of, get_default_dtype, is_floating, to_numpy


class Tensor:
    # Makes `ndarray + Tensor` call Tensor.__radd__ instead of NumPy's elementwise loop.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, name=None):
        self.data = data
        self.grad = None
        self.creator = None
        self.name = name
        self._hooks = []
        self._retains_grad = False
        self._requires_grad = False
        self.requires_grad = requires_grad

    # --- autograd state -------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and not is_floating(self.data.dtype):
            raise RuntimeError(
                f"requires_grad: only floating-point tensors can require gradients, "
                f"got dtype {self.data.dtype}")
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
        """The same data, cut from the graph (shares memory, like torch.Tensor.detach)."""
        return Tensor(self.data)

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
        return tuple(self.data.shape)

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return device_of(self.data)

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

