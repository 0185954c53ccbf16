"""Importing minicnn, and running its kernels, changes nothing outside minicnn.

NumPy's BLAS keeps the thread count the program gave it, glibc's malloc keeps its
thresholds, and the main thread keeps its CPUs: checked in a fresh process before
`import minicnn`, after it, and after a convolution and a matmul that the pool splits.
malloc has no getter, so its setting is read from its behaviour: a 24 MiB block is mapped
from the operating system under glibc's default threshold (128 KiB, raised by glibc up to
the largest block freed so far, none of them that large here) and taken from the heap under
minicnn's keep_freed_memory() (32 MiB), which the child calls last to show the probe sees it.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import ctypes, json, os, sys
import numpy
from threadpoolctl import ThreadpoolController, threadpool_info

libc = ctypes.CDLL(None)
PROBE_BYTES = 24 << 20


class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def mapped_by_malloc():
    # Not freed: freeing a mapped block would raise glibc's threshold and change what we measure.
    if not hasattr(libc, "mallinfo2"):
        return None
    libc.mallinfo2.restype = Mallinfo2
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    blocks = libc.mallinfo2().hblks
    libc.malloc(PROBE_BYTES)
    return libc.mallinfo2().hblks > blocks


def state():
    return {"blas": [(library["filepath"], library["num_threads"]) for library in threadpool_info()
                     if library["user_api"] == "blas"],
            "malloc maps 24 MiB": mapped_by_malloc(),
            "cpus": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None}


ThreadpoolController().limit(limits=3, user_api="blas")   # the program's own choice
states = {"before import": state()}
import minicnn
from minicnn.cpu_kernels import threads
states["after import"] = state()
threads.set_num_threads(2)
rng = numpy.random.default_rng(0)
x = minicnn.tensor(rng.standard_normal((16, 8, 32, 32), dtype=numpy.float32), requires_grad=True)
w = minicnn.tensor(rng.standard_normal((16, 8, 3, 3), dtype=numpy.float32), requires_grad=True)
minicnn.functional.conv2d(x, w, padding=1).sum().backward()
a = minicnn.tensor(rng.standard_normal((400, 300)))
b = minicnn.tensor(rng.standard_normal((300, 200)))
assert numpy.allclose(minicnn.matmul(a, b).numpy(), a.numpy() @ b.numpy())
states["after a convolution and a split matmul"] = state()
minicnn.backend.keep_freed_memory()
states["after keep_freed_memory()"] = state()
print(json.dumps(states))
"""


@pytest.fixture(scope="module")
def states():
    path = [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                            timeout=300, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(path)})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_blas_threads_and_cpus_are_the_programs_own(states):
    """(Numba loads SciPy's BLAS on import; only the libraries loaded before are compared.)"""
    before = dict(states["before import"]["blas"])
    assert before and set(before.values()) == {3}
    for stage in ("after import", "after a convolution and a split matmul"):
        after = dict(states[stage]["blas"])
        assert {path: after[path] for path in before} == before, stage
        assert states[stage]["cpus"] == states["before import"]["cpus"], stage


def test_malloc_keeps_its_thresholds(states):
    if states["before import"]["malloc maps 24 MiB"] is None:
        pytest.skip("needs glibc 2.33's mallinfo2")
    assert states["before import"]["malloc maps 24 MiB"] is True
    for stage in ("after import", "after a convolution and a split matmul"):
        assert states[stage]["malloc maps 24 MiB"] is True, stage
    assert states["after keep_freed_memory()"]["malloc maps 24 MiB"] is False
