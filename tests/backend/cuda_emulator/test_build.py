"""Compiled modules are cached by source hash in the user's cache folder, written atomically,
and never next to the package (which may be read-only)."""
import os
import shutil

import numpy
import pytest

from minicnn.backend.cuda_emulator import CompileError, RawModule, build

pytestmark = pytest.mark.skipif(shutil.which(os.environ.get("CXX", "g++")) is None,
                                reason="the CUDA emulator needs a C++20 compiler (g++ or $CXX)")

SOURCE = "__global__ void fill(float* x, float value) { x[threadIdx.x] = value; }"


def _fill(module, value):
    x = numpy.zeros(4, dtype=numpy.float32)
    module.get_function("fill")((1,), (4,), (x, numpy.float32(value)))
    return x


def test_a_source_compiles_once_into_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MINICNN_CACHE_DIR", str(tmp_path))
    compiles = []
    run = build.subprocess.run
    monkeypatch.setattr(build.subprocess, "run",
                        lambda command, **options: compiles.append(command) or run(command, **options))
    package_files = sorted(os.listdir(build.HEADER.parent))
    numpy.testing.assert_array_equal(_fill(RawModule(code=SOURCE, name_expressions=["fill"]), 2), 2)
    numpy.testing.assert_array_equal(_fill(RawModule(code=SOURCE, name_expressions=["fill"]), 3), 3)
    assert sum("-shared" in command for command in compiles) == 1
    folder = tmp_path / "cuda_emulator"
    assert len(list(folder.glob("*.so"))) == 1 and len(list(folder.glob("*.cpp"))) == 1
    assert not list(folder.glob("*.tmp")), "a temporary file was left behind"
    assert sorted(os.listdir(build.HEADER.parent)) == package_files, "wrote into the package"


def test_a_compile_error_is_cached_too(monkeypatch):
    broken = "__global__ void fill(float* x) { x[0] = oops; }"
    with pytest.raises(CompileError, match="oops") as first:     # compiled, or cached earlier
        RawModule(code=broken, name_expressions=["fill"])
    monkeypatch.setattr(build.subprocess, "run", None)     # a second compile would fail here
    with pytest.raises(CompileError) as second:
        RawModule(code=broken, name_expressions=["fill"])
    assert str(second.value) == str(first.value)


def test_an_unwritable_cache_folder_falls_back_to_the_temporary_folder(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("MINICNN_CACHE_DIR", str(blocker))
    monkeypatch.setattr(build.tempfile, "gettempdir", lambda: str(tmp_path / "temporary"))
    assert build.cache_dir() == tmp_path / "temporary" / f"minicnn-{os.getuid()}" / "cuda_emulator"


def test_a_missing_compiler_says_how_to_get_one(monkeypatch):
    monkeypatch.setenv("CXX", "no-such-compiler-here")
    with pytest.raises(RuntimeError, match=r"'no-such-compiler-here' was not found; install g\+\+"):
        RawModule(code=SOURCE, name_expressions=["fill"])
