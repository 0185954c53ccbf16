"""Whether operations record the graph: `no_grad()` turns recording off, `enable_grad()` on.

Both work as context managers and as decorators, like their PyTorch namesakes.
"""
import contextlib
import threading

_state = threading.local()


def is_grad_enabled():
    return getattr(_state, "enabled", True)


def set_grad_enabled(enabled):
    _state.enabled = bool(enabled)


class _GradMode(contextlib.ContextDecorator):
    enabled = True

    def __enter__(self):
        self.previous = is_grad_enabled()
        set_grad_enabled(self.enabled)

    def __exit__(self, *exc):
        set_grad_enabled(self.previous)
        return False


class no_grad(_GradMode):
    """Run without recording a graph: for evaluation, and for updates to parameters."""
    enabled = False


class enable_grad(_GradMode):
    """Record the graph again inside a `no_grad` block."""
    enabled = True
