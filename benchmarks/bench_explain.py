"""Speed of an explanation and of an attack, against Captum and torchattacks in the same run.

    python benchmarks/bench_explain.py                  1 thread (default) and 2 threads
    python benchmarks/bench_explain.py --threads 1 --repeats 9

Two tasks on LeNet-5 with the same weights in both libraries (random weights: the time
does not depend on them):

    Grad-CAM   one 28x28 image, layer features.3 (the last convolution), upsampled to 28x28:
               minicnn.explain.GradCAM against Captum's LayerGradCam +
               LayerAttribution.interpolate
    PGD        40 steps on a batch of 256 images, eps 0.3, alpha 0.01, no random start:
               minicnn.adversarial.pgd against torchattacks.PGD

Each number is the median over --repeats timed calls (Grad-CAM: the median of --repeats
runs of 50 calls), the libraries taking turns within every repeat so that a burst of load
from other processes hits both. Threads: minicnn's pool and torch.set_num_threads alike.
The results are checked to agree before anything is timed.
"""
import argparse
import statistics
import time

import numpy

import minicnn
from minicnn.adversarial import pgd
from minicnn.cpu_kernels import threads
from minicnn.explain import GradCAM
from minicnn.models import LeNet5

EPS, ALPHA, STEPS, BATCH = 0.3, 0.01, 40, 256


def torch_lenet5(torch, model):
    """A PyTorch LeNet-5 with the weights of `model` (the same state_dict names)."""
    from collections import OrderedDict
    nn = torch.nn
    twin = nn.Sequential(OrderedDict(
        features=nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                               nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)),
        classifier=nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                                 nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))))
    twin.load_state_dict({name: torch.tensor(value.numpy())
                          for name, value in model.state_dict().items()})
    return twin.eval()


def tasks():
    """{task: (minicnn call, reference call, calls per timing)}, checked to agree."""
    import torch
    from captum.attr import LayerAttribution, LayerGradCam
    import torchattacks

    minicnn.manual_seed(0)
    model = LeNet5().eval()
    twin = torch_lenet5(torch, model)
    rng = numpy.random.default_rng(0)
    images = rng.random((BATCH, 1, 28, 28), dtype=numpy.float32)
    labels = rng.integers(0, 10, BATCH)
    one, target = images[:1], int(labels[0])

    gradcam = GradCAM(model, "features.3")
    captum_gradcam = LayerGradCam(twin, twin.features[3])
    torch_one = torch.tensor(one)

    def ours_gradcam():
        return gradcam(one, target).numpy()

    def captum():
        coarse = captum_gradcam.attribute(torch_one, target=target, relu_attributions=True)
        return LayerAttribution.interpolate(coarse, (28, 28), "bilinear").detach().numpy()

    attack = torchattacks.PGD(twin, eps=EPS, alpha=ALPHA, steps=STEPS, random_start=False)
    torch_images, torch_labels = torch.tensor(images), torch.tensor(labels)

    def ours_pgd():
        return pgd(model, images, labels, EPS, ALPHA, STEPS, random_start=False).numpy()

    def torchattacks_pgd():
        return attack(torch_images, torch_labels).numpy()

    numpy.testing.assert_allclose(ours_gradcam(), captum(), rtol=1e-5, atol=1e-5)
    agreement = (ours_pgd() == torchattacks_pgd()).mean()
    print(f"checks: Grad-CAM equals Captum's to 1e-5; PGD equals torchattacks' on "
          f"{100 * agreement:.2f}% of the pixels")
    return {"Grad-CAM, 1 image": (ours_gradcam, captum, 50),
            f"PGD {STEPS} steps, batch {BATCH}": (ours_pgd, torchattacks_pgd, 1)}


def median_seconds(functions, calls, repeats, warmup=2):
    """Median seconds per call of each function, taking turns within each repeat."""
    for function in functions:
        for _ in range(warmup):
            function()
    times = [[] for _ in functions]
    for _ in range(repeats):
        for function, record in zip(functions, times):
            time.sleep(0.2)          # let the other library's threads go idle
            function()
            began = time.perf_counter()
            for _ in range(calls):
                function()
            record.append((time.perf_counter() - began) / calls)
    return [statistics.median(record) for record in times]


def main():
    minicnn.backend.keep_freed_memory()   # process-wide, so only in scripts (backend/memory.py)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs; the median is shown")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    import torch
    work = tasks()
    print(f"{'task':<26}{'threads':>8}{'minicnn ms':>12}{'reference ms':>14}{'ratio':>8}")
    for count in args.threads:
        threads.set_num_threads(count)
        torch.set_num_threads(count)
        for name, (ours, reference, calls) in work.items():
            mine, theirs = median_seconds([ours, reference], calls, args.repeats)
            print(f"{name:<26}{count:>8}{1000 * mine:>12.2f}{1000 * theirs:>14.2f}"
                  f"{theirs / mine:>7.2f}x", flush=True)
    print("ratio: the reference's time over minicnn's (above 1: minicnn is faster)")


if __name__ == "__main__":
    main()
