"""How the Numba kernels are compiled: without the GIL, cached on disk, and with a word first.

Numba compiles a kernel to machine code on its first call, several seconds for the
convolution and pooling kernels together. `cache=True` keeps the machine code on disk
(in __pycache__ beside the source, or in the user's cache directory where the source is
read-only), so that this happens once per install, not once per process. Where neither
place can be written, Numba refuses `cache=True` outright; the kernels then compile in
every process instead of failing to import (NUMBA_CACHE_DIR names a place that works).
The first compilation of a process prints one line, so that a first call that takes
seconds does not look hung.

Numba reuses a kernel's cached machine code while the kernel's own file is unchanged, even
when a kernel it calls, defined in another file, has changed: the old code of the callee,
compiled into the caller, would keep running. So a digest of every source in this folder is
kept beside the cache, and when it no longer matches, the folder's cached machine code is
removed before anything loads it (each kernel then compiles once more).
"""
import hashlib
import os
import pathlib
import sys
import tempfile

import numba
from numba.core import caching, event

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


_SOURCES = pathlib.Path(__file__).parent
_DIGEST_FILE = "minicnn-kernel-sources.sha256"


def forget_stale_machine_code(cache_directory, sources=_SOURCES):
    """Removes the cached machine code of the kernels in `sources` from `cache_directory`
    unless the digest of those sources, recorded there by the last call, still matches."""
    paths = sorted(sources.glob("*.py"))
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    recorded = pathlib.Path(cache_directory, _DIGEST_FILE)
    if recorded.is_file() and recorded.read_text() == digest.hexdigest():
        return
    modules = {path.stem for path in paths}
    for path in pathlib.Path(cache_directory).glob("*.nb[ic]"):
        if path.name.split(".")[0] in modules:
            path.unlink(missing_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=cache_directory, delete=False) as temporary:
        temporary.write(digest.hexdigest())
    os.replace(temporary.name, recorded)


def _cache_directory():
    """Where Numba keeps the machine code of this folder's kernels (None where nowhere is
    writable), found as Numba finds it: the first of its locators that accepts the folder."""
    for locator_class in caching.CacheImpl._locator_classes:
        locator = locator_class.from_function(kernel, __file__)
        if locator is not None:
            return locator.get_cache_path()
    return None


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
_where_cached = _cache_directory()
if _where_cached is not None:
    try:
        forget_stale_machine_code(_where_cached)
    except OSError:   # another process changed the folder meanwhile: its stamp stands
        pass
