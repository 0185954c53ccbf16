"""Which array library holds the data: NumPy on the CPU, CuPy on the GPU.

Every op asks `array_module(...)` for the module of its inputs instead of importing
NumPy or CuPy itself, so one implementation serves both devices. CuPy is never imported
here: an array is recognised as CuPy's by the module its type comes from.
"""
import sys

import numpy


def is_cupy_array(array):
    # Called several times per op, so a prefix test rather than splitting the module name.
    return type(array).__module__.startswith("cupy")


def array_module(*arrays, op="operation"):
    """The module (numpy or cupy) that holds `arrays`; None entries and Python numbers are ignored.

    Mixing NumPy and CuPy arrays in one op is an error rather than a silent copy, because a
    hidden device transfer is the most common cause of a slow GPU program.
    """
    on_gpu = [is_cupy_array(a) for a in arrays if hasattr(a, "shape")]
    if any(on_gpu) and not all(on_gpu):
        devices = ", ".join("cuda" if gpu else "cpu" for gpu in on_gpu)
        raise RuntimeError(
            f"{op}: arguments are on different devices ({devices}); "
            "move them to one device with .to(device) first")
    if any(on_gpu):
        return sys.modules["cupy"]
    return numpy


def to_numpy(array):
    """A NumPy copy of a NumPy or CuPy array (CuPy arrays are copied from the GPU)."""
    return array.get() if is_cupy_array(array) else numpy.asarray(array)
