"""The Winograd kernels: the F(4, 3) identity, agreement with the reference convolution, which
layers they take, and conv2d / conv_transpose2d through them end to end (gradcheck, PyTorch
parity)."""
import numpy
import pytest
from hypothesis import given, strategies as st

import minicnn.functional as F
from minicnn.autograd import gradcheck, gradgradcheck
from minicnn.cpu_kernels import winograd
from minicnn.cpu_kernels.conv_geometry import ConvGeometry, correlation_size
from minicnn.cpu_kernels.reference import conv as reference
from minicnn.cpu_kernels.threads import num_threads, set_num_threads
from tests.helpers import assert_close, leaf, to_torch

# Measured largest error of winograd's float32 results, over the largest entry of the exact
# (float64) result, with weights scaled as He initialisation does: 1e-6 to 3e-6 for 1 to 16
# channels, 7e-6 for the 64 channels of benchmark shape C, 1e-5 for the 128 to 256 of E
# (direct convolution's float32: 1e-7 to 5e-7). The F(4x4, 3x3) transforms multiply entries by up
# to 8 and 5 before the products, and take differences of sums of such terms afterwards,
# which costs about five bits. The bound leaves a factor of 10 for the tiny shapes drawn here.
FLOAT32_TOLERANCE = 1e-4
FLOAT64_TOLERANCE = 1e-10


def geometry_of(in_size, padding):
    """The geometry of a 3x3, stride-1 correlation with padding ((top, bottom), (left, right))."""
    out_size = tuple(correlation_size(size, 3, 1, pads, 1) for size, pads in zip(in_size, padding))
    return ConvGeometry(in_size, out_size, (3, 3), (1, 1), padding, (1, 1), 1)


@st.composite
def problems(draw):
    """A 3x3 stride-1 geometry (padding 0 to 5 on each side, so that windows of zeros past the
    kernel's reach occur too; sizes odd, even and not multiples of the 4-pixel tile) and random
    arrays for it, in float32 or float64."""
    padding = tuple((draw(st.integers(0, 5)), draw(st.integers(0, 5))) for _ in range(2))
    in_size = tuple(draw(st.integers(max(1, 3 - sum(pads)), 11)) for pads in padding)
    geometry = geometry_of(in_size, padding)
    batch, channels, out_channels = (draw(st.integers(1, 4)) for _ in range(3))
    dtype = draw(st.sampled_from([numpy.float32, numpy.float64]))
    rng = numpy.random.default_rng(draw(st.integers(0, 2 ** 16)))
    x = rng.standard_normal((batch, channels) + in_size)
    w = rng.standard_normal((out_channels, channels, 3, 3)) / numpy.sqrt(9 * channels)
    gy = rng.standard_normal((batch, out_channels) + geometry.out_size)
    return geometry, x, w, gy, dtype


def test_one_dimensional_identity():
    """A^T [(G g) * (B^T d)] is the correlation of six inputs d with three taps g: four outputs."""
    rng = numpy.random.default_rng(0)
    d, g = rng.standard_normal(6), rng.standard_normal(3)
    direct = numpy.array([d[i:i + 3] @ g for i in range(4)])
    numpy.testing.assert_allclose(winograd.OUTPUT_T @ ((winograd.FILTER @ g) * (winograd.INPUT_T @ d)),
                                  direct, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("threads", [1, 2])
@given(problem=problems(), block_bytes=st.integers(1, 4000), stretch=st.integers(1, 64))
def test_matches_the_reference(threads, problem, block_bytes, stretch):
    """Each of the three products against the reference's, computed in float64. Blocks of one
    tile row to a few, transforms 1 to 64 entries at a time, and every thread given work, so
    that the offsets of blocks, stretches and threads are exercised too."""
    geometry, x, w, gy, dtype = problem
    tolerance = FLOAT32_TOLERANCE if dtype == numpy.float32 else FLOAT64_TOLERANCE
    previous = num_threads()
    set_num_threads(threads)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(winograd, "_BLOCK_BYTES", block_bytes)
            patch.setattr(winograd, "_STRETCH", stretch)
            patch.setattr(winograd, "_MIN_MULTIPLY_ADDS_PER_THREAD", 1)
            for op, arguments in [("forward", (x, w)), ("input_grad", (gy, w)), ("weight_grad", (x, gy))]:
                expected = getattr(reference, op)(*arguments, geometry)
                ours = getattr(winograd, op)(*(a.astype(dtype) for a in arguments), geometry)
                assert ours.dtype == dtype and ours.shape == expected.shape, op
                scale = numpy.abs(expected).max()
                numpy.testing.assert_allclose(ours, expected, rtol=0, atol=tolerance * scale,
                                              err_msg=op)
    finally:
        set_num_threads(previous)


@pytest.mark.parametrize("kernel, stride, dilation, groups, supported", [
    ((3, 3), (1, 1), (1, 1), 1, True),
    ((5, 5), (1, 1), (1, 1), 1, False),
    ((1, 3), (1, 1), (1, 1), 1, False),     # conv1d's kernels are (1, k)
    ((3, 3), (2, 2), (1, 1), 1, False),
    ((3, 3), (1, 2), (1, 1), 1, False),
    ((3, 3), (1, 1), (2, 2), 1, False),
    ((3, 3), (1, 1), (1, 1), 2, False),
])
def test_supports(kernel, stride, dilation, groups, supported):
    geometry = ConvGeometry((8, 8), (6, 6), kernel, stride, ((1, 1), (2, 0)), dilation, groups)
    assert winograd.supports(geometry) is supported


# --- through conv2d and conv_transpose2d ---------------------------------------------------------

@pytest.fixture
def winograd_algorithm():
    previous = F.get_conv_algorithm()
    F.set_conv_algorithm("winograd")
    yield
    F.set_conv_algorithm(previous)


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_gradcheck(winograd_algorithm, device, padding):
    x, w, b = leaf((2, 2, 5, 6), device), leaf((3, 2, 3, 3), device), leaf((3,), device)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=padding), (x, w, b))
    y, wt, bt = leaf((2, 3, 5, 6), device), leaf((3, 2, 3, 3), device), leaf((2,), device)
    assert gradcheck(lambda y, w, b: F.conv_transpose2d(y, w, b, padding=padding), (y, wt, bt))


def test_gradgradcheck(winograd_algorithm, device):
    """Second derivatives run all three kernels on one another's outputs."""
    x, w = leaf((1, 2, 4, 5), device), leaf((2, 2, 3, 3), device)
    assert gradgradcheck(lambda x, w: F.conv2d(x, w, padding=1), (x, w))


@pytest.mark.parametrize("name, padding", [("conv2d", 0), ("conv2d", 1), ("conv2d", "same"),
                                           ("conv_transpose2d", 1), ("conv_transpose2d", 2)])
@pytest.mark.parametrize("dtype, tolerance", [(numpy.float64, 1e-10), (numpy.float32, 1e-4)])
def test_matches_pytorch(torch, winograd_algorithm, device, name, padding, dtype, tolerance):
    """Output and the gradients of input, weight and bias, through the same calls in both libraries."""
    x = leaf((3, 4, 9, 7), device, dtype=dtype)
    w = leaf((5, 4, 3, 3) if name == "conv2d" else (4, 5, 3, 3), device, dtype=dtype)
    b = leaf((5,), device, dtype=dtype)
    grow = 0 if padding == "same" else (2 * padding - 2) * (1 if name == "conv2d" else -1)
    upstream = numpy.random.standard_normal((3, 5, 9 + grow, 7 + grow)).astype(dtype)

    def run(functional, tensors, gradient):
        y = getattr(functional, name)(*tensors, padding=padding)
        y.backward(gradient)
        return [y] + [t.grad for t in tensors]
    ours = run(F, (x, w, b), leaf(upstream, device, requires_grad=False, dtype=dtype))
    theirs = run(torch.nn.functional, [to_torch(torch, t) for t in (x, w, b)], torch.tensor(upstream))
    for mine, reference in zip(ours, theirs):
        assert mine.dtype == x.dtype
        assert_close(mine, reference, rtol=tolerance, atol=tolerance)
