"""Splitting work across threads: one pool for every CPU kernel, and BLAS held to one thread.

Measured on a 2-core machine: serial Numba kernels compiled with nogil=True, each thread
taking a slice of the batch, beat multithreaded BLAS and Numba's own parallel=True loops;
OpenMP threads spinning beside BLAS threads made convolutions up to 9x slower. BLAS threads
spin too: after a multithreaded GEMM (a Linear layer's), OpenBLAS's workers keep polling
for more work for a while, and in a LeNet-5 training step they took a core from the
convolution that came next, whose two halves then ran one after the other (4.6 ms per
step with BLAS on one thread, 5.8 ms on two). So the kernels here are serial, parallelism
comes from this one pool of Python threads, which the kernels run in without holding the
GIL. BLAS runs on one thread while minicnn's kernels run, and only then: parallel_for sets
NumPy's BLAS to one thread and gives the caller's count back when it returns, so NumPy code
outside minicnn keeps every BLAS thread it had. A kernel therefore calls BLAS inside
parallel_for's chunks, or through matmul below (which splits large products across the
pool); a call made from another thread while the pool runs leaves the count to the caller
that set it. (The count is OpenBLAS's, one for all threads: NumPy code that runs in another
thread at the same time gets one BLAS thread too.)

The threads are also kept apart. A pool thread that has slept is woken onto the CPU of
the thread that wakes it (Linux's wake-affine placement), and for a kernel of a few
milliseconds the scheduler did not move it away in time: logged with sched_getcpu, both
halves of a 3x3 convolution (benchmarks' shape E) ran on one CPU after a pause, and took
12.5 ms instead of 6.6 ms. So during a parallel_for the caller is held on one CPU and each
pool thread on another: a thread still polling for work stays on the CPU it polls on (see
workers.py, which also says how work is handed over), one asleep is moved to a free CPU
before it is woken. Nothing stays pinned once the pool is idle: two processes started on
different CPUs do not crowd onto the same ones.
"""
import ctypes
import itertools
import os
import threading

import numpy
from threadpoolctl import ThreadpoolController

from .workers import Worker, current_cpu as _sched_getcpu

_workers = []
# Set by the call that runs the pool; a call made meanwhile (from another thread, or from
# inside a chunk) runs on its caller's thread alone instead of waiting for the pool.
_pool_busy = False
_pool_claim = threading.Lock()   # makes testing and setting _pool_busy one step
_threads = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
# A product is split only where each thread's share has this many multiply-adds: below it
# handing the share to another thread costs more than the second core saves.
_MIN_MULTIPLY_ADDS_PER_THREAD = 4_000_000


def _forget_pool_in_child():
    """A forked child has none of its parent's threads: it starts a pool of its own."""
    global _pool_busy, _pool_claim
    _workers.clear()
    _pool_busy, _pool_claim = False, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def num_threads():
    return _threads


def set_num_threads(count):
    """How many threads the CPU kernels use (default: the cores this process may run on).
    The pool grows or shrinks to it at its next use."""
    global _threads
    if count < 1:
        raise ValueError(f"set_num_threads: expected a positive count, got {count}")
    _threads = int(count)


def parallel_for(function, count, min_chunk=1):
    """Call function(start, stop) over [0, count) in up to num_threads() contiguous chunks
    of at least `min_chunk` (one call, on this thread, when there is work for only one), and
    return the calls' results in the order of the chunks, whichever thread finished first:
    partial sums added in that order give the same bits on every run. BLAS runs on one
    thread meanwhile, and the caller's setting is restored after.

    `function` must release the GIL (a Numba kernel with nogil=True, or a NumPy call on
    large arrays) for the threads to run at the same time.
    """
    global _pool_busy
    ours = False
    # The claim sits inside the try that undoes it and calls nothing (a KeyboardInterrupt is
    # raised only at a call or a loop), so `ours` says exactly whether this call claimed the pool.
    try:
        with _pool_claim:
            if not _pool_busy:
                _pool_busy = ours = True
        if not ours:
            return [function(0, count)]
        blas_threads = [get() for get, _ in _BLAS_THREADS]
        try:
            for _, set_threads in _BLAS_THREADS:
                set_threads(1)
            return _split(function, count, min_chunk)
        finally:
            for (_, set_threads), threads in zip(_BLAS_THREADS, blas_threads):
                set_threads(threads)
    finally:
        if ours:
            _pool_busy = False


def _split(function, count, min_chunk):
    """parallel_for's work, by the call that holds the pool."""
    chunks = min(_threads, max(1, count // max(1, min_chunk)))
    if chunks <= 1:
        return [function(0, count)]
    while len(_workers) > _threads - 1:
        _workers.pop().stop()
    while len(_workers) < _threads - 1:
        _workers.append(Worker(f"minicnn-{len(_workers) + 1}"))
    bounds = [count * k // chunks for k in range(chunks + 1)]
    ranges = [(start, stop) for start, stop in zip(bounds, bounds[1:]) if stop > start]
    posted = _workers[:len(ranges) - 1]
    try:
        try:
            here = _place(posted)
            for worker, (start, stop) in zip(posted, ranges[1:]):
                worker.post(function, start, stop)
            # The calling thread takes the first chunk instead of waiting idle: one hand-off
            # fewer per call, which matters for the sub-millisecond kernels of small layers.
            first = _on_cpu(here, function, *ranges[0])
        finally:
            # Every posted chunk is waited for, even when this one failed or Ctrl-C stopped
            # the caller: no chunk goes on writing after the caller has returned.
            outcomes = _outcomes(posted)
        results = [first]
        for value, error in outcomes:
            if error is not None:
                raise error
            results.append(value)
        return results
    except BaseException:
        # Stopped halfway, a worker may stay placed for a chunk it never got.
        for worker in posted:
            worker.let_go()
        raise


def _outcomes(workers):
    """Each worker's outcome(), waited for to the end even when Ctrl-C interrupts the wait
    (the KeyboardInterrupt is raised once all are done). A chunk left running would go on
    beside the caller's next BLAS calls, made after parallel_for restores BLAS's thread count,
    and OpenBLAS, called from two threads while one of them runs it multithreaded, can hang."""
    outcomes, interrupt = [], None
    for worker in workers:
        while True:
            try:
                outcomes.append(worker.outcome())
                break
            except KeyboardInterrupt as error:
                interrupt = error
    if interrupt is not None:
        raise interrupt
    return outcomes


def _place(workers):
    """The CPU the caller holds itself on for its chunk (None where threads cannot be placed):
    its own, unless one of `workers` polls there, then one where none does; each worker
    that sleeps is held on one of the CPUs left before it is woken."""
    if _sched_getcpu is None:
        return None
    allowed, here = sorted(os.sched_getaffinity(0)), _sched_getcpu()
    polling = {worker.held_cpu for worker in workers}
    if here in polling:
        here = next((cpu for cpu in allowed if cpu not in polling), here)
    free = [cpu for cpu in allowed if cpu != here and cpu not in polling]
    for k, worker in enumerate(worker for worker in workers if worker.held_cpu < 0):
        if free:
            worker.place(free[k % len(free)])
    return here


def _on_cpu(cpu, function, start, stop):
    """function(start, stop) on `cpu` (anywhere when None); the thread may move again after."""
    if cpu is None:
        return function(start, stop)
    allowed = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, (cpu,))
        return function(start, stop)
    finally:
        os.sched_setaffinity(0, allowed)


def matmul(a, b):
    """numpy.matmul(a, b) for a (..., n, k) and b (..., k, m), split across the pool.

    The longer of the result's two matrix axes is cut: rows of a, or columns of b; each
    thread's GEMM (one BLAS thread, which releases the GIL) writes its slice of the result.
    A product too small to give a second thread its share is one call on this thread.
    """
    (n, k), m = a.shape[-2:], b.shape[-1]
    stack = max(a.size // max(1, n * k), b.size // max(1, k * m))   # matrices in the batch
    min_chunk = -(-_MIN_MULTIPLY_ADDS_PER_THREAD // max(1, stack * k * min(n, m)))
    out = numpy.empty(numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (n, m),
                      dtype=numpy.result_type(a, b))
    if n >= m:
        def part(start, stop):
            numpy.matmul(a[..., start:stop, :], b, out=out[..., start:stop, :])
    else:
        def part(start, stop):
            numpy.matmul(a, b[..., start:stop], out=out[..., start:stop])
    parallel_for(part, max(n, m), min_chunk)
    return out


def _blas_thread_functions():
    """(get, set) of the thread count of NumPy's BLAS: the library in NumPy's own folder, where
    pip's wheels put it (SciPy's, which Numba loads, is not minicnn's to change), else every
    BLAS library loaded. OpenBLAS's own C functions are called directly, 0.2 us a call
    (1-1.5 us through threadpoolctl, which finds the libraries); others (MKL, BLIS) through
    threadpoolctl."""
    libraries = ThreadpoolController().select(user_api="blas").lib_controllers
    numpys = [library for library in libraries
              if library.filepath.startswith(os.path.dirname(numpy.__file__))]
    functions = []
    for library in numpys or libraries:
        own = (_openblas_thread_functions(library.filepath)
               if library.internal_api == "openblas" and library.threading_layer == "pthreads"
               else None)
        functions.append(own or (library.get_num_threads, library.set_num_threads))
    return functions


def _openblas_thread_functions(path):
    """OpenBLAS's openblas_get/set_num_threads, under the names its builds give them."""
    library = ctypes.CDLL(path)
    for prefix, suffix in itertools.product(("", "scipy_"), ("", "64_", "_64")):
        get = getattr(library, f"{prefix}openblas_get_num_threads{suffix}", None)
        set_ = getattr(library, f"{prefix}openblas_set_num_threads{suffix}", None)
        if get is not None and set_ is not None:
            get.argtypes, get.restype = [], ctypes.c_int
            set_.argtypes, set_.restype = [ctypes.c_int], None
            return get, set_
    return None


# Found once: NumPy has loaded its BLAS by the time this module is imported. Only read here.
_BLAS_THREADS = _blas_thread_functions()
