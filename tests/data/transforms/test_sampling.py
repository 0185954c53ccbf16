"""The gather behind every resampling transform (minicnn/data/transforms/sampling.py)."""
import numpy
import pytest
from hypothesis import given, strategies as st

from minicnn.data.transforms.sampling import affine_points, sample

ndimage = pytest.importorskip("scipy.ndimage")


@given(seed=st.integers(0, 2**16), height=st.integers(1, 6), width=st.integers(1, 6),
       order=st.sampled_from([0, 1]), outside=st.sampled_from(["zeros", "edge"]))
def test_sample_equals_scipy_map_coordinates(seed, height, width, order, outside):
    rng = numpy.random.default_rng(seed)
    images = rng.random((2, 3, height, width))
    # Points inside, outside and on the border, some exactly on pixel centres.
    rows = numpy.concatenate([rng.uniform(-1.5, height + 0.5, 20), [0, height - 1, -0.25]])
    cols = numpy.concatenate([rng.uniform(-1.5, width + 0.5, 20), [width - 1, 0, 0]])
    out = sample(images, rows[None, None], cols[None, None],
                 "nearest" if order == 0 else "bilinear", outside, fill=0.5)
    mode = "constant" if outside == "zeros" else "nearest"
    for n in range(2):
        for c in range(3):
            expected = ndimage.map_coordinates(images[n, c], [rows, cols], order=order,
                                               mode=mode, cval=0.5)
            numpy.testing.assert_allclose(out[n, c, 0], expected, rtol=0, atol=1e-12)


def test_sample_keeps_the_dtype_and_reads_integer_points_exactly():
    images = numpy.arange(2 * 1 * 3 * 4, dtype=numpy.float32).reshape(2, 1, 3, 4)
    rows, cols = numpy.meshgrid(numpy.arange(3.0), numpy.arange(4.0), indexing="ij")
    for interpolation in ("bilinear", "nearest"):
        out = sample(images, rows[None], cols[None], interpolation)
        assert out.dtype == numpy.float32
        numpy.testing.assert_array_equal(out, images)
    masks = numpy.arange(12).reshape(1, 1, 3, 4)
    assert sample(masks, rows[None] + 0.4, cols[None] - 0.4, "nearest").dtype == masks.dtype


def test_affine_points_measure_the_map_from_the_centre():
    inverse = numpy.array([[[2.0, 0.5], [0.0, 3.0]]])
    centre, shift = numpy.array([1.0, 0.5]), numpy.array([[1.0, -2.0]])
    rows, cols = affine_points(inverse, centre, shift, 2, 3)
    assert rows.shape == cols.shape == (1, 2, 3)
    y, x = 1, 2                      # output pixel: row 1, column 2
    dx, dy = x - 1.0 - 1.0, y - 0.5 + 2.0
    assert cols[0, y, x] == 1.0 + 2.0 * dx + 0.5 * dy and rows[0, y, x] == 0.5 + 3.0 * dy
