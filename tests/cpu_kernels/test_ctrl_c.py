"""Ctrl-C during kernels and training steps: real SIGINTs at random moments, then a correct result.

A SIGINT interrupts the main thread between any two Python steps, and so anywhere in the
thread pool's hand-off: while it posts chunks, while it runs its own, while it waits for the
others'. After each one the interrupt must have reached the caller promptly, the next call
must give the right answer (a hang ends in the parent's timeout), and no thread may stay held
on one CPU. The trials run in a child process, where a real SIGINT cannot stop the test run:

    python tests/cpu_kernels/test_ctrl_c.py --trials 300 --seed 1     (by hand)
"""
import argparse
import faulthandler
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy
import pytest

ROOT = Path(__file__).resolve().parents[2]
# Longest a SIGINT may take to become a KeyboardInterrupt in the caller: a kernel's chunk
# runs to its end first (milliseconds); the rest is room for a machine shared with others.
PROMPT_SECONDS = 2.0


def _run_trials(trials, seed, timeout):
    """The child ends itself (printing every thread's stack) if it runs past `timeout`."""
    path = [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    result = subprocess.run(
        [sys.executable, __file__, "--trials", str(trials), "--seed", str(seed), "--timeout", str(timeout)],
        capture_output=True, text=True, timeout=timeout + 30, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(path)})
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["interrupted"] == trials
    assert summary["slowest_interrupt_seconds"] < PROMPT_SECONDS, summary


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32",
                    reason="needs POSIX signals")
def test_ctrl_c_at_random_moments_leaves_kernels_and_training_working():
    _run_trials(trials=24, seed=0, timeout=120)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32",
                    reason="needs POSIX signals")
@pytest.mark.parametrize("seed", [1, 2])
def test_ctrl_c_at_many_random_moments(seed):
    _run_trials(trials=400, seed=seed, timeout=900)


# ---- the child process ----------------------------------------------------------------

WAITED_FOR = """
import os, signal, threading, time
from minicnn.cpu_kernels import threads

threads.set_num_threads(2)
finished = []

def chunk(start, stop):
    if start > 0:            # the worker's chunk: 0.5 s, without the GIL
        time.sleep(0.5)
        finished.append(stop)

threads.parallel_for(chunk, 2)    # the pool started
finished.clear()
threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    threads.parallel_for(chunk, 2)
except KeyboardInterrupt:
    print(finished)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32",
                    reason="needs POSIX signals")
def test_ctrl_c_while_the_caller_waits_returns_after_the_workers_chunks_end():
    """A SIGINT that lands while the caller waits for a worker's chunk is raised only once the
    chunk is done: a chunk left running would overlap the caller's next BLAS calls."""
    result = subprocess.run([sys.executable, "-c", WAITED_FOR], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.stdout.strip() == "[2]", result.stdout + result.stderr


def _workloads():
    """Name -> a function that runs a piece of work the pool splits, and `probe`, which computes
    fixed results from fixed inputs (compared with its first answer after every interrupt)."""
    import minicnn
    from minicnn import optim
    from minicnn.cpu_kernels import threads
    from minicnn.functional import conv2d, cross_entropy
    from minicnn.models import LeNet5

    rng = numpy.random.default_rng(0)
    images = minicnn.tensor(rng.random((64, 1, 28, 28), dtype=numpy.float32))
    labels = minicnn.tensor(rng.integers(0, 10, 64))
    x = minicnn.tensor(rng.standard_normal((32, 8, 32, 32), dtype=numpy.float32),
                       requires_grad=True)
    w = minicnn.tensor(rng.standard_normal((16, 8, 3, 3), dtype=numpy.float32),
                       requires_grad=True)
    a = rng.standard_normal((400, 300))
    b = rng.standard_normal((300, 200))
    minicnn.manual_seed(0)
    trained, fixed = LeNet5(), LeNet5()
    optimizer = optim.SGD(trained.parameters(), lr=0.01, momentum=0.9)

    def conv_forward_backward():
        x.grad = w.grad = None
        conv2d(x, w, padding=1).sum().backward()
        return [x.grad.numpy(), w.grad.numpy()]

    def training_step():
        optimizer.zero_grad()
        cross_entropy(trained(images), labels).backward()
        optimizer.step()

    def split_matmul():
        return threads.matmul(a, b)

    def probe():
        for parameter in fixed.parameters():
            parameter.grad = None
        loss = cross_entropy(fixed(images), labels)
        loss.backward()
        return ([loss.numpy()] + [parameter.grad.numpy() for parameter in fixed.parameters()]
                + conv_forward_backward() + [split_matmul()])

    return {"conv": conv_forward_backward, "training step": training_step,
            "matmul": split_matmul}, probe


def _interrupted(work, delay):
    """Run work() over and over until a real SIGINT, sent by another thread `delay` seconds
    from now, interrupts it; return the seconds between the signal and the KeyboardInterrupt."""
    sent = []

    def send():
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)
    timer = threading.Timer(delay, send)
    try:
        timer.start()    # (inside the try: the signal may come before start returns)
        while True:
            work()
    except KeyboardInterrupt:
        caught = time.perf_counter()
    timer.join()
    return caught - sent[0]


def _threads_held_on_one_cpu(allowed):
    """The process's threads whose CPU set is not `allowed`, once the pool had time to go idle
    (none where threads cannot be placed: only Linux lists them in /proc/self/task)."""
    if not os.path.isdir("/proc/self/task"):
        return []
    deadline = time.monotonic() + 5
    while True:
        held = [tid for tid in map(int, os.listdir("/proc/self/task"))
                if _affinity(tid) not in (allowed, None)]
        if not held or time.monotonic() > deadline:
            return held
        time.sleep(0.01)


def _affinity(tid):
    try:
        return os.sched_getaffinity(tid)
    except OSError:   # the thread ended meanwhile
        return None


def _trials(count, seed):
    from minicnn.cpu_kernels import threads

    threads.set_num_threads(2)
    workloads, probe = _workloads()
    expected = probe()
    seconds = {}
    for name, work in workloads.items():
        work()                                   # compiled and tuned before any interrupt
        start = time.perf_counter()
        work()
        seconds[name] = time.perf_counter() - start
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    rng = random.Random(seed)
    latencies = []
    for trial in range(count):
        name = list(workloads)[trial % len(workloads)]
        latencies.append(_interrupted(workloads[name], rng.uniform(0, 3 * seconds[name])))
        assert allowed is None or os.sched_getaffinity(0) == allowed, \
            f"trial {trial} ({name}): the caller stays held on one CPU"
        for got, want in zip(probe(), expected):
            numpy.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6,
                                          err_msg=f"after trial {trial} ({name})")
        held = _threads_held_on_one_cpu(allowed)
        assert not held, f"trial {trial} ({name}): threads {held} stay held on one CPU"
    print(json.dumps({"interrupted": len(latencies), "slowest_interrupt_seconds": max(latencies)}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds before a hang is reported")
    options = parser.parse_args()
    faulthandler.dump_traceback_later(options.timeout, exit=True)
    _trials(options.trials, options.seed)
