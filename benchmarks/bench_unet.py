"""One training step of the small U-Net at 128x128, batch 8: minicnn against the same network
in PyTorch, and minicnn's peak memory against the size of the activations.

    python benchmarks/bench_unet.py                  speed, 1 and 2 threads; memory
    python benchmarks/bench_unet.py --threads 2 --repeats 9

One step = forward, pixel-wise cross-entropy, backward, Adam update, for unet_small (16 to
128 channels over 4 levels, same padding, BatchNorm; 1 input channel, 2 classes) on a batch
of 8 1x128x128 images. The PyTorch network is the twin the parity test checks
(tests/models/test_unet.py), with the same weights. Each time is the median over --repeats
timed runs of --steps steps after warm-up steps (bench_train.images_per_second); the two
libraries take turns in this one process with the same thread limit. Target: minicnn at
most 1.5x PyTorch's time.

Memory: tracemalloc follows NumPy's allocations; started just before a step (after a first
one, so weights, gradients and Adam's moments exist already), its peak counts only what the
step allocates: activations kept for the backward, gradients in flight, scratch. It is compared with the activations' theoretical size: every layer's output in float32 (the
forward keeps them for the backward), counted by forward hooks.
"""
import argparse
import os
import sys
import tracemalloc

import numpy

import minicnn
from minicnn import optim
from minicnn.cpu_kernels import threads
from minicnn.functional import cross_entropy
from minicnn.models import unet_small

from bench_train import images_per_second     # the same alternating timing as LeNet-5's

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BATCH, SIDE = 8, 128


def batch(seed=0):
    rng = numpy.random.default_rng(seed)
    return (rng.random((BATCH, 1, SIDE, SIDE), dtype=numpy.float32),
            rng.integers(0, 2, (BATCH, SIDE, SIDE)).astype(numpy.int64))


def minicnn_step_function():
    minicnn.manual_seed(0)
    model = unet_small(1, 2)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    images, masks = (minicnn.tensor(a) for a in batch())

    def step():
        optimizer.zero_grad()
        loss = cross_entropy(model(images), masks)
        loss.backward()
        optimizer.step()
        return loss
    return model, step


def torch_step_function(torch, model):
    from tests.models.test_unet import torch_unet
    twin = torch_unet(torch, in_channels=1, num_classes=2, base_channels=16, depth=4,
                      padding="same", up="transposed", batch_norm=True)
    twin.load_state_dict({name: torch.from_numpy(value.numpy().copy())
                          for name, value in model.state_dict().items()})
    optimizer = torch.optim.Adam(twin.parameters(), lr=1e-3)
    images, masks = (torch.from_numpy(a) for a in batch())

    def step():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(twin(images), masks)
        loss.backward()
        optimizer.step()
        return loss
    return step


def activation_bytes(model):
    """Bytes of every leaf layer's output and of every concatenation, float32, for one batch:
    what the forward pass keeps alive for the backward."""
    sizes = []
    hooks = [module.register_forward_hook(lambda m, i, out: sizes.append(out.numel()))
             for module in model.modules() if not list(module.children())]
    # The concatenated skip + up-convolution map is made inside UNet.forward, not by a layer.
    hooks += [block.register_forward_hook(lambda m, inputs, out: sizes.append(inputs[0].numel()))
              for block in model.decoder]
    with minicnn.no_grad():
        model(minicnn.tensor(batch()[0]))
    for hook in hooks:
        hook.remove()
    return 4 * sum(sizes)


def memory(model, step):
    step()                      # the optimizer's moments exist from the first step on
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    activations = activation_bytes(model)
    print(f"memory: a step allocates at most {peak / 2**20:.1f} MiB at once; the activations "
          f"are {activations / 2**20:.1f} MiB (ratio {peak / activations:.2f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3, help="steps per timed run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs; the median is shown")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    model, step = minicnn_step_function()
    steps = [step] + ([torch_step_function(torch, model)] if torch else [])
    print(f"unet_small training step, batch {BATCH} x 1 x {SIDE} x {SIDE}, Adam; median of "
          f"{args.repeats} x {args.steps} steps")
    for count in args.threads:
        threads.set_num_threads(count)
        if torch:
            torch.set_num_threads(count)
        seconds = [BATCH / rate for rate in images_per_second(steps, args.steps, args.repeats,
                                                              warmup=3, batch=BATCH)]
        line = f"{count} thread{'s' if count > 1 else ' '}  minicnn {1000 * seconds[0]:7.1f} ms"
        if torch:
            line += (f"   PyTorch {1000 * seconds[1]:7.1f} ms   ratio "
                     f"{seconds[0] / seconds[1]:.2f}x")
        print(line, flush=True)
    memory(model, step)


if __name__ == "__main__":
    main()
