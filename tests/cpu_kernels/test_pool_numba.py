"""Every Numba pooling kernel computes what the reference does (cpu_kernels/reference/pool.py):
max pooling's values and indices (its two sweeps for inner windows and its loop for border
windows, ties and NaNs included), average pooling and its backward, and the scatter-add, on
fixed and adaptive windows, float32 and float64, on one thread and split across two."""
import numpy
import pytest
from hypothesis import assume, given, strategies as st

from minicnn.cpu_kernels import pool_numba
from minicnn.cpu_kernels.reference import pool as reference
from minicnn.cpu_kernels.threads import num_threads, set_num_threads
from minicnn.functional.pool import _adaptive_geometry, _fixed_windows, _geometry
from tests.functional.test_pool import fits


@st.composite
def problems(draw):
    """Planes (P, H, W) of few distinct values (ties) and some NaNs, and the windows of a fixed
    or an adaptive pool over them, with a random divisor for the average."""
    shape = (draw(st.integers(1, 3)),) + tuple(draw(st.integers(1, 11)) for _ in range(2))
    dtype = draw(st.sampled_from([numpy.float32, numpy.float64]))
    rng = numpy.random.default_rng(draw(st.integers(0, 2 ** 16)))
    planes = rng.integers(0, 3, shape).astype(dtype)
    planes[rng.random(shape) < draw(st.sampled_from([0.0, 0.1]))] = numpy.nan
    if draw(st.booleans()):
        out_size = tuple(draw(st.integers(1, size)) for size in shape[1:])
        geometry = _adaptive_geometry("test", planes, out_size, 2, False)
    else:
        kernel = tuple(draw(st.integers(1, 3)) for _ in range(2))
        arguments = dict(kernel_size=kernel, stride=tuple(draw(st.integers(1, 3)) for _ in kernel),
                         padding=tuple(draw(st.integers(0, k // 2)) for k in kernel),
                         dilation=tuple(draw(st.integers(1, 2)) for _ in kernel),
                         ceil_mode=draw(st.booleans()))
        assume(fits(2, arguments, shape))
        geometry = _geometry(*_fixed_windows("test", planes, spatial=2, **arguments)[:3])
    divisor = rng.uniform(1, 4, geometry.out_plane if len(geometry.out_plane) == 2 else (1,) + geometry.out_plane)
    return planes, geometry, divisor, rng


@pytest.fixture(params=[1, 2])
def threads(request, monkeypatch):
    """One thread, or two with every plane a chunk of its own, so that the split is exercised."""
    monkeypatch.setattr(pool_numba, "_WORK_PER_CHUNK", 1)
    previous = num_threads()
    set_num_threads(request.param)
    yield request.param
    set_num_threads(previous)


@given(problem=problems())
def test_max_pool_matches_the_reference(threads, problem):
    planes, g, _, _ = problem
    for ours, expected in zip(pool_numba.max_pool(planes, g.rows, g.cols), reference.max_pool(planes, g.rows, g.cols)):
        assert ours.dtype == expected.dtype
        numpy.testing.assert_array_equal(ours, expected)


@given(problem=problems())
def test_avg_pool_and_its_backward_match_the_reference(threads, problem):
    planes, g, divisor, rng = problem
    planes = numpy.nan_to_num(planes)
    tolerance = 1e-6 if planes.dtype == numpy.float32 else 1e-13
    ours, expected = (kernels.avg_pool(planes, g.rows, g.cols, divisor) for kernels in (pool_numba, reference))
    assert ours.dtype == planes.dtype
    numpy.testing.assert_allclose(ours, expected, rtol=tolerance, atol=tolerance)
    gy = rng.standard_normal(expected.shape).astype(planes.dtype)
    ours, expected = (kernels.avg_pool_backward(gy, g.rows, g.cols, divisor, planes.shape[1:])
                      for kernels in (pool_numba, reference))
    assert ours.dtype == planes.dtype
    numpy.testing.assert_allclose(ours, expected, rtol=tolerance, atol=tolerance)


@given(problem=problems(), shared=st.booleans())
def test_scatter_add_matches_the_reference(threads, problem, shared):
    """Into max pooling's indices (which repeat where windows overlap), one row per plane or
    one row shared by all (as padding and interpolation use it)."""
    planes, g, _, rng = problem
    index = reference.max_pool(planes, g.rows, g.cols)[1].reshape(planes.shape[0], -1)
    index = index[:1] if shared else index
    values = rng.standard_normal((planes.shape[0], index.shape[1])).astype(planes.dtype)
    size = planes.shape[1] * planes.shape[2]
    ours, expected = (kernels.scatter_add(values, index, size) for kernels in (pool_numba, reference))
    assert ours.dtype == planes.dtype
    numpy.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-6)
