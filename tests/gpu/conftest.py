"""Fixtures that run the CUDA kernels of kernels/*.cu on the CPU emulator."""
import os
import shutil

import pytest

from minicnn.backend import cuda_kernels

requires_compiler = pytest.mark.skipif(
    shutil.which(os.environ.get("CXX", "g++")) is None,
    reason="the CUDA emulator needs a C++20 compiler (g++ 10 or later, or $CXX)")


@pytest.fixture(params=["one pass", "grid-stride loop"])
def launch_size(request, monkeypatch):
    """Launch the wrappers as they are (256-thread blocks, enough of them for one pass), or
    with 8-thread blocks and at most 2 of them, so that every kernel's grid-stride loop goes
    round several times and the last round has idle threads."""
    if request.param == "grid-stride loop":
        monkeypatch.setattr(cuda_kernels, "THREADS_PER_BLOCK", 8)
        monkeypatch.setattr(cuda_kernels, "MAX_BLOCKS", 2)
    return request.param


@pytest.fixture
def mutated_kernels(tmp_path, monkeypatch):
    """mutate(family, old, new): from now on in this test, kernels/<family>.cu is a copy with
    `old` replaced by `new` (which must occur), compiled afresh for the emulator."""
    for source in cuda_kernels.KERNEL_DIR.glob("*.cu"):
        (tmp_path / source.name).write_text(source.read_text())
    monkeypatch.setattr(cuda_kernels, "KERNEL_DIR", tmp_path)

    def mutate(family, old, new):
        path = tmp_path / f"{family}.cu"
        text = path.read_text()
        assert old in text, f"the mutation's target {old!r} is not in kernels/{family}.cu"
        path.write_text(text.replace(old, new, 1))
        cuda_kernels._module.cache_clear()

    yield mutate
    cuda_kernels._module.cache_clear()
