"""The im2col and Numba convolution kernels compute what the reference does, and each triple of
products is mutually adjoint (the Winograd kernels: test_winograd.py)."""
import numpy
import pytest
from hypothesis import given, strategies as st

from minicnn.cpu_kernels import conv_numba, im2col
from minicnn.cpu_kernels.conv_geometry import ConvGeometry, correlation_size
from minicnn.cpu_kernels.reference import conv as reference
from minicnn.cpu_kernels.threads import num_threads, parallel_for, set_num_threads


@st.composite
def problems(draw, batches=st.integers(1, 5)):
    """A geometry (with asymmetric padding, as padding='same' makes) and random arrays for it."""
    pick = lambda low, high: (draw(st.integers(low, high)), draw(st.integers(low, high)))
    kernel, stride, dilation = pick(1, 4), pick(1, 3), pick(1, 2)
    padding = (pick(0, 2), pick(0, 2))
    in_size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - sum(p)), 9))
                    for k, d, p in zip(kernel, dilation, padding))
    out_size = tuple(correlation_size(*axis) for axis in zip(in_size, kernel, stride, padding, dilation))
    groups = draw(st.sampled_from([1, 2, 3]))
    batch, in_channels = draw(batches), groups * draw(st.integers(1, 3))
    out_channels = groups * draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([numpy.float32, numpy.float64]))
    rng = numpy.random.default_rng(draw(st.integers(0, 2 ** 16)))
    geometry = ConvGeometry(in_size, out_size, kernel, stride, padding, dilation, groups)
    x = rng.standard_normal((batch, in_channels) + in_size).astype(dtype)
    w = rng.standard_normal((out_channels, in_channels // groups) + kernel).astype(dtype)
    gy = rng.standard_normal((batch, out_channels) + out_size).astype(dtype)
    return geometry, x, w, gy


@pytest.mark.parametrize("kernel", [im2col, conv_numba], ids=["im2col", "numba"])
@pytest.mark.parametrize("threads", [1, 2])
@given(problem=problems())
def test_matches_the_reference(kernel, threads, problem):
    _assert_matches_the_reference(kernel, threads, problem)


@given(problem=problems(), samples_per_block=st.integers(1, 3))
def test_numba_matches_the_reference_in_small_blocks_on_two_threads(problem, samples_per_block):
    """The batches drawn are too small to be split into blocks and threads at the real
    thresholds, so here every thread is handed work and blocks hold 1 to 3 samples
    (a shorter last block among them): the offsets of samples within a block are checked."""
    geometry = problem[0]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conv_numba, "_TARGET_COLUMNS", samples_per_block * geometry.out_size[0] * geometry.out_size[1])
        patch.setattr(conv_numba, "_MIN_MULTIPLY_ADDS_PER_THREAD", 1)
        _assert_matches_the_reference(conv_numba, 2, problem)


@pytest.mark.parametrize("threads", [1, 2])
@given(problem=problems())
def test_numba_matches_the_reference_with_row_products_for_every_weight_grad(threads, problem):
    """The drawn outputs have fewer pixels than _LONG_ROWS, so the weight gradient's sums
    would all go to BLAS: here they all go to row_products.py's kernel."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conv_numba, "_LONG_ROWS", 1)
        _assert_matches_the_reference(conv_numba, threads, problem)


@pytest.mark.parametrize("stride, groups", [(1, 1), (2, 1), (2, 3)])
def test_numba_matches_the_reference_at_the_real_long_rows_threshold(stride, groups):
    """Outputs of 16 x 16 pixels or more take the row-products kernel without any patching."""
    size = 16 * stride
    geometry = ConvGeometry((size, size), (16, 16), (3, 3), (stride, stride), ((1, 1), (1, 1)), (1, 1), groups)
    assert 16 * 16 >= conv_numba._LONG_ROWS
    rng = numpy.random.default_rng(stride + groups)
    x = rng.standard_normal((5, 6, size, size)).astype(numpy.float32)
    w = rng.standard_normal((9, 6 // groups, 3, 3)).astype(numpy.float32)
    gy = rng.standard_normal((5, 9, 16, 16)).astype(numpy.float32)
    _assert_matches_the_reference(conv_numba, 2, (geometry, x, w, gy))


def _assert_matches_the_reference(kernel, threads, problem):
    """Each product in the problem's dtype against the reference's in float64."""
    geometry, x, w, gy = problem
    tolerance = 1e-4 if x.dtype == numpy.float32 else 1e-11
    previous = num_threads()
    set_num_threads(threads)
    try:
        for op, arguments in [("forward", (x, w)), ("input_grad", (gy, w)), ("weight_grad", (x, gy))]:
            ours = getattr(kernel, op)(*arguments, geometry)
            expected = getattr(reference, op)(*(a.astype(numpy.float64) for a in arguments), geometry)
            assert ours.dtype == x.dtype and ours.shape == expected.shape, op
            numpy.testing.assert_allclose(ours, expected, rtol=tolerance, atol=tolerance, err_msg=op)
    finally:
        set_num_threads(previous)


@given(problem=problems())
def test_products_are_adjoint(problem):
    """<forward(x, w), gy> = <x, input_grad(gy, w)> = <w, weight_grad(x, gy)>: all one sum."""
    geometry, x, w, gy = problem
    x, w, gy = (a.astype(numpy.float64) for a in (x, w, gy))
    for kernel in (reference, conv_numba, im2col):
        through_output = numpy.vdot(kernel.forward(x, w, geometry), gy)
        through_input = numpy.vdot(x, kernel.input_grad(gy, w, geometry))
        through_weight = numpy.vdot(w, kernel.weight_grad(x, gy, geometry))
        numpy.testing.assert_allclose([through_input, through_weight], [through_output] * 2,
                                      rtol=1e-10, atol=1e-10)


def test_parallel_for_covers_every_index_once():
    seen = numpy.zeros(103, dtype=int)

    def mark(start, stop):
        seen[start:stop] += 1
    previous = num_threads()
    try:
        set_num_threads(4)
        parallel_for(mark, 103, min_chunk=10)
    finally:
        set_num_threads(previous)
    assert (seen == 1).all()


def test_set_num_threads_rejects_zero():
    with pytest.raises(ValueError, match="set_num_threads: expected a positive count, got 0"):
        set_num_threads(0)


@given(problem=problems())
def test_bias_is_added_per_channel_by_every_kernel(problem):
    """forward adds bias[o] to output channel o, input_grad bias[c] to input channel c
    (a transposed convolution's bias), wherever each kernel folds it in."""
    geometry, x, w, gy = problem
    out_bias = numpy.linspace(-1, 1, w.shape[0]).astype(x.dtype)
    in_bias = numpy.linspace(-1, 1, x.shape[1]).astype(x.dtype)
    for kernel in (reference, conv_numba, im2col):
        numpy.testing.assert_allclose(
            kernel.forward(x, w, geometry, bias=out_bias),
            kernel.forward(x, w, geometry) + out_bias.reshape(-1, 1, 1), rtol=1e-6, atol=1e-6)
        numpy.testing.assert_allclose(
            kernel.input_grad(gy, w, geometry, bias=in_bias),
            kernel.input_grad(gy, w, geometry) + in_bias.reshape(-1, 1, 1), rtol=1e-6, atol=1e-6)
