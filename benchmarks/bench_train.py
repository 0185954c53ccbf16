"""LeNet-5 training speed (images/second) of minicnn and PyTorch on the CPU, and a memory check.

    python benchmarks/bench_train.py                   speed, 1 and 2 threads
    python benchmarks/bench_train.py --memory 10000    RSS every 1,000 of 10,000 steps

One step = forward, cross-entropy, backward, SGD update on a batch of 64 1x28x28 images.
Each number is the median over --repeats timed runs of --steps steps, after warm-up steps
(Numba compiles the kernels on first use). Both libraries run in this one process, taking
turns, with the same thread limit: minicnn's thread pool (its BLAS always runs on one
thread), torch.set_num_threads for PyTorch. Target: minicnn at least 0.6x PyTorch's images/second on 2 threads.
"""
import argparse
import os
import statistics
import time

import numpy

import minicnn
from minicnn import optim
from minicnn.cpu_kernels import threads
from minicnn.functional import cross_entropy
from minicnn.models import LeNet5

BATCH = 64


def batch(seed=0):
    rng = numpy.random.default_rng(seed)
    return (rng.random((BATCH, 1, 28, 28), dtype=numpy.float32),
            rng.integers(0, 10, BATCH).astype(numpy.int64))


def minicnn_step_function():
    minicnn.manual_seed(0)
    model = LeNet5()
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images, labels = (minicnn.tensor(a) for a in batch())

    def step():
        optimizer.zero_grad()
        loss = cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss
    return step


def torch_step_function(torch):
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                          nn.Linear(84, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images, labels = (torch.from_numpy(a) for a in batch())

    def step():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss
    return step


def images_per_second(step_functions, steps, repeats, warmup=5, batch=BATCH):
    """Median images/second of each step function (`batch` images a step). The functions take
    turns within every repeat, so a burst of load from other processes hits all of them alike."""
    for step in step_functions:
        for _ in range(warmup):
            step()
    rates = [[] for _ in step_functions]
    for _ in range(repeats):
        for step, rate in zip(step_functions, rates):
            # PyTorch's OpenMP workers spin for a while after a call; a pause lets them sleep,
            # so neither library's turn starts with the other's threads still on a core. The
            # pause also lets this library's own threads and CPUs go idle, and waking them
            # cost the first steps after it up to twice their time: a few untimed steps
            # after the pause, so that the timed ones measure a running training loop.
            time.sleep(0.5)
            for _ in range(warmup):
                step()
            began = time.perf_counter()
            for _ in range(steps):
                step()
            rate.append(steps * batch / (time.perf_counter() - began))
    return [statistics.median(rate) for rate in rates]


def speed(args):
    try:
        import torch
    except ImportError:
        torch = None
    steps = [minicnn_step_function()] + ([torch_step_function(torch)] if torch else [])
    print(f"LeNet-5 training step, batch {BATCH}, SGD; median of {args.repeats} x {args.steps} steps")
    for count in args.threads:
        threads.set_num_threads(count)
        if torch:
            torch.set_num_threads(count)
        rates = images_per_second(steps, args.steps, args.repeats)
        line = f"{count} thread{'s' if count > 1 else ' '}  minicnn {rates[0]:8.0f} img/s"
        if torch:
            line += f"   PyTorch {rates[1]:8.0f} img/s   ratio {rates[0] / rates[1]:.2f}x"
        print(line, flush=True)


def resident_megabytes():
    """Current resident set size (Linux /proc; elsewhere the peak from getrusage)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory(args):
    """Run many steps and print RSS: a leak of graphs or gradients shows as steady growth."""
    step = minicnn_step_function()
    interval = max(1, args.memory // 10)
    readings = []
    for number in range(1, args.memory + 1):
        step()
        if number % interval == 0:
            readings.append(resident_megabytes())
            print(f"step {number:6d}  RSS {readings[-1]:7.1f} MiB", flush=True)
    growth = readings[-1] - readings[0]
    print(f"RSS growth from step {interval} to {args.memory}: {growth:+.1f} MiB "
          f"({'flat' if abs(growth) < 20 else 'GROWING: graphs or arrays are kept alive'})")


def main():
    minicnn.backend.keep_freed_memory()   # process-wide, so only in scripts (backend/memory.py)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=50, help="steps per timed run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs; the median is shown")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--memory", type=int, metavar="STEPS",
                        help="instead of timing, run STEPS steps and print the memory in use")
    args = parser.parse_args()
    if args.memory:
        memory(args)
    else:
        speed(args)


if __name__ == "__main__":
    main()
