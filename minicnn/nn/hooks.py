"""Handles returned by `register_forward_hook` and friends: `handle.remove()` undoes the registration.

A handle also works as a context manager, so a hook can live for one block:

    with model.layer3.register_forward_hook(save_activation):
        model(x)
"""
import itertools

_next_id = itertools.count()


class RemovableHandle:
    def __init__(self, hooks, hook):
        self.id = next(_next_id)
        self._hooks = hooks
        hooks[self.id] = hook

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False
