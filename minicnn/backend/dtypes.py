"""Data types and the default floating-point type.

minicnn follows PyTorch: Python floats become float32 (the default dtype), Python ints
int64 and bools bool, while an existing array keeps its own dtype. float64 is used by the
gradient checks, where finite differences need the extra precision.
"""
import numpy

float16 = numpy.dtype("float16")
float32 = numpy.dtype("float32")
float64 = numpy.dtype("float64")
int8 = numpy.dtype("int8")
uint8 = numpy.dtype("uint8")
int32 = numpy.dtype("int32")
int64 = numpy.dtype("int64")
bool_ = numpy.dtype("bool")

_default_dtype = float32


def get_default_dtype():
    return _default_dtype


def set_default_dtype(dtype):
    """Set the dtype given to Python floats and to tensors made by zeros, randn, ... ."""
    global _default_dtype
    dtype = numpy.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_dtype = dtype


def is_floating(dtype):
    return numpy.dtype(dtype).kind == "f"


def as_dtype(dtype):
    """Accept numpy dtypes, strings such as 'float32', and Python types."""
    if dtype is None:
        return None
    if dtype is float:
        return _default_dtype
    try:
        return numpy.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype: expected a NumPy dtype or its name, got {dtype!r}") from None
