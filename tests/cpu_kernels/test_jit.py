"""How the Numba kernels are compiled: without a writable cache directory they still compile
(uncached) instead of failing to import, the first compilation says so once, and kernels
loaded from the on-disk cache compute what freshly compiled ones do."""
import os
import shutil
import subprocess
import sys

import numpy
import pytest
from numba.core import caching

from minicnn.cpu_kernels import jit


@pytest.fixture
def no_cache_directory(monkeypatch):
    """Numba as it is where neither __pycache__ nor the user's cache directory can be written:
    no cache locator applies, and `cache=True` raises."""
    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])
    monkeypatch.setattr(jit, "_where_compiled_code_goes", jit._CACHED)


def test_kernels_compile_without_a_cache_directory(no_cache_directory):
    def twice(x):
        return 2 * x

    def add(a, b):
        return a + b
    assert jit.kernel(twice)(21) == 42
    assert jit.ufunc(["float64(float64, float64)"])(add)(numpy.ones(3), numpy.ones(3)).tolist() == [2, 2, 2]
    assert jit._where_compiled_code_goes == jit._UNCACHED   # what the notice will say


def test_the_first_compilation_is_announced_once(no_cache_directory, monkeypatch, capsys):
    """(Uncached, so that these functions compile on every run of the test.)"""
    monkeypatch.setattr(jit._notice, "said", False)

    def first(x):
        return x + 1

    def second(x):
        return x - 1
    not_ours = jit.numba.njit(lambda x: x * 3)
    assert not_ours(1) == 3
    assert capsys.readouterr().err == ""                    # other code's compilations pass unnoticed
    assert jit.kernel(first)(1) == 2 and jit.kernel(second)(1) == 0
    printed = capsys.readouterr().err
    assert printed.count("minicnn: compiling the CPU kernels with Numba") == 1
    assert "set NUMBA_CACHE_DIR" in printed


@pytest.mark.slow
def test_cached_kernels_compute_what_freshly_compiled_ones_do(tmp_path):
    """A fresh copy of the package compiles its kernels and caches them (first process), then
    loads them from the cache (second process): the convolutions' and pools' bits agree."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    shutil.copytree(os.path.join(root, "minicnn"), tmp_path / "minicnn",
                    ignore=shutil.ignore_patterns("__pycache__"))
    script = ("import hashlib, numpy, minicnn, minicnn.functional as F\n"
              "x = minicnn.tensor(numpy.random.default_rng(0).standard_normal((4, 16, 12, 12)).astype('float32'), requires_grad=True)\n"
              "w = minicnn.tensor(numpy.random.default_rng(1).standard_normal((16, 16, 3, 3)).astype('float32'), requires_grad=True)\n"
              "y = F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2) + F.avg_pool2d(F.conv2d(x, w, stride=2, padding=1), 1)\n"
              "y.sum().backward()\n"
              "print(hashlib.sha256(b''.join(a.numpy().tobytes() for a in (y, x.grad, w.grad))).hexdigest())\n")
    runs = [subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(tmp_path)}, check=True) for _ in range(2)]
    assert "compiling the CPU kernels" in runs[0].stderr and runs[1].stderr == ""
    assert runs[0].stdout == runs[1].stdout
