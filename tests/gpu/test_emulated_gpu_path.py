"""The GPU backend end to end on the CPU: every case of test_cpu_gpu_agreement.py, forward and
backward, with the functional ops sent down their GPU path (gpu_kernels/ and the emulated
kernels of kernels/*.cu) on NumPy arrays, against the same ops on their CPU path.

The functional layer picks the GPU path by asking `is_cupy_array`; `gpu_path_on_numpy` answers
yes for NumPy arrays in the modules that ask (GPU_DISPATCH) while the kernels are emulated.
What stays on NumPy either way: the matrix products (cuBLAS on a GPU) and elementwise
arithmetic (CuPy's ufuncs), so `linear` only checks that nothing else interferes.
"""
import numpy
import pytest

import minicnn
from minicnn.backend import cuda_kernels

from .conftest import requires_compiler
from .test_cpu_gpu_agreement import CASES, TOLERANCES, _run

pytestmark = requires_compiler

# The modules whose ops choose between CPU and GPU kernels.
GPU_DISPATCH = ("minicnn.functional.conv", "minicnn.functional.pool", "minicnn.functional.norm",
                "minicnn.functional.loss", "minicnn.optim.sgd", "minicnn.optim.adam")


@pytest.fixture
def gpu_path_on_numpy(monkeypatch):
    import importlib
    for name in GPU_DISPATCH:
        monkeypatch.setattr(importlib.import_module(name), "is_cupy_array", lambda array: True)
    with cuda_kernels.emulated():
        yield


def _both_paths(request, run):
    """run() on the CPU path, then on the emulated GPU path."""
    on_cpu = run()
    request.getfixturevalue("gpu_path_on_numpy")
    return on_cpu, run()


@pytest.mark.parametrize("dtype", [numpy.float64, numpy.float32])
@pytest.mark.parametrize("name", sorted(CASES))
def test_emulated_gpu_path_equals_the_cpu_path(request, name, dtype):
    rng = numpy.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(dtype) for shape in CASES[name]]
    if name == "batch_norm":
        arrays[1] = arrays[1] + 1
    cpu, gpu = _both_paths(request, lambda: _run(name, arrays, "cpu"))
    for position, (on_cpu, on_gpu) in enumerate(zip(cpu, gpu)):
        scale = max(1.0, float(numpy.abs(on_cpu).max(initial=0.0)))
        numpy.testing.assert_allclose(on_gpu, on_cpu, rtol=TOLERANCES[dtype],
                                      atol=TOLERANCES[dtype] * scale,
                                      err_msg=f"{name}: array {position} (0 = output, then gradients)")


@pytest.mark.parametrize("optimizer", ["SGD", "AdamW"])
def test_emulated_fused_optimizer_steps_equal_the_cpu_steps(request, optimizer):
    rng = numpy.random.default_rng(3)
    start, grads = rng.standard_normal(20), [rng.standard_normal(20) for _ in range(5)]

    def train():
        p = minicnn.tensor(start, requires_grad=True)
        opt = (minicnn.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
               if optimizer == "SGD" else minicnn.optim.AdamW([p], lr=0.01))
        for g in grads:
            p.grad = minicnn.tensor(g)
            opt.step()
        return p.numpy()

    cpu, gpu = _both_paths(request, train)
    numpy.testing.assert_allclose(gpu, cpu, rtol=1e-12)


def test_the_fixture_really_takes_the_gpu_path(gpu_path_on_numpy, monkeypatch):
    launched = []
    original = cuda_kernels.launch
    monkeypatch.setattr("minicnn.gpu_kernels.conv.launch",
                        lambda kernel, *args, **options: launched.append(kernel.name) or original(kernel, *args, **options))
    x = minicnn.randn(1, 1, 4, 4, dtype="float64")
    minicnn.functional.conv2d(x, minicnn.randn(1, 1, 3, 3, dtype="float64"))
    assert launched == ["im2col<double>"]
