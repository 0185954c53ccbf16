"""The GPU backend end to end on the CPU: every case of test_cpu_gpu_agreement.py, forward and
backward, with the functional ops sent down their GPU path (gpu_kernels/ and the emulated
kernels of kernels/*.cu) on NumPy arrays, against the same ops on their CPU path.

The functional layer picks the GPU path by asking `is_cupy_array`; `gpu_path_on_numpy` answers
yes for NumPy arrays in the modules that ask (GPU_DISPATCH) while the kernels are emulated.
What stays on NumPy either way: the matrix products (cuBLAS on a GPU) and elementwise
arithmetic (CuPy's ufuncs), so `linear` only checks that nothing else interferes.
"""
import importlib

import numpy
import pytest

import minicnn
from minicnn.backend import cuda_kernels

from .conftest import requires_compiler
from .test_cpu_gpu_agreement import CASES, _run, assert_same_results, inputs, optimizer_steps

pytestmark = requires_compiler

# The modules whose ops choose between CPU and GPU kernels.
GPU_DISPATCH = ("minicnn.cpu_kernels.dispatch", "minicnn.functional.norm",
                "minicnn.functional.loss", "minicnn.optim.sgd", "minicnn.optim.adam")


@pytest.fixture
def gpu_path_on_numpy(monkeypatch):
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
    arrays = inputs(name, dtype)
    assert_same_results(name, dtype, *_both_paths(request, lambda: _run(name, arrays, "cpu")))


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_emulated_fused_optimizer_steps_equal_the_cpu_steps(request, optimizer):
    cpu, gpu = _both_paths(request, lambda: optimizer_steps(optimizer, "cpu"))
    numpy.testing.assert_allclose(gpu, cpu, rtol=1e-12)


def test_the_fixture_really_takes_the_gpu_path(gpu_path_on_numpy, monkeypatch):
    launched = []
    original = cuda_kernels.launch
    monkeypatch.setattr("minicnn.gpu_kernels.conv.launch",
                        lambda kernel, *args, **options: launched.append(kernel.name) or original(kernel, *args, **options))
    x = minicnn.randn(1, 1, 4, 4, dtype="float64")
    minicnn.functional.conv2d(x, minicnn.randn(1, 1, 3, 3, dtype="float64"))
    assert launched == ["im2col<double>"]
