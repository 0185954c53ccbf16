"""How the Numba kernels are compiled: without the GIL, cached on disk, and with a word first.

Numba compiles a kernel to machine code on its first call, several seconds for the
convolution and pooling kernels together. `cache=True` keeps the machine code on disk
(in __pycache__ beside the source, or in the user's cache directory where the source is
read-only), so that this happens once per install, not once per process. Where neither
place can be written, Numba refuses `cache=True` outright; the kernels then compile in
every process instead of failing to import (NUMBA_CACHE_DIR names a place that works).
The first compilation of a process prints one line, so that a first call that takes
seconds does not look hung.
"""
import sys

import numba
from numba.core import event

_CACHED = "their machine code is kept on disk for the next runs"
_UNCACHED = ("Numba finds no writable cache directory here, so every new process compiles them "
             "again; set NUMBA_CACHE_DIR to keep them")
_where_compiled_code_goes = _CACHED
_kernels = set()   # the Python functions compiled through this module


def kernel(function=None, **options):
    """numba.njit(nogil=True, cache=True, **options), as `@kernel` or `@kernel(fastmath=...)`.

    nogil, so that the threads of threads.parallel_for run kernels at the same time.
    """
    if function is None:
        return lambda function: kernel(function, **options)
    return _cached(numba.njit, function, nogil=True, **options)


def ufunc(signatures):
    """numba.vectorize(signatures, cache=True): a NumPy ufunc compiled for those dtypes."""
    return lambda function: _cached(numba.vectorize, function, signatures)


def _cached(decorator, function, *arguments, **options):
    global _where_compiled_code_goes
    _kernels.add(function)
    try:
        return decorator(*arguments, cache=True, **options)(function)
    except RuntimeError as error:   # "cannot cache function ...: no locator available for file ..."
        if "no locator available" not in str(error):
            raise
        _where_compiled_code_goes = _UNCACHED
        return decorator(*arguments, **options)(function)


class _FirstCompilationNotice(event.Listener):
    """Prints one line to stderr when Numba starts compiling the first kernel made here.

    Numba's event API announces every compilation in the process; this listener answers
    only those of the kernels above, and only once.
    """
    def __init__(self):
        self.said = False

    def on_start(self, event):
        if self.said or event.data["dispatcher"].py_func not in _kernels:
            return
        self.said = True
        print(f"minicnn: compiling the CPU kernels with Numba, a few seconds for each kind of "
              f"layer the first time it runs ({_where_compiled_code_goes})", file=sys.stderr,
              flush=True)

    def on_end(self, event):
        pass


_notice = _FirstCompilationNotice()
event.register("numba:compile", _notice)
