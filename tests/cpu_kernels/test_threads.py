"""The thread pool: chunks split and placed correctly, matmul equal to NumPy's, BLAS on one
thread inside the kernels only."""
import os
import threading
import time

import numpy
import pytest
from hypothesis import given, strategies as st
from threadpoolctl import threadpool_info, threadpool_limits

from minicnn.cpu_kernels import threads
from minicnn.cpu_kernels.workers import SPIN_SECONDS


@pytest.fixture
def two_threads_on_any_product(monkeypatch):
    """Every product split, however small: the shapes drawn are far below the real threshold."""
    previous = threads.num_threads()
    monkeypatch.setattr(threads, "_MIN_MULTIPLY_ADDS_PER_THREAD", 1)
    threads.set_num_threads(2)
    yield
    threads.set_num_threads(previous)


@given(stack_a=st.sampled_from([(), (3,), (2, 1)]), stack_b=st.sampled_from([(), (1,), (2, 3)]),
       n=st.integers(0, 7), k=st.integers(0, 5), m=st.integers(0, 7),
       dtypes=st.sampled_from([(numpy.float64, numpy.float64), (numpy.float32, numpy.float32),
                               (numpy.float32, numpy.float64)]))
def test_matmul_equals_numpys(two_threads_on_any_product, stack_a, stack_b, n, k, m, dtypes):
    rng = numpy.random.default_rng(n * 100 + k * 10 + m)
    a = rng.standard_normal(stack_a + (n, k)).astype(dtypes[0])
    b = rng.standard_normal(stack_b + (k, m)).astype(dtypes[1])
    expected = numpy.matmul(a, b)
    ours = threads.matmul(a, b)
    assert ours.shape == expected.shape and ours.dtype == expected.dtype
    numpy.testing.assert_allclose(ours, expected, rtol=1e-5)


def test_matmul_of_strided_views(two_threads_on_any_product):
    """Transposed operands (as the backward passes make) are multiplied without a copy going wrong."""
    rng = numpy.random.default_rng(0)
    a, b = rng.standard_normal((9, 6)), rng.standard_normal((8, 6))
    numpy.testing.assert_allclose(threads.matmul(a, b.T), a @ b.T, rtol=1e-12)
    numpy.testing.assert_allclose(threads.matmul(a.T, a), a.T @ a, rtol=1e-12)


def _blas_thread_counts():
    """Of NumPy's BLAS (the one in NumPy's folder where pip's wheels put it, else all)."""
    blas = [library for library in threadpool_info() if library["user_api"] == "blas"]
    numpys = [library for library in blas
              if library["filepath"].startswith(os.path.dirname(numpy.__file__))]
    return [library["num_threads"] for library in numpys or blas]


@pytest.mark.parametrize("count", [1, 2])
def test_blas_runs_on_one_thread_inside_a_call_only(two_threads_on_any_product, count):
    """On the caller's thread and the pool's, split or not (threads.py says why); the caller's
    own setting is given back after the call, and after a call that failed."""
    with threadpool_limits(limits=3, user_api="blas"):
        counts = threads.parallel_for(lambda start, stop: _blas_thread_counts(), count)
        assert len(counts) == count and all(set(seen) == {1} for seen in counts)
        assert set(_blas_thread_counts()) == {3}

        def fail(start, stop):
            raise ArithmeticError
        with pytest.raises(ArithmeticError):
            threads.parallel_for(fail, count)
        assert set(_blas_thread_counts()) == {3}


@pytest.mark.skipif(threads._sched_getcpu is None or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux's sched_getcpu and at least two CPUs")
def test_chunks_run_on_distinct_cpus_and_nothing_stays_pinned(two_threads_on_any_product):
    before = os.sched_getaffinity(0)
    seen = {}

    def record(start, stop):
        seen[start] = (threads._sched_getcpu(), os.sched_getaffinity(0))
    # Back to back (the pool thread still polls) and after pauses (it sleeps, and a woken
    # thread often lands on the caller's CPU): either way the chunks run on distinct CPUs.
    for pause in [0] * 10 + [20 * SPIN_SECONDS] * 10:
        time.sleep(pause)
        threads.parallel_for(record, 2)
        (caller_cpu, caller_allowed), (pool_cpu, _) = seen[0], seen[1]
        assert caller_allowed == {caller_cpu} and pool_cpu != caller_cpu
    assert os.sched_getaffinity(0) == before
    time.sleep(20 * SPIN_SECONDS)   # the pool thread stops polling and lets go of its CPU
    for worker in threads._workers:
        assert worker.held_cpu == -1
        assert os.sched_getaffinity(worker._thread.native_id) == before


def test_an_exception_in_a_chunk_reaches_the_caller(two_threads_on_any_product):
    def fail(start, stop):
        if start > 0:
            raise ArithmeticError(f"chunk {start}")
    with pytest.raises(ArithmeticError, match="chunk"):
        threads.parallel_for(fail, 4)


@pytest.mark.skipif(threads._sched_getcpu is None or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux's sched_getcpu and at least two CPUs")
def test_a_call_stopped_while_posting_leaves_no_thread_held(two_threads_on_any_product,
                                                            monkeypatch):
    """Ctrl-C after a sleeping thread was placed on a CPU for its chunk, before it got it (a
    mocked one here: test_ctrl_c.py sends real ones, but this gap is too short to hit)."""
    threads.parallel_for(lambda a, b: None, 2)
    time.sleep(0.05)   # the pool thread stops polling, lets go of its CPU and sleeps
    (worker,) = threads._workers

    def interrupted(*arguments):
        raise KeyboardInterrupt
    monkeypatch.setattr(worker, "post", interrupted)
    with pytest.raises(KeyboardInterrupt):
        threads.parallel_for(lambda a, b: None, 2)
    assert worker.held_cpu == -1
    assert os.sched_getaffinity(worker._thread.native_id) == os.sched_getaffinity(0)


def test_parallel_for_returns_the_chunks_results_in_chunk_order(two_threads_on_any_product):
    def slow_first(start, stop):
        if start == 0:
            time.sleep(0.01)   # the other chunk finishes first
        return start, stop
    assert threads.parallel_for(slow_first, 10) == [(0, 5), (5, 10)]
    assert threads.parallel_for(slow_first, 1) == [(0, 1)]


def test_a_call_while_the_pool_is_busy_runs_on_its_own_thread(two_threads_on_any_product):
    """From inside a chunk (or another thread), parallel_for does not wait for the pool it holds."""
    def outer(start, stop):
        return threads.parallel_for(lambda a, b: (a, b), 6)
    assert threads.parallel_for(outer, 2) == [[(0, 6)], [(0, 6)]]


def test_set_num_threads_resizes_the_pool_at_its_next_use(two_threads_on_any_product):
    threads.set_num_threads(3)
    assert threads.parallel_for(lambda a, b: (a, b), 3) == [(0, 1), (1, 2), (2, 3)]
    old = list(threads._workers)
    assert len(old) == 2
    threads.set_num_threads(2)
    assert threads.parallel_for(lambda a, b: (a, b), 3) == [(0, 1), (1, 3)]
    assert threads._workers == old[:1] and not old[1]._thread.is_alive()


def test_an_exception_in_the_callers_chunk_leaves_the_pool_working(two_threads_on_any_product):
    """As a KeyboardInterrupt would (test_ctrl_c.py sends real ones): the other chunks are
    waited for, and the next call gets the pool."""
    finished = []

    def interrupted(start, stop):
        if start == 0:
            raise KeyboardInterrupt
        time.sleep(0.01)
        finished.append(start)
    with pytest.raises(KeyboardInterrupt):
        threads.parallel_for(interrupted, 2)
    assert finished == [1]
    assert threads.parallel_for(lambda a, b: threading.get_ident(), 2)[1] != threading.get_ident()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_pool_of_its_own(two_threads_on_any_product):
    """The parent's pool threads do not exist in a forked child: posting to them would hang."""
    threads.parallel_for(lambda a, b: None, 2)
    child = os.fork()
    if child == 0:
        ok = threads.parallel_for(lambda a, b: (a, b), 4) == [(0, 2), (2, 4)]
        os._exit(0 if ok else 1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.01)
    os.kill(child, 9)
    os.waitpid(child, 0)
    pytest.fail("parallel_for in a forked child did not return within 30 s")
