"""The bias kernel adds bias[c] to every pixel of channel c, as NumPy's broadcast add does."""
import numpy
import pytest
from hypothesis import given, strategies as st

from minicnn.cpu_kernels.bias import add_bias


@given(shape=st.lists(st.integers(1, 5), min_size=2, max_size=5),
       dtype=st.sampled_from([numpy.float32, numpy.float64]), seed=st.integers(0, 2 ** 16))
def test_add_bias_matches_broadcast_add(shape, dtype, seed):
    rng = numpy.random.default_rng(seed)
    y = rng.standard_normal(shape).astype(dtype)
    bias = rng.standard_normal(shape[1]).astype(dtype)
    expected = y + bias.reshape((1, -1) + (1,) * (len(shape) - 2))
    result = add_bias(y, bias)
    assert result is y                       # in place
    numpy.testing.assert_array_equal(y, expected)


def test_add_bias_of_none_leaves_y_alone():
    y = numpy.arange(12.0).reshape(2, 3, 2)
    assert add_bias(y, None) is y
    numpy.testing.assert_array_equal(y, numpy.arange(12.0).reshape(2, 3, 2))


def test_add_bias_refuses_a_strided_view():
    """reshape would copy it, and the sum would be lost with the copy."""
    y = numpy.zeros((2, 3, 4, 4))[:, :, ::2]
    with pytest.raises(ValueError, match="C-contiguous"):
        add_bias(y, numpy.ones(3))
