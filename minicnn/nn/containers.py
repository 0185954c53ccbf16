"""Containers that hold child modules: Sequential, ModuleList, ModuleDict.

Children are registered under their position ("0", "1", ...) or key, which is where the
names in "features.0.weight" come from.
"""
from collections import OrderedDict

from .module import Module


class _ModuleSequence(Module):
    """Children named by position, with list-style indexing, slicing, len and iteration."""

    def __init__(self, named_modules=()):
        super().__init__()
        for name, module in named_modules:
            self.add_module(name, module)

    def __getitem__(self, index):
        if isinstance(index, slice):
            sliced = type(self)()
            for name, module in list(self._modules.items())[index]:
                sliced.add_module(name, module)
            return sliced
        return self._modules[self._key(index)]

    def __setitem__(self, index, module):
        self.add_module(self._key(index), module)

    def __delitem__(self, index):
        keys = list(self._modules)[index] if isinstance(index, slice) else [self._key(index)]
        for key in keys:
            del self._modules[key]
        self._renumber()

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for position, item in enumerate(modules):
            self.add_module(str(position), item)
        return self

    def _key(self, index):
        """The name of the child at integer position `index` (negative counts from the end)."""
        if not isinstance(index, int):
            raise TypeError(f"{type(self).__name__} indices must be integers or slices, "
                            f"got {type(index).__name__}")
        if not -len(self) <= index < len(self):
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for "
                             f"{len(self)} modules")
        return list(self._modules)[index]

    def _renumber(self):
        """Keep positional names 0..n-1 after a deletion, as PyTorch does for ModuleList."""
        if all(key.isdigit() for key in self._modules):
            modules = list(self._modules.values())
            self._modules.clear()
            for position, module in enumerate(modules):
                self.add_module(str(position), module)


class Sequential(_ModuleSequence):
    """Applies its modules in order: Sequential(Conv2d(...), ReLU(), ...)(x).

    Also accepts one OrderedDict of name -> module, to give the children names.
    """

    def __init__(self, *modules):
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            super().__init__(modules[0].items())
        else:
            super().__init__((str(index), module) for index, module in enumerate(modules))

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters are registered; it has no forward of its own:
    iterate over it in the owner's forward."""

    def __init__(self, modules=()):
        super().__init__((str(index), module) for index, module in enumerate(modules))

    def __add__(self, other):
        return ModuleList(list(self) + list(other))


class ModuleDict(Module):
    """A dict of name -> module whose parameters are registered."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key):
        return self._modules.pop(key)

    def update(self, modules):
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self.add_module(key, module)
