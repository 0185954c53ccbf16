"""The integer kernels: the reference's sums equal float64 sums exactly, its fixed-point
requantization rounds acc * M correctly, and the Numba kernels equal the reference."""
import numpy
import pytest
from hypothesis import given, strategies as st

import minicnn
import minicnn.functional as F
from minicnn.cpu_kernels import int8
from minicnn.cpu_kernels.conv_geometry import ConvGeometry, correlation_size
from minicnn.cpu_kernels.reference import int8 as reference
from minicnn.cpu_kernels.threads import num_threads, set_num_threads
from minicnn.functional.quantized import quantize_multiplier
from tests.cpu_kernels.test_simd import needs_vnni


@st.composite
def conv_problems(draw):
    """Codes, zero points and requantization parameters of a random quantized convolution."""
    pick = lambda low, high: (draw(st.integers(low, high)), draw(st.integers(low, high)))
    kernel, stride, dilation, padding = pick(1, 4), pick(1, 3), pick(1, 2), pick(0, 2)
    in_size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 9))
                    for k, d, p in zip(kernel, dilation, padding))
    # Channels past 4 fill several quads of int8_vnni's kernels, and not always whole ones.
    batch, channels = draw(st.integers(1, 5)), draw(st.integers(1, 9))
    out_channels = draw(st.integers(1, 6))
    rng = numpy.random.default_rng(draw(st.integers(0, 2 ** 16)))
    x = rng.integers(0, 256, (batch, channels) + in_size).astype(numpy.uint8)
    w = rng.integers(-128, 128, (out_channels, channels) + kernel).astype(numpy.int8)
    w_zero_point = rng.integers(-3, 4, out_channels) * draw(st.sampled_from([0, 1]))
    multiplier, shift = quantize_multiplier(rng.uniform(1e-5, 2e-2, out_channels))
    return dict(x=x, x_zero_point=int(rng.integers(0, 256)), w=w, w_zero_point=w_zero_point,
                bias=rng.integers(-2 ** 16, 2 ** 16, out_channels), multiplier=multiplier,
                shift=shift, out_zero_point=int(rng.integers(0, 256)),
                low=draw(st.sampled_from([0, 90])), stride=stride, padding=padding,
                dilation=dilation)


def _geometry(problem):
    x, w = problem["x"], problem["w"]
    pads = tuple((p, p) for p in problem["padding"])
    out_size = tuple(correlation_size(*axis) for axis in zip(x.shape[2:], w.shape[2:],
                     problem["stride"], pads, problem["dilation"]))
    return ConvGeometry(x.shape[2:], out_size, w.shape[2:], problem["stride"], pads,
                        problem["dilation"], 1)


def _reference_conv(p):
    return reference.conv2d(p["x"], p["x_zero_point"], p["w"], p["w_zero_point"], p["bias"],
                            p["multiplier"], p["shift"], p["out_zero_point"], p["low"], 255,
                            p["stride"], p["padding"], p["dilation"])


@given(problem=conv_problems())
def test_reference_accumulators_equal_float64_convolution(problem):
    p = problem
    centered_x = p["x"].astype(numpy.float64) - p["x_zero_point"]
    centered_w = p["w"].astype(numpy.float64) - p["w_zero_point"].reshape(-1, 1, 1, 1)
    exact = F.conv2d(minicnn.tensor(centered_x), minicnn.tensor(centered_w), stride=p["stride"],
                     padding=p["padding"], dilation=p["dilation"]).numpy()
    acc = reference.conv2d_accumulators(p["x"], p["x_zero_point"], p["w"], p["w_zero_point"],
                                        p["stride"], p["padding"], p["dilation"])
    assert acc.dtype == numpy.int32
    numpy.testing.assert_array_equal(acc, exact)


# The kernels of conv2d and linear: int8_vnni's products where the CPU has VNNI, and the
# portable ones (int16 dot products of window rows, or sums along pixel rows for short windows).
KERNELS = [pytest.param("vnni", marks=needs_vnni), "window-rows", "pixel-rows"]


def _choose(patch, kernels):
    patch.setattr(int8, "USE_VNNI", kernels == "vnni")
    patch.setattr(int8, "_SHORT_WINDOW", 10 ** 6 if kernels == "pixel-rows" else 0)


def _weight_fitting_vnni(problem, kernels):
    """The drawn weight codes; for the VNNI kernels, moved so that the codes minus their zero
    points fit in int8 (others go to the portable kernels: see the test after next)."""
    if kernels != "vnni":
        return problem["w"]
    zero_point = problem["w_zero_point"].reshape((-1,) + (1,) * (problem["w"].ndim - 1))
    fitting = numpy.clip(problem["w"].astype(numpy.int16), zero_point - 128, zero_point + 127)
    return fitting.astype(numpy.int8)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("kernels", KERNELS)
@given(problem=conv_problems())
def test_numba_conv_equals_reference(threads, kernels, problem):
    """Every kernel on every drawn problem (USE_VNNI and _SHORT_WINDOW choose it)."""
    p, before = dict(problem, w=_weight_fitting_vnni(problem, kernels)), num_threads()
    set_num_threads(threads)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(int8, "_MIN_MULTIPLY_ADDS_PER_THREAD", 1)   # split even tiny batches
            _choose(patch, kernels)
            patch.setattr(int8, "_PIXEL_BLOCK", 7)                   # several blocks of pixels
            weight = (p["w"].astype(numpy.int16) - p["w_zero_point"].reshape(-1, 1, 1, 1).astype(numpy.int16))
            codes = int8.conv2d(p["x"], p["x_zero_point"], weight.reshape(len(weight), -1),
                                p["bias"], p["multiplier"], p["shift"], p["out_zero_point"],
                                p["low"], 255, _geometry(p))
    finally:
        set_num_threads(before)
    numpy.testing.assert_array_equal(codes, _reference_conv(p))


@pytest.mark.parametrize("kernels", KERNELS[:2])
@given(problem=conv_problems())
def test_numba_linear_equals_reference(kernels, problem):
    p = problem
    x = p["x"].reshape(len(p["x"]), -1)
    # The drawn weights, repeated to x's width.
    w = numpy.resize(_weight_fitting_vnni(p, kernels), (len(p["w"]), x.shape[1]))
    weight = w.astype(numpy.int16) - p["w_zero_point"].reshape(-1, 1).astype(numpy.int16)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(int8, "_MIN_MULTIPLY_ADDS_PER_THREAD", 1)
        _choose(patch, kernels)
        codes = int8.linear(x, p["x_zero_point"], weight, p["bias"], p["multiplier"], p["shift"],
                            p["out_zero_point"], p["low"], 255)
    expected = reference.linear(x, p["x_zero_point"], w, p["w_zero_point"], p["bias"],
                                p["multiplier"], p["shift"], p["out_zero_point"], p["low"], 255)
    numpy.testing.assert_array_equal(codes, expected)


@needs_vnni
def test_portable_kernels_take_weights_outside_int8(monkeypatch):
    """A centred weight of -129 has no int8 byte: conv2d and linear then run the portable
    kernels, and still equal the reference."""
    monkeypatch.setattr(int8, "USE_VNNI", True)
    rng = numpy.random.default_rng(1)
    x = rng.integers(0, 256, (2, 5, 6, 6)).astype(numpy.uint8)
    w = rng.integers(-128, 128, (3, 5, 3, 3)).astype(numpy.int8)
    w[1, 2, 0, 0], w_zero_point = -128, numpy.array([0, 1, -2])     # -128 - 1 = -129
    multiplier, shift = quantize_multiplier([3e-3, 1e-2, 5e-3])
    p = dict(x=x, x_zero_point=9, w=w, w_zero_point=w_zero_point, bias=numpy.array([5, -9, 700]),
             multiplier=multiplier, shift=shift, out_zero_point=100, low=0, stride=(1, 2),
             padding=(1, 0), dilation=(1, 1))
    weight = (w.astype(numpy.int16) - w_zero_point.reshape(-1, 1, 1, 1)).reshape(3, -1)
    assert int8.int8_vnni.packed_weight(weight, 5, (3, 3), 9) is None
    codes = int8.conv2d(x, 9, weight, p["bias"], multiplier, shift, 100, 0, 255, _geometry(p))
    numpy.testing.assert_array_equal(codes, _reference_conv(p))
    rows = x.reshape(2, -1)[:, :45]
    codes = int8.linear(rows, 9, weight, p["bias"], multiplier, shift, 100, 0, 255)
    expected = reference.linear(rows, 9, w.reshape(3, -1), w_zero_point, p["bias"], multiplier,
                                shift, 100, 0, 255)
    numpy.testing.assert_array_equal(codes, expected)


def test_requantization_rounds_the_product_to_nearest():
    """acc * M exactly (Python fractions) against the fixed-point steps: within 1/2 when there
    is one rounding (no right shift), within 1/2 + 1/2^(right + 1) when the rounding to 31
    bits is followed by a rounding right shift (TFLite's double rounding); and the Numba
    scalar version equals the reference."""
    from fractions import Fraction
    rng = numpy.random.default_rng(0)
    acc = numpy.concatenate([rng.integers(-2 ** 31, 2 ** 31, 2000), [-2 ** 31, 2 ** 31 - 1, 0, 1, -1]])
    real = numpy.concatenate([rng.uniform(1e-6, 0.9, 1000), rng.uniform(1, 50, 1000),
                              [0.5, 0.25, 1.0, 0.0, 2.0 ** -33]])
    multiplier, shift = quantize_multiplier(real)
    assert ((multiplier == 0) | ((multiplier >= 2 ** 30) & (multiplier < 2 ** 31))).all()
    ours = reference.multiply_by_quantized_multiplier(acc, multiplier, shift)
    for a, m, s, r, value in zip(acc, multiplier, shift, real, ours):
        shifted = min(max(int(a) << max(int(s), 0), -2 ** 31), 2 ** 31 - 1)
        right = max(-int(s), 0)
        exact = Fraction(shifted) * Fraction(int(m), 2 ** (31 + right))
        assert abs(value - exact) <= Fraction(1, 2) + (Fraction(1, 2 ** (right + 1)) if right else 0), (a, r)
        assert int8.requantize_one(int(a), int(m), int(s), 0, -2 ** 40, 2 ** 40) == value


def test_requantization_ties_round_as_the_reference():
    """Every tie of both roundings: acc * 2^30 / 2^31 is a half for odd acc, and the right
    shifts by 1 and 2 meet halves again; the Numba scalar version rounds them as the reference
    (the 31-bit product halves up, the shift halves away from zero)."""
    acc = numpy.arange(-16, 17)
    for shift in (0, -1, -2, 1):
        expected = reference.multiply_by_quantized_multiplier(acc, 2 ** 30, shift)
        ours = [int8.requantize_one(int(a), 2 ** 30, shift, 0, -100, 100) for a in acc]
        assert ours == list(expected), shift
    halves = reference.multiply_by_quantized_multiplier([-3, -1, 1, 3], 2 ** 30, 0)
    assert list(halves) == [-1, 0, 1, 2]


def test_requantize_saturates_and_clamps():
    assert reference.rounding_doubling_high_mul(-2 ** 31, -2 ** 31) == 2 ** 31 - 1
    assert int8.requantize_one(-2 ** 31, -2 ** 31, 0, 0, -2 ** 40, 2 ** 40) == 2 ** 31 - 1
    # Halves round away from zero: 3 / 2 -> 2 and -3 / 2 -> -2.
    assert list(reference.rounding_divide_by_power_of_two([3, -3, 5, -5], 1)) == [2, -2, 3, -3]
    codes = reference.requantize(numpy.array([-10 ** 6, 0, 10 ** 6]), 2 ** 30, 1, 100, 0, 255)
    assert codes.dtype == numpy.uint8 and list(codes) == [0, 100, 255]


@given(seed=st.integers(0, 2 ** 16), size=st.integers(1, 300))
def test_numba_add_equals_reference(seed, size):
    rng = numpy.random.default_rng(seed)
    a, b = (rng.integers(0, 256, size).astype(numpy.uint8) for _ in range(2))
    scales = rng.uniform(0.001, 0.1, 3)
    larger = 2 * max(scales[:2])
    (ma, sa), (mb, sb) = quantize_multiplier(scales[0] / larger), quantize_multiplier(scales[1] / larger)
    mo, so = quantize_multiplier(larger / (2 ** reference.ADD_LEFT_SHIFT * scales[2]))
    zero_points = rng.integers(0, 256, 3)
    args = (a, zero_points[0], int(ma), int(sa), b, zero_points[1], int(mb), int(sb),
            int(zero_points[2]), int(mo), int(so), 0, 255)
    expected = reference.add(*args)
    numpy.testing.assert_array_equal(int8.add(*args, reference.ADD_LEFT_SHIFT), expected)
    real = (scales[0] * (a - zero_points[0].astype(float)) + scales[1] * (b - zero_points[1].astype(float)))
    exact = numpy.clip(numpy.round(real / scales[2]) + zero_points[2], 0, 255)
    assert numpy.abs(expected - exact).max() <= 1
