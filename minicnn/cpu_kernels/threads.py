"""Splitting a batch across threads.

Measured on a 2-core machine: serial Numba kernels compiled with nogil=True, each thread
taking a slice of the batch, beat multithreaded BLAS and Numba's own parallel=True loops;
OpenMP threads spinning beside BLAS threads made convolutions up to 9x slower. So the
kernels here are serial, and parallelism comes from this one pool of Python threads,
which the kernels run in without holding the GIL.
"""
import os
from concurrent.futures import ThreadPoolExecutor

_pool = None
_threads = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def num_threads():
    return _threads


def set_num_threads(count):
    """How many threads the CPU kernels use (default: the cores this process may run on)."""
    global _threads, _pool
    if count < 1:
        raise ValueError(f"set_num_threads: expected a positive count, got {count}")
    _threads = int(count)
    if _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None


def parallel_for(function, count, min_chunk=1):
    """Call function(start, stop) over [0, count) in up to num_threads() contiguous chunks.

    `function` must release the GIL (a Numba kernel with nogil=True, or a NumPy call on
    large arrays) for the threads to run at the same time.
    """
    global _pool
    chunks = min(_threads, max(1, count // max(1, min_chunk)))
    if chunks <= 1:
        function(0, count)
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_threads, thread_name_prefix="minicnn")
    bounds = [count * k // chunks for k in range(chunks + 1)]
    futures = [_pool.submit(function, start, stop) for start, stop in zip(bounds, bounds[1:]) if stop > start]
    for future in futures:
        future.result()
