"""Splitting work across threads: one pool for every CPU kernel, and BLAS held to one thread.

Measured on a 2-core machine: serial Numba kernels compiled with nogil=True, each thread
taking a slice of the batch, beat multithreaded BLAS and Numba's own parallel=True loops;
OpenMP threads spinning beside BLAS threads made convolutions up to 9x slower. BLAS threads
spin too: after a multithreaded GEMM (a Linear layer's), OpenBLAS's workers keep polling
for more work for a while, and in a LeNet-5 training step they took a core from the
convolution that came next, whose two halves then ran one after the other (4.6 ms per
step with BLAS on one thread, 5.8 ms on two). So the kernels here are serial, parallelism
comes from this one pool of Python threads, which the kernels run in without holding the
GIL, and BLAS runs on one thread in the whole process, from import on: large products are
split across the pool by `matmul` below instead.

The threads are also kept apart. A pool thread that has slept is woken onto the CPU of
the thread that wakes it (Linux's wake-affine placement), and for a kernel of a few
milliseconds the scheduler did not move it away in time: logged with sched_getcpu, both
halves of a 3x3 convolution (benchmarks' shape E) ran on one CPU after a pause, and took
12.5 ms instead of 6.6 ms. So during a parallel_for the caller is held on its CPU, and a
pool thread found on that same CPU is moved to another one for its chunk; a thread
already elsewhere is left alone (moving every chunk cost LeNet-5's training step 4%).
Nothing stays pinned: two processes started on different CPUs do not crowd onto the
same ones.
"""
import ctypes
import os
from concurrent.futures import ThreadPoolExecutor

import numpy
from threadpoolctl import ThreadpoolController

_pool = None
_threads = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
# A product is split only where each thread's share has this many multiply-adds: below it
# handing the share to another thread costs more than the second core saves.
_MIN_MULTIPLY_ADDS_PER_THREAD = 4_000_000


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
    """Call function(start, stop) over [0, count) in up to num_threads() contiguous chunks
    of at least `min_chunk` (one call, on this thread, when there is work for only one), and
    return the calls' results in the order of the chunks, whichever thread finished first:
    partial sums added in that order give the same bits on every run.

    `function` must release the GIL (a Numba kernel with nogil=True, or a NumPy call on
    large arrays) for the threads to run at the same time.
    """
    global _pool
    chunks = min(_threads, max(1, count // max(1, min_chunk)))
    if chunks <= 1:
        return [function(0, count)]
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_threads - 1, thread_name_prefix="minicnn")
    bounds = [count * k // chunks for k in range(chunks + 1)]
    ranges = [(start, stop) for start, stop in zip(bounds, bounds[1:]) if stop > start]
    here = _sched_getcpu() if _sched_getcpu else None
    spares = [cpu for cpu in os.sched_getaffinity(0) if cpu != here] if here is not None else []
    futures = [_pool.submit(_off_cpu, here, spares[k % len(spares)] if spares else None,
                            function, start, stop)
               for k, (start, stop) in enumerate(ranges[1:])]
    # The calling thread takes the first chunk instead of waiting idle: one hand-off
    # fewer per call, which matters for the sub-millisecond kernels of small layers.
    first = _on_cpu(here, function, *ranges[0])
    return [first] + [future.result() for future in futures]


def _on_cpu(cpu, function, start, stop):
    """function(start, stop) on `cpu` (anywhere when None); the thread may move again after."""
    if cpu is None:
        return function(start, stop)
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, (cpu,))
    try:
        return function(start, stop)
    finally:
        os.sched_setaffinity(0, allowed)


def _off_cpu(busy, spare, function, start, stop):
    """A pool thread's chunk: where the thread was woken onto the caller's CPU `busy`, it
    is moved to `spare` for the chunk; elsewhere it stays put (a move costs a migration)."""
    return _on_cpu(spare if busy is not None and _sched_getcpu() == busy else None,
                   function, start, stop)


def matmul(a, b):
    """numpy.matmul(a, b) for a (..., n, k) and b (..., k, m), split across the pool.

    The longer of the result's two matrix axes is cut: rows of a, or columns of b; each
    thread's GEMM (one BLAS thread, which releases the GIL) writes its slice of the result.
    A product too small to give a second thread its share is one plain call.
    """
    (n, k), m = a.shape[-2:], b.shape[-1]
    stack = max(a.size // max(1, n * k), b.size // max(1, k * m))   # matrices in the batch
    lines = max(n, m)
    min_chunk = -(-_MIN_MULTIPLY_ADDS_PER_THREAD // max(1, stack * k * min(n, m)))
    if _threads == 1 or lines < 2 * min_chunk:
        return numpy.matmul(a, b)
    out = numpy.empty(numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (n, m),
                      dtype=numpy.result_type(a, b))
    if n >= m:
        def part(start, stop):
            numpy.matmul(a[..., start:stop, :], b, out=out[..., start:stop, :])
    else:
        def part(start, stop):
            numpy.matmul(a, b[..., start:stop], out=out[..., start:stop])
    parallel_for(part, lines, min_chunk)
    return out


def _find_sched_getcpu():
    """glibc's sched_getcpu (the CPU the calling thread runs on), or None elsewhere."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    try:
        return ctypes.CDLL(None).sched_getcpu
    except (OSError, AttributeError):
        return None


_sched_getcpu = _find_sched_getcpu()


def _hold_blas_to_one_thread():
    # Finding the loaded BLAS libraries walks the process's shared objects (about a
    # millisecond), once; NumPy has loaded its BLAS by the time this module is imported.
    ThreadpoolController().limit(limits=1, user_api="blas")


_hold_blas_to_one_thread()
