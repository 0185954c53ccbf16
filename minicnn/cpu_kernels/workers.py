"""The pool's threads, and how work is handed to them: a waiting thread polls first, then sleeps.

A handed-over chunk cannot start before its thread runs again. A thread asleep on a lock is
woken by the operating system, and on the virtual machines of benchmarks/README.md that took
60 to 130 microseconds per hand-off (measured: two chunks of 20 us each took 80 us back to
back and 140-250 us with a gap of 0.2-2 ms between calls, against 21 us for one chunk). A
training step hands work over about ten times, for kernels of 0.05 to 0.6 ms, with 0.05 to
0.3 ms of Python between them, so that cost was paid every time. So a thread that has
finished a chunk first polls for the next one, for up to SPIN_SECONDS, and only then
sleeps; the caller waiting for a chunk to finish does the same. The poll is a Numba function
compiled with nogil=True, so it does not hold the GIL that the other threads need, and it
calls sched_yield between two reads of the counter it watches: the call keeps the compiler
from reading the counter once for the whole loop, and hands the CPU to any other thread
ready to run there. A thread polls for at most SPIN_SECONDS after its last chunk, so an
idle program leaves no thread spinning (threads.py tells what BLAS's and OpenMP's threads
spinning beside running kernels cost). Measured: ten calls of two 20 us chunks, each after
0.1 ms of Python, took 1.43 ms instead of 2.21 ms; shape A of bench_conv.py, forward and
backward on 2 threads, 1.1-1.7 ms instead of 1.9-2.1 ms; a LeNet-5 training step 2-13% less.

Where a polling thread runs matters. Once it sees its chunk it needs the GIL, and if it has
to wait for it, the caller that releases the GIL wakes it, and Linux places a woken thread
on its waker's CPU. There it waited for the caller's kernel to be preempted, a scheduler
time slice, before it could start: logged with sched_getcpu, chunks of shape E started
2-3.5 ms late. So a polling thread holds itself on the CPU it polls on and publishes that
CPU, and threads.parallel_for runs the caller's own chunk on another one. A thread that
gives up polling lets go of its CPU before it sleeps, so that nothing stays pinned while
idle, and the caller holds it on a CPU other than its own (place) before it wakes it.

The hand-off survives Ctrl-C. A SIGINT raises KeyboardInterrupt in the main thread between
two Python steps, so a caller may stop anywhere: after counting a chunk as posted but before
waking its thread, or halfway through waiting for it. So what each side knows of the other
is only in three counters in a NumPy array (chunks posted, chunks done, and the CPU the
thread is held on, -1 for none), and a thread that goes to sleep waits on a lock used as a
doorbell: whoever moved a counter releases ("rings") the bell unless it is rung already, and
the sleeper acquires it and reads the counter again. A ring that nobody waited for only makes
the next sleeper look once more. A caller stopped halfway leaves the counters saying which
chunk still runs, and the next post to that thread waits for it first (and rings again, in
case the stopped post never did).
"""
import ctypes
import os
import sys
import threading

import numpy
from numba import njit, types
from numba.core.types import ExternalFunction

# How long a waiting thread polls before it sleeps: longer than the Python between two
# kernels of a training step (0.05-0.3 ms), short against a person's notice of a busy CPU.
SPIN_SECONDS = 300e-6
_POSTED, _DONE, _CPU = 0, 1, 2


def _c_function(name):
    """A function of Linux's C library returning an int, for Python to call, or None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    function.argtypes, function.restype = [], ctypes.c_int
    return function


# The CPU the calling thread runs on, or None where threads cannot be placed.
current_cpu = _c_function("sched_getcpu") if hasattr(os, "sched_setaffinity") else None
_sched_yield = None
if sys.platform.startswith("linux"):
    # C functions called by name from compiled code (ctypes pointers there would be addresses
    # of this process, which keep Numba from caching the poll: 0.5 s at each start instead
    # of 0.01). The timespec is passed as its address, an integer of pointer size.
    _sched_yield = ExternalFunction("sched_yield", types.int32())
    _clock_gettime = ExternalFunction("clock_gettime", types.int32(types.int32, types.uintp))
    _CLOCK_MONOTONIC = 1      # Linux's number for the clock that only moves forward

    @njit(nogil=True, cache=True)
    def _nanoseconds(timespec):
        _clock_gettime(_CLOCK_MONOTONIC, timespec.ctypes.data)
        return timespec[0] * 1_000_000_000 + timespec[1]

    @njit(nogil=True, cache=True)
    def _poll(counters, slot, value, seconds):
        """Whether counters[slot] moves away from value within `seconds` (checked by time,
        not by count: where another thread is ready on this CPU, sched_yield runs it first)."""
        timespec = numpy.empty(2, numpy.int64)
        deadline = _nanoseconds(timespec) + int(seconds * 1e9)
        while _nanoseconds(timespec) < deadline:
            if counters[slot] != value:
                return True
            _sched_yield()
        return counters[slot] != value
else:   # no polling: a waiting thread sleeps at once
    def _poll(counters, slot, value, seconds):
        return counters[slot] != value


def _ring(bell):
    """Release `bell` unless a ring already waits there. Each bell has one ringer (the thread
    holding the pool, or the worker), so nobody else can release it between test and release."""
    if bell.locked():
        bell.release()


class Worker:
    """One pool thread, which runs one chunk at a time: post(function, *arguments), then
    outcome() for (its return value, None), or (None, the exception it raised)."""

    def __init__(self, name):
        self._counters = numpy.array([0, 0, -1], numpy.int64)
        # Doorbells, held while not rung: new work for the thread, a finished chunk for the caller.
        self._work_bell, self._done_bell = threading.Lock(), threading.Lock()
        self._work_bell.acquire()
        self._done_bell.acquire()
        self._job = self._outcome = None
        self._allowed = os.sched_getaffinity(0) if current_cpu else None
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    @property
    def held_cpu(self):
        """The CPU this thread is held on while it polls for its next chunk, or -1."""
        return int(self._counters[_CPU])

    def place(self, cpu):
        """Hold this thread, which does not poll, on `cpu` before its next chunk wakes it:
        woken, it would be placed beside its waker (see above)."""
        os.sched_setaffinity(self._thread.native_id, (cpu,))
        self._counters[_CPU] = cpu

    def let_go(self):
        """Let this thread run on any CPU again (from any thread: after its next chunk it
        holds itself where it runs, as always)."""
        if current_cpu is not None and self._counters[_CPU] >= 0:
            os.sched_setaffinity(self._thread.native_id, self._allowed)
            self._counters[_CPU] = -1

    def post(self, function, *arguments):
        """Hand this thread a chunk (after the one still running, if a caller was stopped
        before it waited for it)."""
        self._wait()
        self._job = (function, arguments)
        self._counters[_POSTED] += 1
        _ring(self._work_bell)

    def outcome(self):
        """(value, None) or (None, exception) of the chunk posted last, once it is done."""
        self._wait()
        return self._outcome

    def stop(self):
        """End the thread (after the chunk it runs, if any)."""
        self.post(None)
        self._thread.join()

    def _wait(self):
        """Until the chunk posted last is done: poll, then sleep."""
        posted = self._counters[_POSTED]
        if _poll(self._counters, _DONE, posted - 1, SPIN_SECONDS):
            return
        _ring(self._work_bell)   # a post stopped before its ring left the thread asleep
        while self._counters[_DONE] != posted:
            self._done_bell.acquire()

    def _serve(self):
        done = 0
        self._hold_here()
        while True:
            if not _poll(self._counters, _POSTED, done, SPIN_SECONDS):
                self.let_go()
                while self._counters[_POSTED] == done:
                    self._work_bell.acquire()
            function, arguments = self._job
            if function is None:
                self.let_go()
                return
            try:
                self._outcome = (function(*arguments), None)
            except BaseException as error:   # handed to the caller by outcome()
                self._outcome = (None, error)
            done += 1
            # Held before the chunk is reported done: the caller's next call may come at
            # once, and must see where this thread will poll.
            self._hold_here()
            self._counters[_DONE] = done
            _ring(self._done_bell)

    def _hold_here(self):
        """Hold this thread (the worker itself) on the CPU it runs on, and publish it; one
        placed by the caller stays where it was placed."""
        if current_cpu is not None and self._counters[_CPU] < 0:
            cpu = current_cpu()
            os.sched_setaffinity(0, (cpu,))
            self._counters[_CPU] = cpu
