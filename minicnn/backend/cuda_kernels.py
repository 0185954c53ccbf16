"""Loading the CUDA kernels of kernels/*.cu (installed as minicnn/kernels) with CuPy.

Each source file is one family of template kernels, compiled once by `cupy.RawModule`
(CuPy caches the binary on disk too) with a float and a double instance of every kernel,
named by C++ name expressions such as "im2col<float>".
"""
import functools
import pathlib
import re

import numpy

from .device import require_cupy

KERNEL_DIR = pathlib.Path(__file__).resolve().parent.parent / "kernels"
_TEMPLATE_KERNEL = re.compile(r"template\s*<typename T>\s*__global__\s+void\s+(\w+)\s*\(")
_C_TYPES = {"float32": "float", "float64": "double"}
THREADS_PER_BLOCK = 256
# Kernel arguments must be NumPy scalars of the C type: int is int32, long long int64.
int32, int64 = numpy.int32, numpy.int64


@functools.lru_cache(maxsize=None)
def _module(family):
    cupy = require_cupy()
    source = (KERNEL_DIR / f"{family}.cu").read_text()
    names = [f"{kernel}<{ctype}>" for kernel in _TEMPLATE_KERNEL.findall(source)
             for ctype in _C_TYPES.values()]
    return cupy.RawModule(code=source, options=("-std=c++17",), name_expressions=names)


def get_kernel(family, name, dtype):
    """The compiled kernel `name` from kernels/<family>.cu for float32 or float64 data."""
    dtype = numpy.dtype(dtype)
    if dtype.name not in _C_TYPES:
        raise TypeError(f"{name}: CUDA kernels take float32 or float64 data, got {dtype}")
    return _module(family).get_function(f"{name}<{_C_TYPES[dtype.name]}>")


def launch(kernel, total, *args, block=THREADS_PER_BLOCK, grid=None):
    """Run `kernel` over `total` work items; kernels loop with a grid stride, so the grid is capped."""
    if grid is None:
        grid = max(1, min((int(total) + block - 1) // block, 65535))
    kernel((grid,), (block,), args)
