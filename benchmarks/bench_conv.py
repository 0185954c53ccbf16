"""Time minicnn's conv2d (and max_pool2d) against PyTorch's CPU kernels, float32.

    python benchmarks/bench_conv.py [--repeats 15] [--threads 1 2] [--algorithm default]

For each shape (N, Cin, H, W, Cout, k, stride, pad) it prints the median time of the
forward pass and of forward + backward (gradients for input, weight and bias), for
minicnn and for PyTorch in the same process, timed alternately, and minicnn's time over
PyTorch's.
The machine's load changes results; the load average is printed with the table.
"""
import argparse
import os
import statistics
import time

import numpy
import torch

import minicnn
import minicnn.functional as F
from minicnn.cpu_kernels.dispatch import ALGORITHMS
from minicnn.cpu_kernels.threads import set_num_threads

SHAPES = {
    "A": (64, 1, 28, 28, 6, 5, 1, 0),
    "B": (64, 6, 12, 12, 16, 5, 1, 0),
    "C": (64, 64, 32, 32, 64, 3, 1, 1),
    "D": (32, 3, 64, 64, 32, 3, 2, 1),
    "E": (16, 128, 16, 16, 256, 3, 1, 1),
}


def median_times(first, second, repeats):
    """Median seconds of two steps timed alternately, so both see the same machine load."""
    first(), second()   # warm-up: compilation, caches, the choices of --algorithm auto
    times = ([], [])
    for _ in range(repeats):
        for step, record in zip((first, second), times):
            # PyTorch's OpenMP workers spin for a while after a call; a pause lets them
            # sleep, so neither library's turn starts with the other's threads still on a
            # core. The pause also lets this library's own threads and CPUs go idle, and
            # waking them made the call after it up to 1.5x slower in both libraries: one
            # untimed call first, so that the timed one measures a running program.
            time.sleep(0.1)
            step()
            start = time.perf_counter()
            step()
            record.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def steps(framework, operation, arrays):
    """(forward, forward + backward) closures for one framework."""
    if framework == "torch":
        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
        ones = torch.ones_like(operation(*tensors))
    else:
        tensors = [minicnn.tensor(a, requires_grad=True) for a in arrays]
        ones = minicnn.tensor(numpy.ones(operation(*tensors).shape, dtype=numpy.float32))

    def forward():
        if framework == "torch":
            with torch.no_grad():
                operation(*tensors)
        else:
            with minicnn.no_grad():
                operation(*tensors)

    def forward_backward():
        for t in tensors:
            t.grad = None
        operation(*tensors).backward(ones)
    return forward, forward_backward


def compare(name, arrays, ours, theirs, threads, repeats):
    row = [name, str(threads)]
    for index in range(2):
        mine, reference = median_times(steps("minicnn", ours, arrays)[index],
                                       steps("torch", theirs, arrays)[index], repeats)
        row += [f"{1e3 * mine:.2f}", f"{1e3 * reference:.2f}", f"{mine / reference:.2f}x"]
    print("| " + " | ".join(row) + " |", flush=True)


def main():
    minicnn.backend.keep_freed_memory()   # process-wide, so only in scripts (backend/memory.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--algorithm", default="default", choices=ALGORITHMS)
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES) + ["pool"])
    args = parser.parse_args()
    F.set_conv_algorithm(args.algorithm)
    rng = numpy.random.default_rng(0)
    print(f"load average {os.getloadavg()}, torch {torch.__version__}, algorithm {args.algorithm}")
    print("| shape | threads | minicnn fwd ms | torch fwd ms | ratio | minicnn fwd+bwd ms "
          "| torch fwd+bwd ms | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for threads in args.threads:
        torch.set_num_threads(threads)
        set_num_threads(threads)
        for name in args.shapes:
            if name == "pool":
                pool(rng, threads, args.repeats)
                continue
            batch, cin, height, width, cout, kernel, stride, pad = SHAPES[name]
            arrays = [rng.standard_normal(shape).astype(numpy.float32) for shape in
                      [(batch, cin, height, width), (cout, cin, kernel, kernel), (cout,)]]
            compare(f"{name} {SHAPES[name]}", arrays,
                    lambda x, w, b: F.conv2d(x, w, b, stride, pad),
                    lambda x, w, b: torch.nn.functional.conv2d(x, w, b, stride, pad),
                    threads, args.repeats)


def pool(rng, threads, repeats):
    name = "max_pool2d 2x2 (64, 64, 32, 32)"
    if not hasattr(F, "max_pool2d"):
        print(f"| {name} | {threads} | minicnn.functional.max_pool2d is not there yet |")
        return
    x = rng.standard_normal((64, 64, 32, 32)).astype(numpy.float32)
    compare(name, [x], lambda t: F.max_pool2d(t, 2), lambda t: torch.nn.functional.max_pool2d(t, 2),
            threads, repeats)


if __name__ == "__main__":
    main()
