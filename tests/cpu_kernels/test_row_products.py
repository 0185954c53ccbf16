"""The row-products kernel sums a[b, g] @ c[b, g]^T over b into out, as einsum does."""
import numpy
from hypothesis import given, strategies as st

from minicnn.cpu_kernels.row_products import add_row_products


# Row counts from 1 to 11 take every path: fewer rows than a tile, whole tiles, and a last
# tile that overlaps the one before by 1 to 3 rows.
@given(batch=st.integers(1, 3), groups=st.integers(1, 2), rows_a=st.integers(1, 11),
       rows_c=st.integers(1, 11), length=st.integers(1, 40),
       dtype=st.sampled_from([numpy.float32, numpy.float64]), seed=st.integers(0, 2 ** 16))
def test_add_row_products_matches_einsum(batch, groups, rows_a, rows_c, length, dtype, seed):
    rng = numpy.random.default_rng(seed)
    a = rng.standard_normal((batch, groups, rows_a, length)).astype(dtype)
    c = rng.standard_normal((batch, groups, rows_c, length)).astype(dtype)
    out = rng.standard_normal((groups, rows_a, rows_c)).astype(dtype)
    expected = out + numpy.einsum("bgil,bgjl->gij", a.astype(numpy.float64), c.astype(numpy.float64))
    add_row_products(a, c, out)
    tolerance = 1e-4 if dtype == numpy.float32 else 1e-12
    numpy.testing.assert_allclose(out, expected, rtol=tolerance, atol=tolerance)


def test_add_row_products_on_strided_slices():
    """The weight gradient passes slices of a larger batch, and the kernel reads them in place."""
    rng = numpy.random.default_rng(0)
    a = rng.standard_normal((6, 1, 27, 300)).astype(numpy.float32)
    c = rng.standard_normal((6, 1, 32, 300)).astype(numpy.float32)
    out = numpy.zeros((1, 27, 32), numpy.float32)
    add_row_products(a[2:5], c[2:5], out)
    numpy.testing.assert_allclose(out, numpy.einsum("bgil,bgjl->gij", a[2:5], c[2:5]), rtol=1e-4, atol=1e-3)
