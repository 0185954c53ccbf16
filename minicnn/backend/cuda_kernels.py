"""Loading the CUDA kernels of kernels/*.cu (installed as minicnn/kernels): with CuPy on a GPU,
or with the CUDA emulator on the CPU.

Each source file is one family of template kernels, compiled once by `cupy.RawModule`
(CuPy caches the binary on disk too) with a float and a double instance of every kernel,
named by C++ name expressions such as "im2col<float>".

The emulator (backend/cuda_emulator) compiles the same files with g++ and runs them on NumPy
arrays, behind the same interface. It is used inside `with emulated():` or, for a whole
process, with MINICNN_CUDA_EMULATOR=1 in the environment; the wrappers in gpu_kernels/ then
run unchanged on NumPy data, because NumPy has every array function they call on CuPy. Only
the kernels of kernels/*.cu are emulated: the wrappers' matrix products (cuBLAS, through
cupy.matmul and `@`) and CuPy's own elementwise functions and array creation (a bias add,
cupy.zeros) are plain NumPy calls under the emulator, which tests nothing of CuPy's.
"""
import contextlib
import functools
import os
import pathlib
import re

import numpy

from .device import require_cupy

KERNEL_DIR = pathlib.Path(__file__).resolve().parent.parent / "kernels"
_TEMPLATE_KERNEL = re.compile(r"template\s*<typename T>\s*__global__\s+void\s+(\w+)\s*\(")
_C_TYPES = {"float32": "float", "float64": "double"}
THREADS_PER_BLOCK = 256
MAX_BLOCKS = 65535       # kernels loop with a grid stride, so a launch needs no more blocks
# Kernel arguments must be NumPy scalars of the C type: int is int32, long long int64.
int32, int64 = numpy.int32, numpy.int64

# None: CuPy; otherwise the emulator, with these cuda_emulator.RawModule keyword arguments.
_emulator_options = {} if os.environ.get("MINICNN_CUDA_EMULATOR") == "1" else None


@contextlib.contextmanager
def emulated(**options):
    """Within the block, kernels run on the CPU emulator, on NumPy arrays.

    options go to cuda_emulator.RawModule: thread_order ('forward', 'reverse', 'shuffle'),
    seed, os_threads.
    """
    global _emulator_options
    previous, _emulator_options = _emulator_options, options
    try:
        yield
    finally:
        _emulator_options = previous


def emulating():
    """True when get_kernel gives emulated kernels (inside `emulated()`, or with
    MINICNN_CUDA_EMULATOR=1)."""
    return _emulator_options is not None


def family_names(family):
    """The name expressions of kernels/<family>.cu: every template kernel for float and double."""
    source = (KERNEL_DIR / f"{family}.cu").read_text()
    return [f"{kernel}<{ctype}>" for kernel in _TEMPLATE_KERNEL.findall(source)
            for ctype in _C_TYPES.values()]


@functools.lru_cache(maxsize=None)
def _module(family, emulator_options):
    source = (KERNEL_DIR / f"{family}.cu").read_text()
    if emulator_options is None:
        return require_cupy().RawModule(code=source, options=("-std=c++17",),
                                        name_expressions=family_names(family))
    from . import cuda_emulator
    return cuda_emulator.RawModule(code=source, name_expressions=family_names(family),
                                   source_name=f"kernels/{family}.cu", **dict(emulator_options))


def get_kernel(family, name, dtype):
    """The compiled kernel `name` from kernels/<family>.cu for float32 or float64 data."""
    dtype = numpy.dtype(dtype)
    if dtype.name not in _C_TYPES:
        raise TypeError(f"{name}: CUDA kernels take float32 or float64 data, got {dtype}")
    options = None if _emulator_options is None else tuple(sorted(_emulator_options.items()))
    return _module(family, options).get_function(f"{name}<{_C_TYPES[dtype.name]}>")


def launch(kernel, total, *args, block=None, grid=None):
    """Run `kernel` over `total` work items with blocks of THREADS_PER_BLOCK threads (unless
    `block` is given); kernels loop with a grid stride, so the grid is capped at MAX_BLOCKS."""
    block = block or THREADS_PER_BLOCK
    if grid is None:
        grid = max(1, min((int(total) + block - 1) // block, MAX_BLOCKS))
    kernel((grid,), (block,), args)
