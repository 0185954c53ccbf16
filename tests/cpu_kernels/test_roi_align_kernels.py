"""The Numba RoIAlign and RoIPool kernels equal the plain reference (forward, backward,
values and indices), in float32 and float64, on drawn maps and boxes partly outside the map,
with every sampling mode, on one thread and on two."""
import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicnn.cpu_kernels import roi_align_numba, threads
from minicnn.cpu_kernels.reference import roi_align as reference


@st.composite
def roi_problems(draw, max_side=9, max_count=6):
    """(input shape, RoIs partly outside the map, some empty, in several images, spatial
    scale, output size); the emulated CUDA tests draw theirs here too."""
    rng = numpy.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    batch, channels = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    height, width = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    count = draw(st.integers(0, max_count))
    corners = rng.uniform(-4, 12, (count, 2))
    rois = numpy.concatenate([rng.integers(0, batch, (count, 1)), corners,
                              corners + rng.uniform(0, 10, (count, 2))], axis=1)
    return ((batch, channels, height, width), rois, draw(st.sampled_from([1.0, 0.5, 0.3])),
            (draw(st.integers(1, 4)), draw(st.integers(1, 4))))


@st.composite
def problems(draw):
    shape, rois, scale, output_size = draw(roi_problems())
    return numpy.random.default_rng(len(rois)).standard_normal(shape), rois, scale, output_size


def tolerance(dtype):
    return dict(rtol=2e-5, atol=2e-5) if dtype == numpy.float32 else dict(rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("thread_count", [1, 2])
@given(problem=problems(), sampling_ratio=st.sampled_from([-1, 0, 1, 2]), aligned=st.booleans())
def test_roi_align_equals_reference(dtype, thread_count, problem, sampling_ratio, aligned):
    x, rois, scale, output_size = problem
    x = x.astype(dtype)
    previous = threads.num_threads()
    threads.set_num_threads(thread_count)
    try:
        y = roi_align_numba.roi_align_forward(x, rois, scale, output_size, sampling_ratio, aligned)
        assert y.dtype == dtype
        numpy.testing.assert_allclose(
            y, reference.roi_align_forward(x, rois, scale, output_size, sampling_ratio, aligned),
            **tolerance(dtype))
        gy = numpy.random.default_rng(1).standard_normal(y.shape).astype(dtype)
        gx = roi_align_numba.roi_align_backward(gy, rois, scale, sampling_ratio, aligned, x.shape)
        assert gx.dtype == dtype
        numpy.testing.assert_allclose(
            gx, reference.roi_align_backward(gy, rois, scale, sampling_ratio, aligned, x.shape),
            **tolerance(dtype))
    finally:
        threads.set_num_threads(previous)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@given(problem=problems(), with_nan=st.booleans(), ties=st.booleans())
def test_roi_pool_equals_reference(dtype, problem, with_nan, ties):
    x, rois, scale, output_size = problem
    x = (numpy.round(x) if ties else x).astype(dtype)     # rounded: the first max must win
    if with_nan:
        x.reshape(-1)[::3] = numpy.nan
    values, index = roi_align_numba.roi_pool_forward(x, rois, scale, output_size)
    expected_values, expected_index = reference.roi_pool_forward(x, rois, scale, output_size)
    numpy.testing.assert_array_equal(values, expected_values)
    numpy.testing.assert_array_equal(index, expected_index)


def test_many_channels_split_across_threads():
    rng = numpy.random.default_rng(0)
    x = rng.standard_normal((2, 64, 12, 10))
    rois = numpy.array([[0, 1, 1, 9, 11], [1, -2, 3, 5, 20], [0, 0, 0, 10, 12.0]])
    numpy.testing.assert_allclose(roi_align_numba.roi_align_forward(x, rois, 1.0, (3, 3), -1, True),
                                  reference.roi_align_forward(x, rois, 1.0, (3, 3), -1, True),
                                  rtol=1e-12, atol=1e-12)
    gy = rng.standard_normal((3, 64, 3, 3))
    numpy.testing.assert_allclose(roi_align_numba.roi_align_backward(gy, rois, 1.0, -1, True, x.shape),
                                  reference.roi_align_backward(gy, rois, 1.0, -1, True, x.shape),
                                  rtol=1e-12, atol=1e-12)
