"""ReLU and its backward as Numba ufuncs.

One loop that LLVM vectorizes into compares and selects, where NumPy's `maximum(x, 0)` and
`g * (x > 0).astype(x.dtype)` (three passes over memory) take three to four times as long.
Those NumPy expressions are their plain twins: functional/activation.py uses them on the
GPU and for other dtypes, and the tests compare. As ufuncs they broadcast and keep
float32/float64 like NumPy's own.
"""
import numpy

from .jit import ufunc


def relu(x):
    """max(x, 0) of a float32 or float64 array; a NaN stays NaN, as in torch.relu."""
    with _nan_compares_are_expected():
        return _relu(x)


def pass_where_positive(g, x):
    """g where x > 0, else 0: ReLU's backward (0 at x = 0 and where x is NaN, as PyTorch)."""
    with _nan_compares_are_expected():
        return _pass_where_positive(g, x)


def _nan_compares_are_expected():
    # The vectorized compares raise the CPU's "invalid" flag on a NaN, which NumPy turns
    # into a RuntimeWarning after the ufunc; the rules above already say what a NaN gives.
    return numpy.errstate(invalid="ignore")


@ufunc(["float32(float32)", "float64(float64)"])
def _relu(x):
    return 0 if x < 0 else x


@ufunc(["float32(float32, float32)", "float64(float64, float64)"])
def _pass_where_positive(g, x):
    return g if x > 0 else 0
