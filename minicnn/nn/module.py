"""`Module`: the base class of every layer and model, with PyTorch's semantics.

A Module owns three kinds of state, registered simply by assigning attributes:

    self.weight = Parameter(...)        -> _parameters   (learned, returned by parameters())
    self.conv = Conv2d(...)             -> _modules      (children, searched recursively)
    self.register_buffer("running_mean", tensor)   -> _buffers (saved, not learned)

Everything else a Module offers is built on walking these three dictionaries: the lists of
parameters, `state_dict` (state.py), moving to a device or dtype, train/eval, hooks and the
printed tree. Names are dotted paths such as "layer1.0.conv1.weight", the same as PyTorch's,
so a state_dict can be checked key by key against a PyTorch model of the same shape.
"""
from collections import OrderedDict

from ..autograd import Tensor
from ..backend import Device, array_module, as_dtype, is_floating, move_array
from .hooks import RemovableHandle
from .parameter import Parameter
from .state import load_state_dict, state_dict


class Module:
    def __init__(self):
        # object.__setattr__ because our own __setattr__ reads these dictionaries.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args, **kwargs):
        """Run the pre-hooks, forward, then the hooks; a hook's non-None result replaces
        the inputs (pre-hook) or the output (forward hook)."""
        for hook in list(self._forward_pre_hooks.values()):
            replaced = hook(self, args)
            if replaced is not None:
                args = replaced if isinstance(replaced, tuple) else (replaced,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            replaced = hook(self, args, output)
            if replaced is not None:
                output = replaced
        return output

    # --- registration ---------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign '{name}' before Module.__init__() is called; "
                                 f"call super().__init__() first in {type(self).__name__}.__init__")
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self.add_module(name, value)
        else:
            # Reassigning a registered name keeps it registered; None clears it (bias=None).
            for registry, kind in ((self._parameters, Parameter), (self._buffers, Tensor),
                                   (self._modules, Module)):
                if name in registry:
                    if value is not None and not isinstance(value, kind):
                        raise TypeError(f"cannot assign {type(value).__name__} to '{name}' of "
                                        f"{type(self).__name__}: expected a {kind.__name__} "
                                        "or None")
                    registry[name] = value
                    return
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Called only when ordinary lookup fails, i.e. for registered state.
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if not self._forget(name):
            object.__delattr__(self, name)

    def _forget(self, name):
        """Remove `name` from whichever registry (or plain attributes) holds it."""
        self.__dict__.pop(name, None)
        self._non_persistent_buffers.discard(name)
        found = False
        for entries in (self._parameters, self._buffers, self._modules):
            found = entries.pop(name, None) is not None or found
        return found

    def register_parameter(self, name, param):
        self._register(self._parameters, Parameter, name, param, "register_parameter")

    def register_buffer(self, name, tensor, persistent=True):
        """State that is saved and moved with the module but not learned (running_mean).

        A non-persistent buffer is moved by `to()` but left out of `state_dict()`.
        """
        self._register(self._buffers, Tensor, name, tensor, "register_buffer")
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        self._register(self._modules, Module, name, module, "add_module")

    def _register(self, registry, kind, name, value, op):
        if value is not None and not isinstance(value, kind):
            raise TypeError(f"{op}: '{name}' must be a {kind.__name__} or None, "
                            f"got {type(value).__name__}")
        if name in registry:
            # Replaced where it stands, as in PyTorch: a new layer or weight keeps its place
            # in a Sequential, in parameters() and in the state_dict.
            self._non_persistent_buffers.discard(name)
        else:
            self._forget(name)
        registry[name] = value

    register_module = add_module

    def get_submodule(self, target):
        """The module at a dotted path, e.g. model.get_submodule("layer3.2.conv2")."""
        module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"get_submodule: {type(module).__name__} has no child "
                                     f"'{part}' (path '{target}'); its children are "
                                     f"{list(module._modules)}")
            module = child
        return module

    # --- walking the tree -----------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and every descendant, depth first, parents first."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                               remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        """(dotted name, tensor) from one registry of every module; a tensor shared by two
        modules (tied weights) is listed once, so an optimizer does not update it twice."""
        seen = set()
        owners = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for owner_name, owner in owners:
            for name, member in getattr(owner, registry).items():
                if member is None or (remove_duplicate and id(member) in seen):
                    continue
                seen.add(id(member))
                yield (f"{owner_name}.{name}" if owner_name else name), member

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call fn(module) on every child (recursively) and then on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes and gradients --------------------------------------------------------
    def train(self, mode=True):
        """Training mode: dropout drops, batch norm uses batch statistics. Returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Evaluation mode: dropout is the identity, batch norm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze every parameter, e.g. a pretrained backbone."""
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none=True):
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad = Tensor(array_module(param.grad.data).zeros_like(param.grad.data))

    # --- hooks ----------------------------------------------------------------------
    def register_forward_pre_hook(self, hook):
        """hook(module, args) runs before forward; returning a value replaces args."""
        return RemovableHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """hook(module, args, output) runs after forward; returning a value replaces output."""
        return RemovableHandle(self._forward_hooks, hook)

    # --- state ----------------------------------------------------------------------
    def state_dict(self, prefix="", keep_vars=False):
        return state_dict(self, prefix, keep_vars)

    def load_state_dict(self, state, strict=True):
        return load_state_dict(self, state, strict)

    # --- devices and dtypes ---------------------------------------------------------
    def to(self, *args, device=None, dtype=None):
        """Move parameters and buffers to a device and/or cast floating ones to a dtype.

        model.to("cuda"), model.to(minicnn.float64), model.to("cpu", minicnn.float32).
        The arrays are replaced inside the same Parameter objects, so an optimizer built
        before the move keeps updating the right tensors. Returns self.
        """
        for arg in args:
            if isinstance(arg, (str, Device)):
                device = arg
            else:
                dtype = arg
        dtype = as_dtype(dtype)
        if dtype is not None and not is_floating(dtype):
            raise TypeError(f"Module.to: only floating dtypes are supported, got {dtype}")

        def convert(tensor):
            array = tensor.data
            if device is not None:
                array = move_array(array, device)
            if dtype is not None and is_floating(array.dtype):
                array = array.astype(dtype, copy=False)
            return array

        for tensor in list(self.parameters()) + list(self.buffers()):
            tensor.data = convert(tensor)
            if tensor.grad is not None:
                tensor.grad = Tensor(convert(tensor.grad))
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else f"cuda:{device}")

    def double(self):
        return self.to(dtype="float64")

    def float(self):
        return self.to(dtype="float32")

    # --- printing -------------------------------------------------------------------
    def extra_repr(self):
        """The arguments shown inside the parentheses, e.g. '1, 6, kernel_size=5'."""
        return ""

    def describe(self):
        """One line naming this module and its settings, used at the start of error messages."""
        return f"{type(self).__name__}({self.extra_repr()})"

    def __repr__(self):
        children = [f"({name}): " + _indent(repr(child)) for name, child in self._modules.items()]
        if not children:
            return self.describe()
        lines = ([self.extra_repr()] if self.extra_repr() else []) + children
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def _indent(text):
    return text.replace("\n", "\n  ")


def settings_repr(module, *always, positional=(), **defaults):
    """'16, eps=0.001': the `positional` settings' bare values, then `name=value` for the
    settings named in `always` and for those of `defaults` that differ from their default."""
    named = list(always) + [name for name, default in defaults.items()
                            if getattr(module, name) != default]
    return ", ".join([repr(getattr(module, name)) for name in positional]
                     + [f"{name}={getattr(module, name)!r}" for name in named])
