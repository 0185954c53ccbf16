"""The switch between CuPy and the CPU emulator in backend/cuda_kernels.py."""
import os
import shutil
import subprocess
import sys

import numpy
import pytest

from minicnn.backend import cuda_kernels

requires_compiler = pytest.mark.skipif(shutil.which(os.environ.get("CXX", "g++")) is None,
                                       reason="the CUDA emulator needs a C++20 compiler (g++ or $CXX)")


@requires_compiler
def test_emulated_gives_emulated_kernels_inside_the_block_only():
    outside = cuda_kernels.emulating()
    with cuda_kernels.emulated(thread_order="reverse"):
        assert cuda_kernels.emulating()
        kernel = cuda_kernels.get_kernel("optim", "sgd_momentum_update", numpy.float32)
        assert kernel.name == "sgd_momentum_update<float>"
        assert kernel.module.thread_order == "reverse"
    assert cuda_kernels.emulating() == outside


@requires_compiler
def test_the_environment_variable_switches_a_whole_process_to_the_emulator():
    script = ("import numpy\n"
              "from minicnn.backend import cuda_kernels\n"
              "from minicnn.gpu_kernels.softmax_cross_entropy import softmax_cross_entropy_forward\n"
              "assert cuda_kernels.emulating()\n"
              "loss, lse, total = softmax_cross_entropy_forward(numpy.zeros((2, 4)), numpy.eye(2, 4))\n"
              "print(*loss.tolist())\n")
    environment = dict(os.environ, MINICNN_CUDA_EMULATOR="1")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stderr
    numpy.testing.assert_allclose([float(value) for value in result.stdout.split()], [numpy.log(4)] * 2)


def test_kernels_take_float32_or_float64_data():
    with pytest.raises(TypeError, match=r"im2col: CUDA kernels take float32 or float64 data, got int64"):
        cuda_kernels.get_kernel("im2col", "im2col", numpy.int64)
