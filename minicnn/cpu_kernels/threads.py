"""Splitting a batch across threads.

Measured on a 2-core machine: serial Numba kernels compiled with nogil=True, each thread
taking a slice of the batch, beat multithreaded BLAS and Numba's own parallel=True loops;
OpenMP threads spinning beside BLAS threads made convolutions up to 9x slower. So the
kernels here are serial, and parallelism comes from this one pool of Python threads,
which the kernels run in without holding the GIL. While the pool runs, BLAS is held to one
thread per caller (threadpoolctl), so a GEMM inside a kernel never spawns threads of its own
that would fight the pool's for the same cores.
"""
import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

from threadpoolctl import ThreadpoolController

_pool = None
_blas = None
_blas_limit = None     # the BLAS limit set by set_num_threads, undone by the next call
_threads = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def num_threads():
    return _threads


def set_num_threads(count):
    """How many threads the CPU kernels use (default: the cores this process may run on).

    BLAS, outside the pool, is held to the same count, so `set_num_threads(1)` makes every
    part of minicnn single-threaded.
    """
    global _threads, _pool, _blas_limit
    if count < 1:
        raise ValueError(f"set_num_threads: expected a positive count, got {count}")
    _threads = int(count)
    if _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None
    if _blas_limit is not None:
        _blas_limit.restore_original_limits()
    _blas_limit = _controller().limit(limits=_threads, user_api="blas")


def _controller():
    global _blas
    if _blas is None:
        # Finding the loaded libraries walks the process's shared objects (about a
        # millisecond), so it is done once; modules that call BLAS are imported before.
        _blas = ThreadpoolController()
    return _blas


@contextlib.contextmanager
def blas_threads(count):
    """Limit every loaded BLAS library (NumPy's, SciPy's, the one Numba's np.dot calls) to
    `count` threads inside the block, and restore the previous setting after it."""
    with _controller().limit(limits=count, user_api="blas"):
        yield


def parallel_for(function, count, min_chunk=1):
    """Call function(start, stop) over [0, count) in up to num_threads() contiguous chunks.

    `function` must release the GIL (a Numba kernel with nogil=True, or a NumPy call on
    large arrays) for the threads to run at the same time. BLAS runs single-threaded
    inside, even when the work is too small to split: OpenBLAS's own threads on the small
    GEMMs of a kernel block cost more than they gain (measured on LeNet-5's layers).
    """
    global _pool
    chunks = min(_threads, max(1, count // max(1, min_chunk)))
    with blas_threads(1):
        if chunks <= 1:
            function(0, count)
            return
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_threads - 1, thread_name_prefix="minicnn")
        bounds = [count * k // chunks for k in range(chunks + 1)]
        ranges = [(start, stop) for start, stop in zip(bounds, bounds[1:]) if stop > start]
        futures = [_pool.submit(function, start, stop) for start, stop in ranges[1:]]
        # The calling thread takes the first chunk instead of waiting idle: one hand-off
        # fewer per call, which matters for the sub-millisecond kernels of small layers.
        function(*ranges[0])
        for future in futures:
            future.result()
