"""What augmentation costs next to training, and minicnn's resampling against SciPy's.

    python benchmarks/bench_augment.py                 --repeats 7 --batch 256

1. The `strong` policy (crop, flip, affine, colour jitter, erasing) on a batch of 256
   3x32x32 images, against one resnet20 training step (forward, cross-entropy, backward,
   SGD) on the same batch, taking turns in this process. Target: the policy costs at most
   10% of the step, so that augmenting on the fly never holds training up.
2. rotate and affine on the same batch, one angle per image, against scipy.ndimage.rotate /
   affine_transform called channel by channel (768 calls), with the largest difference
   between the two results (they compute the same map, see tests/data/transforms).
Each time is the median of --repeats runs after one warm-up run.
"""
import argparse
import statistics
import time

import numpy

import minicnn
from minicnn import optim
from minicnn.data import transforms
from minicnn.data.transforms import functional as F
from minicnn.functional import cross_entropy
from minicnn.models import resnet20


def median_ms(function, repeats):
    function()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return 1000 * statistics.median(times)


def training_step(images, labels):
    minicnn.manual_seed(0)
    model = resnet20()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    images, labels = minicnn.tensor(images), minicnn.tensor(labels)

    def step():
        optimizer.zero_grad()
        cross_entropy(model(images), labels).backward()
        optimizer.step()
    return step


def scipy_per_channel(function, batch, parameters):
    return numpy.stack([numpy.stack([function(channel, p) for channel in image])
                        for image, p in zip(batch, parameters)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    rng = numpy.random.default_rng(0)
    images = rng.random((args.batch, 3, 32, 32), dtype=numpy.float32)
    labels = rng.integers(0, 10, args.batch)

    policy = transforms.augmentation_policy("strong", hflip=True)
    step = training_step(images, labels)
    step_ms = median_ms(step, args.repeats)
    policy_ms = median_ms(lambda: policy(images), args.repeats)
    print(f"batch of {args.batch} 3x32x32 images, medians of {args.repeats} runs\n")
    print("| work | ms | share of a resnet20 step |\n|---|---|---|")
    print(f"| resnet20 training step | {step_ms:.1f} | 100% |")
    print(f"| `strong` policy | {policy_ms:.1f} | {100 * policy_ms / step_ms:.1f}% |")
    for transform in policy.transforms:
        ms = median_ms(lambda: transform(images), args.repeats)
        print(f"| - {type(transform).__name__} | {ms:.1f} | {100 * ms / step_ms:.1f}% |")

    from scipy import ndimage
    angles = rng.uniform(-30, 30, args.batch)
    shears = rng.uniform(-10, 10, args.batch)
    cases = {
        "rotate": (lambda: F.rotate(images, angles),
                   lambda: scipy_per_channel(lambda c, a: ndimage.rotate(
                       c, a, reshape=False, order=1, mode="constant"), images, angles)),
        "affine (shear x)": (lambda: F.affine(images, 0.0, (0, 0), 1.0, numpy.stack(
                                 [shears, numpy.zeros_like(shears)], 1)),
                             lambda: scipy_per_channel(lambda c, s: ndimage.affine_transform(
                                 c, shear_matrix(s), shear_offset(s), order=1, mode="constant"),
                                 images, shears)),
    }
    print("\n| op | minicnn ms | scipy.ndimage ms | minicnn / scipy | max difference |")
    print("|---|---|---|---|---|")
    for name, (ours, theirs) in cases.items():
        difference = numpy.abs(ours() - theirs()).max()
        ours_ms, theirs_ms = median_ms(ours, args.repeats), median_ms(theirs, args.repeats)
        print(f"| {name} | {ours_ms:.1f} | {theirs_ms:.1f} | {ours_ms / theirs_ms:.2f} | "
              f"{difference:.1e} |")


def shear_matrix(shear):
    """SciPy's (row, column) inverse map of torchvision's x-shear by `shear` degrees: the
    forward map is x' = x - tan(shear) (y - c), y' = y about the centre c of a 32x32 image."""
    return numpy.array([[1.0, 0.0], [numpy.tan(numpy.deg2rad(shear)), 1.0]])


def shear_offset(shear):
    return numpy.array([0.0, -numpy.tan(numpy.deg2rad(shear)) * 15.5])


if __name__ == "__main__":
    main()
