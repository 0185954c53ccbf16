"""The ReLU ufuncs equal NumPy's expressions they replace, NaN and zero included."""
import numpy
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from minicnn.cpu_kernels.relu import pass_where_positive, relu

floats = st.sampled_from([numpy.float32, numpy.float64]).flatmap(
    lambda dtype: hnp.arrays(dtype, hnp.array_shapes(max_dims=4, max_side=5),
                             elements=st.floats(-3, 3, width=numpy.dtype(dtype).itemsize * 8)
                             | st.sampled_from([0.0, -0.0, numpy.nan])))


@given(x=floats)
def test_relu_is_max_with_zero_keeping_nan(x):
    y = relu(x)
    assert y.dtype == x.dtype
    numpy.testing.assert_array_equal(y, numpy.maximum(x, 0))   # NumPy's maximum keeps NaN too


@given(x=floats)
def test_pass_where_positive_masks_by_x_greater_than_zero(x):
    g = numpy.arange(x.size, dtype=x.dtype).reshape(x.shape) + 1
    numpy.testing.assert_array_equal(pass_where_positive(g, x), numpy.where(x > 0, g, 0))

