"""A pool thread's hand-offs: results and errors come back, by the polling and the sleeping path."""
import os
import threading
import time

import numpy
import pytest
from numba import njit

from minicnn.cpu_kernels import workers
from minicnn.cpu_kernels.workers import SPIN_SECONDS, Worker


@pytest.fixture
def worker():
    thread = Worker("minicnn-test")
    yield thread
    thread.stop()


def test_chunks_after_short_and_long_pauses_all_return(worker):
    """Back to back a chunk is found by polling; after a long pause, by waking a sleeping thread."""
    for k, pause in enumerate([0] * 50 + [0.2 * SPIN_SECONDS] * 20 + [10 * SPIN_SECONDS] * 20):
        time.sleep(pause)
        worker.post(divmod, k, 7)
        assert worker.outcome() == (divmod(k, 7), None)


def test_an_exception_comes_back_and_the_thread_goes_on(worker):
    worker.post(int, "not a number")
    value, error = worker.outcome()
    assert value is None and isinstance(error, ValueError)
    worker.post(int, "12")
    assert worker.outcome() == (12, None)


def test_a_chunk_not_waited_for_is_finished_before_the_next_starts(worker):
    """A caller stopped by Ctrl-C before it waited leaves its chunk running: the next post
    waits for it."""
    order = []

    def slow(name):
        time.sleep(20 * SPIN_SECONDS)
        order.append(name)
        return name
    worker.post(slow, "first")
    worker.post(slow, "second")
    assert worker.outcome() == ("second", None) and order == ["first", "second"]


def test_a_post_stopped_before_its_ring_is_rung_by_the_next_wait(monkeypatch):
    """Ctrl-C between counting a chunk as posted and waking the sleeping thread (a mocked
    one here: test_ctrl_c.py sends real ones, but this gap is too short to hit by chance)."""
    thread = Worker("minicnn-test")
    time.sleep(0.05)   # it stops polling and sleeps

    def interrupted(bell):
        raise KeyboardInterrupt
    monkeypatch.setattr(workers, "_ring", interrupted)
    with pytest.raises(KeyboardInterrupt):
        thread.post(divmod, 7, 2)
    monkeypatch.undo()
    outcomes = []
    waiter = threading.Thread(target=lambda: outcomes.append(thread.outcome()), daemon=True)
    waiter.start()
    waiter.join(timeout=10)
    assert outcomes == [((3, 1), None)], "the chunk never ran: its thread was not woken"
    thread.stop()


def test_stop_ends_the_thread():
    thread = Worker("minicnn-test")
    thread.stop()
    assert not thread._thread.is_alive()


@pytest.mark.skipif(workers.current_cpu is None, reason="needs Linux's sched_getcpu and sched_setaffinity")
def test_held_while_polling_and_let_go_when_idle(worker):
    allowed = os.sched_getaffinity(0)
    worker.post(workers.current_cpu)
    cpu, _ = worker.outcome()
    # Polling for the next chunk, it stays on the CPU it ran on, and says so.
    assert worker.held_cpu == cpu and os.sched_getaffinity(worker._thread.native_id) == {cpu}
    # It lets go once its poll times out; a loaded machine may run it late, so wait up to 2 s.
    deadline = time.perf_counter() + 2
    while worker.held_cpu != -1 and time.perf_counter() < deadline:
        time.sleep(SPIN_SECONDS)
    assert worker.held_cpu == -1 and os.sched_getaffinity(worker._thread.native_id) == allowed


@pytest.mark.skipif(workers.current_cpu is None or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux's sched_getcpu and at least two CPUs")
def test_a_sleeping_thread_is_woken_where_it_was_placed(worker):
    time.sleep(20 * SPIN_SECONDS)
    target = max(os.sched_getaffinity(0))
    worker.place(target)
    worker.post(workers.current_cpu)
    assert worker.outcome() == (target, None)


@pytest.mark.skipif(workers._sched_yield is None, reason="polls only on Linux")
def test_a_poll_gives_up_after_its_time_and_sees_a_change():
    counters = numpy.zeros(3, numpy.int64)
    start = time.perf_counter()
    assert not workers._poll(counters, 0, 0, 0.002)
    assert 0.002 <= time.perf_counter() - start < 0.5
    counters[1] = 5
    assert workers._poll(counters, 1, 0, 10.0)


@pytest.mark.skipif(workers._sched_yield is None, reason="polls only on Linux")
def test_the_poll_is_cached_so_that_a_new_process_does_not_compile_it():
    """Compiled once per install (0.5 s), then loaded (0.01 s): a second dispatcher of the same
    function, as in a new process, finds it in Numba's cache."""
    counters = numpy.zeros(3, numpy.int64)
    for _ in range(2):
        fresh = njit(nogil=True, cache=True)(workers._poll.py_func)
        fresh(counters, 0, 0, 0.0)
    assert fresh.stats.cache_hits and not fresh.stats.cache_misses
