"""Where does the GPU start to win? minicnn on the CPU, minicnn on the GPU, PyTorch on the GPU.

    python benchmarks/cpu_vs_gpu.py [--repeats 10] [--out benchmarks/cpu_vs_gpu.png] [--quick]
                                    [--json results.json]

In one process it times, with medians of repeated runs (GPU timings synchronise first):
  * conv2d forward + backward on the shapes A-E of bench_conv.py, and max_pool2d 2x2;
  * a full training step (forward, cross-entropy, backward, SGD update) of LeNet-5 on
    1x28x28 and of ResNet-20 on 3x32x32 at batch sizes 1, 8, 32, 128, 512,
then prints a table with ratios, the crossover batch size (from which on minicnn's GPU step
beats its CPU step) and issue 13's targets, and saves a plot of images/second against batch
size. Columns whose framework or device is missing (no GPU, no CuPy, no torch) say so; the
CPU column alone runs anywhere. --json also writes every timing with the device and date.
"""
import argparse
import datetime
import json
import os
import statistics
import time

import numpy

import minicnn
import minicnn.functional as F
from bench_conv import SHAPES
from minicnn.models import LeNet5, resnet20

BATCH_SIZES = (1, 8, 32, 128, 512)
# Issue 13's targets on an H100: conv forward + backward at least half cuDNN's speed on these
# shapes, and the ResNet-20 step at this batch size at least this many times the CPU's speed.
CONV_TARGET_SHAPES, CONV_TARGET = ("C", "E"), 0.5
RESNET_TARGET_BATCH, RESNET_TARGET = 128, 20.0


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def median_seconds(step, repeats, synchronize):
    step()
    synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class Backend:
    """One column of the table: a framework on a device."""

    def __init__(self, name, framework, device):
        self.name, self.framework, self.device = name, framework, device

    def synchronize(self):
        if self.framework == "minicnn":
            minicnn.cuda.synchronize()
        elif self.device == "cuda":
            _torch().cuda.synchronize()

    def conv_step(self, arrays, stride, padding):
        if self.framework == "minicnn":
            x, w, b = (minicnn.tensor(a, requires_grad=True, device=self.device) for a in arrays)
            op = lambda: F.conv2d(x, w, b, stride=stride, padding=padding)
        else:
            torch = _torch()
            x, w, b = (torch.tensor(a, requires_grad=True, device=self.device) for a in arrays)
            op = lambda: torch.nn.functional.conv2d(x, w, b, stride=stride, padding=padding)
        return lambda: op().sum().backward()

    def pool_step(self, array):
        if self.framework == "minicnn":
            x = minicnn.tensor(array, requires_grad=True, device=self.device)
            return lambda: F.max_pool2d(x, 2).sum().backward()
        torch = _torch()
        x = torch.tensor(array, requires_grad=True, device=self.device)
        return lambda: torch.nn.functional.max_pool2d(x, 2).sum().backward()

    def train_step(self, model_name, batch_size):
        shape = (batch_size, 1, 28, 28) if model_name == "lenet5" else (batch_size, 3, 32, 32)
        rng = numpy.random.default_rng(0)
        images = rng.standard_normal(shape).astype(numpy.float32)
        labels = rng.integers(0, 10, batch_size)
        if self.framework == "minicnn":
            model = (LeNet5() if model_name == "lenet5" else resnet20()).to(self.device)
            optimizer = minicnn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            x = minicnn.tensor(images, device=self.device)
            y = minicnn.tensor(labels, device=self.device)
            loss_fn = F.cross_entropy
        else:
            torch = _torch()
            model = (torch_lenet5() if model_name == "lenet5" else torch_resnet20()).to(self.device)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            x = torch.tensor(images, device=self.device)
            y = torch.tensor(labels, device=self.device)
            loss_fn = torch.nn.functional.cross_entropy

        def step():
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
        return step


def torch_lenet5():
    nn = _torch().nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def torch_resnet20():
    """The same ResNet-20 as minicnn.models.resnet20: option A (zero-padding) shortcuts."""
    torch = _torch()
    nn, functional = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.stride, self.extra = stride, cout - cin

        def forward(self, x):
            out = self.bn2(self.conv2(functional.relu(self.bn1(self.conv1(x)))))
            shortcut = x[:, :, ::self.stride, ::self.stride]
            if self.extra:
                shortcut = functional.pad(shortcut, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))
            return functional.relu(out + shortcut)

    layers, cin = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()], 16
    for stage, width in enumerate((16, 32, 64)):
        for block in range(3):
            layers.append(Block(cin, width, 2 if stage and not block else 1))
            cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def available_backends():
    backends = [Backend("minicnn CPU", "minicnn", "cpu")]
    missing = []
    if minicnn.cuda.is_available():
        backends.append(Backend("minicnn GPU", "minicnn", "cuda"))
    else:
        missing.append("minicnn GPU (no CuPy or no CUDA device)")
    torch = _torch()
    if torch is not None and torch.cuda.is_available():
        torch.backends.cudnn.benchmark = True
        backends.append(Backend("PyTorch GPU", "torch", "cuda"))
    else:
        missing.append("PyTorch GPU (torch missing or no CUDA device)")
    return backends, missing


def main():
    minicnn.backend.keep_freed_memory()   # process-wide, so only in scripts (backend/memory.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--cpu-repeats", type=int, default=3,
                        help="repeats for minicnn on the CPU, whose large batches take seconds")
    parser.add_argument("--out", default="benchmarks/cpu_vs_gpu.png")
    parser.add_argument("--quick", action="store_true", help="batch sizes 1, 8, 32 only")
    parser.add_argument("--json", help="also write every timing, the device and the date here")
    args = parser.parse_args()
    backends, missing = available_backends()
    names = [b.name for b in backends]
    print("columns:", ", ".join(names), "| missing:", ", ".join(missing) or "none")
    print("device:", device_description())
    record = {"date": datetime.date.today().isoformat(), "device": device_description(),
              "columns": names, "seconds": {}}
    repeats = {b.name: args.cpu_repeats if b.device == "cpu" else args.repeats for b in backends}

    print("\nconv2d forward+backward, float32, median ms")
    print(f"{'shape':6}" + "".join(f"{n:>14}" for n in names) + "   ratios")
    rng = numpy.random.default_rng(0)
    for label, (n, cin, h, w, cout, k, stride, pad) in SHAPES.items():
        arrays = (rng.standard_normal((n, cin, h, w)).astype(numpy.float32),
                  rng.standard_normal((cout, cin, k, k)).astype(numpy.float32) * 0.1,
                  rng.standard_normal(cout).astype(numpy.float32))
        times = {b.name: median_seconds(b.conv_step(arrays, stride, pad), repeats[b.name], b.synchronize)
                 for b in backends}
        record["seconds"][f"conv {label}"] = times
        print(f"{label:6}" + "".join(f"{1e3 * times[n]:14.3f}" for n in names) + "   " + _ratios(times))
    pool_input = rng.standard_normal((64, 64, 32, 32)).astype(numpy.float32)
    times = {b.name: median_seconds(b.pool_step(pool_input), repeats[b.name], b.synchronize)
             for b in backends}
    record["seconds"]["max_pool2d"] = times
    print(f"{'pool':6}" + "".join(f"{1e3 * times[n]:14.3f}" for n in names) + "   " + _ratios(times))

    batch_sizes = BATCH_SIZES[:3] if args.quick else BATCH_SIZES
    throughput = {}
    for model_name in ("lenet5", "resnet20"):
        print(f"\n{model_name} training step (SGD, momentum 0.9), images/second")
        print(f"{'batch':6}" + "".join(f"{n:>14}" for n in names) + "   ratios (time)")
        for batch in batch_sizes:
            times = {b.name: median_seconds(b.train_step(model_name, batch), repeats[b.name], b.synchronize)
                     for b in backends}
            record["seconds"][f"{model_name} step, batch {batch}"] = times
            for name, seconds in times.items():
                throughput.setdefault((model_name, name), []).append(batch / seconds)
            print(f"{batch:<6}" + "".join(f"{batch / times[n]:14.1f}" for n in names) + "   " + _ratios(times))
    crossovers = {}
    if "minicnn GPU" in names:
        print()
        for model_name in ("lenet5", "resnet20"):
            crossovers[model_name] = crossover(batch_sizes, throughput[(model_name, "minicnn CPU")],
                                               throughput[(model_name, "minicnn GPU")])
            print(f"{model_name}: minicnn's GPU step is faster than its CPU step from batch size "
                  f"{crossovers[model_name]} on" if crossovers[model_name] else
                  f"{model_name}: minicnn's GPU step is not faster than its CPU step up to batch "
                  f"size {batch_sizes[-1]}")
    record["crossover_batch_size"] = crossovers
    record["targets"] = check_targets(record["seconds"])
    _plot(throughput, batch_sizes, crossovers, args.out)
    if args.json:
        with open(args.json, "w") as file:
            json.dump(record, file, indent=1)
        print(f"timings written to {args.json}")


def device_description():
    if not minicnn.cuda.is_available():
        return f"no GPU; {os.cpu_count()} CPUs"
    import cupy
    name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    return f"{name}, CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()}; {os.cpu_count()} CPUs"


def crossover(batch_sizes, cpu_throughput, gpu_throughput):
    """The smallest batch size from which on the GPU step is faster at every larger size too."""
    for k, batch in enumerate(batch_sizes):
        if all(gpu > cpu for gpu, cpu in zip(gpu_throughput[k:], cpu_throughput[k:])):
            return batch
    return None


def check_targets(seconds):
    """Print issue 13's targets against the measured times; returns {target: met or None}."""
    results = {}
    print("\ntargets (issue 13, measured on an H100):")
    for label in CONV_TARGET_SHAPES:
        times = seconds.get(f"conv {label}", {})
        if "minicnn GPU" in times and "PyTorch GPU" in times:
            speed = times["PyTorch GPU"] / times["minicnn GPU"]
            results[f"conv {label}"] = speed >= CONV_TARGET
            print(f"  conv {label} forward+backward: minicnn GPU at {speed:.2f}x PyTorch GPU's "
                  f"speed (target {CONV_TARGET}x): {'met' if speed >= CONV_TARGET else 'NOT met'}")
    times = seconds.get(f"resnet20 step, batch {RESNET_TARGET_BATCH}", {})
    if "minicnn GPU" in times:
        speedup = times["minicnn CPU"] / times["minicnn GPU"]
        results["resnet20 speed-up"] = speedup >= RESNET_TARGET
        print(f"  resnet20 step at batch {RESNET_TARGET_BATCH}: GPU {speedup:.1f}x minicnn's CPU "
              f"(target {RESNET_TARGET}x): {'met' if speedup >= RESNET_TARGET else 'NOT met'}")
    if not results:
        print("  none measurable here (needs minicnn GPU, PyTorch GPU and batch size 128)")
    return results


def _ratios(times):
    """Each GPU column's time against minicnn CPU's, and minicnn GPU's against PyTorch GPU's."""
    parts = []
    cpu, gpu, torch_gpu = (times.get(k) for k in ("minicnn CPU", "minicnn GPU", "PyTorch GPU"))
    if cpu and gpu:
        parts.append(f"GPU speed-up over CPU {cpu / gpu:.1f}x")
    if gpu and torch_gpu:
        parts.append(f"minicnn GPU at {torch_gpu / gpu:.2f}x PyTorch GPU's speed")
    return "; ".join(parts)


def _plot(throughput, batch_sizes, crossovers, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, model_name in zip(axes, ("lenet5", "resnet20")):
        for (model, name), values in throughput.items():
            if model == model_name:
                axis.plot(batch_sizes, values, marker="o", label=name)
        if crossovers.get(model_name):
            axis.axvline(crossovers[model_name], color="grey", linestyle=":",
                         label=f"minicnn GPU faster than CPU from batch {crossovers[model_name]}")
        axis.set(xscale="log", yscale="log", xlabel="batch size", ylabel="images / second",
                 title=f"{model_name} training step")
        axis.set_xticks(batch_sizes, [str(b) for b in batch_sizes])
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    print(f"\nplot saved to {path}")


if __name__ == "__main__":
    main()
