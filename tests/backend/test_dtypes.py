"""dtype names and the default floating dtype."""
import numpy
import pytest

from minicnn.backend import as_dtype, get_default_dtype, is_floating, set_default_dtype


def test_as_dtype_accepts_names_types_and_none():
    assert as_dtype("float64") == numpy.float64
    assert as_dtype(numpy.int32) == numpy.int32
    assert as_dtype(float) == get_default_dtype() == numpy.float32
    assert as_dtype(None) is None


def test_as_dtype_rejects_nonsense():
    with pytest.raises(TypeError, match="dtype: expected a NumPy dtype or its name, got <object"):
        as_dtype(object())


def test_default_dtype_must_be_floating():
    with pytest.raises(TypeError, match="set_default_dtype: expected a floating dtype, got int64"):
        set_default_dtype("int64")
    assert get_default_dtype() == numpy.float32


def test_is_floating():
    assert is_floating(numpy.float16) and is_floating("float64")
    assert not is_floating(numpy.int64) and not is_floating(bool)
