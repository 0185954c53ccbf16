"""Special functions NumPy lacks, as Numba ufuncs.

The error function erf(x) = 2/√π ∫₀ˣ exp(-t²) dt gives the normal CDF that the exact GELU
needs. NumPy has no erf; Numba compiles `math.erf` (the C library's) into a ufunc that
broadcasts and keeps float32/float64 like any NumPy ufunc. The GPU path uses CuPy's own
erf and never comes here.
"""
import math

from .jit import ufunc


@ufunc(["float32(float32)", "float64(float64)"])
def erf(x):
    return math.erf(x)
