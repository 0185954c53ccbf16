"""int8_vnni.py's layouts and products: the sums that tile_sums leaves in the rows of the
virtual pixels are reference/int8.py's int32 accumulators, bit for bit."""
import numpy
import pytest
from hypothesis import given, strategies as st

from minicnn.cpu_kernels import int8_vnni
from minicnn.cpu_kernels.reference import int8 as reference
from tests.cpu_kernels.test_int8 import _geometry, conv_problems
from tests.cpu_kernels.test_simd import needs_vnni


def _centered_int8(problem):
    """The drawn weight codes minus their zero points, clipped to int8 (the weights that
    packed_weight takes; the reference then gets them with zero points 0)."""
    zero_point = problem["w_zero_point"].reshape(-1, 1, 1, 1)
    return numpy.clip(problem["w"].astype(numpy.int16) - zero_point, -128, 127).astype(numpy.int8)


@needs_vnni
@given(problem=conv_problems())
def test_conv_sums_equal_the_reference_accumulators(problem):
    p, w = problem, _centered_int8(problem)
    x, geometry = p["x"], _geometry(p)
    out_channels, channels = w.shape[:2]
    words, init = int8_vnni.packed_weight(w.reshape(out_channels, -1).astype(numpy.int16),
                                          channels, w.shape[2:], p["x_zero_point"])
    offsets, phase_h, phase_w, tiles, plane_words = int8_vnni.conv_layout(geometry, channels)
    (top, _), (left, _) = geometry.padding
    out_h, out_w = geometry.out_size
    planes = numpy.empty(plane_words, numpy.int32)
    sums = numpy.empty((len(words), tiles * int8_vnni.TILE_PIXELS), numpy.int32)
    acc = numpy.empty((len(x), out_channels, out_h, out_w), numpy.int32)
    for n in range(len(x)):
        int8_vnni.quad_planes(x[n], p["x_zero_point"], top, left, *geometry.stride,
                              phase_h, phase_w, planes)
        int8_vnni.tile_sums(planes, offsets, words, init, tiles, sums)
        # Virtual pixel v = oh * phase_w + ow; those with ow >= out_w are thrown away.
        rows = sums[:out_channels, :out_h * phase_w].reshape(out_channels, out_h, phase_w)
        acc[n] = rows[..., :out_w]
    expected = reference.conv2d_accumulators(x, p["x_zero_point"], w, numpy.zeros(out_channels),
                                             p["stride"], p["padding"], p["dilation"])
    numpy.testing.assert_array_equal(acc, expected)


@needs_vnni
@given(problem=conv_problems(), first=st.integers(0, 3))
def test_linear_sums_equal_the_reference_accumulators(problem, first):
    p = problem
    x = p["x"].reshape(len(p["x"]), -1)
    first = min(first, len(x) - 1)
    w = numpy.resize(_centered_int8(p), (len(p["w"]), x.shape[1]))
    words, init = int8_vnni.packed_weight(w.astype(numpy.int16), x.shape[1], (), p["x_zero_point"])
    rows, quads = len(x) - first, -(-x.shape[1] // 4)
    tiles = -(-rows // int8_vnni.TILE_PIXELS)
    # Quad g's words start at g * rows; the last tile reads past the last quad's.
    planes = numpy.zeros(quads * rows + tiles * int8_vnni.TILE_PIXELS, numpy.int32)
    int8_vnni.packed_rows(x, first, len(x), planes)
    sums = numpy.empty((len(words), tiles * int8_vnni.TILE_PIXELS), numpy.int32)
    int8_vnni.tile_sums(planes, numpy.arange(quads) * rows, words, init, tiles, sums)
    centered = x[first:].astype(numpy.int64) - p["x_zero_point"]
    expected = (centered @ w.T.astype(numpy.int64)).astype(numpy.int32)   # |sums| < 2^31 here
    numpy.testing.assert_array_equal(sums[:len(w), :rows].T, expected)


def test_packed_weight_refuses_weights_outside_int8():
    """Centred weights of 128 or -129 (a weight zero point pushes them there) have no byte."""
    for outside in (128, -129):
        rows = numpy.zeros((2, 9), numpy.int16)
        rows[1, 4] = outside
        assert int8_vnni.packed_weight(rows, 1, (3, 3), 7) is None
    words, init = int8_vnni.packed_weight(numpy.full((2, 9), -128, numpy.int16), 1, (3, 3), 7)
    assert words.shape == (int8_vnni.TILE_CHANNELS, 9) and list(init[:3]) == [7 * 128 * 9] * 2 + [0]
