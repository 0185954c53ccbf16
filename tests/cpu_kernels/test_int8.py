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


@st.composite
def conv_problems(draw):
    """Codes, zero points and requantization parameters of a random quantized convolution."""
    pick = lambda low, high: (draw(st.integers(low, high)), draw(st.integers(low, high)))
    kernel, stride, dilation, padding = pick(1, 4), pick(1, 3), pick(1, 2), pick(0, 2)
    in_size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 9))
                    for k, d, p in zip(kernel, dilation, padding))
    batch, channels, out_channels = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 5))
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


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("short_window, pixels_per_number", [(0, 10 ** 6), (10 ** 6, 0)],
                         ids=["window-rows", "pixel-rows"])
@given(problem=conv_problems())
def test_numba_conv_equals_reference(threads, short_window, pixels_per_number, problem):
    """Both layouts (the window of a pixel as a row, or a pixel's number of every window as a
    row) on every drawn problem: _SHORT_WINDOW and _PIXELS_PER_NUMBER choose between them."""
    p, before = problem, num_threads()
    set_num_threads(threads)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(int8, "_MIN_MULTIPLY_ADDS_PER_THREAD", 1)   # split even tiny batches
            patch.setattr(int8, "_SHORT_WINDOW", short_window)
            patch.setattr(int8, "_PIXELS_PER_NUMBER", pixels_per_number)
            patch.setattr(int8, "_PIXEL_BLOCK", 7)                   # several blocks of pixels
            weight = (p["w"].astype(numpy.int16) - p["w_zero_point"].reshape(-1, 1, 1, 1).astype(numpy.int16))
            codes = int8.conv2d(p["x"], p["x_zero_point"], weight.reshape(len(weight), -1),
                                p["bias"], p["multiplier"], p["shift"], p["out_zero_point"],
                                p["low"], 255, _geometry(p))
    finally:
        set_num_threads(before)
    numpy.testing.assert_array_equal(codes, _reference_conv(p))


@given(problem=conv_problems())
def test_numba_linear_equals_reference(problem):
    p = problem
    x = p["x"].reshape(len(p["x"]), -1)
    w = numpy.resize(p["w"], (len(p["w"]), x.shape[1]))     # the drawn weights, repeated to x's width
    weight = w.astype(numpy.int16) - p["w_zero_point"].reshape(-1, 1).astype(numpy.int16)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(int8, "_MIN_MULTIPLY_ADDS_PER_THREAD", 1)
        codes = int8.linear(x, p["x_zero_point"], weight, p["bias"], p["multiplier"], p["shift"],
                            p["out_zero_point"], p["low"], 255)
    expected = reference.linear(x, p["x_zero_point"], w, p["w_zero_point"], p["bias"],
                                p["multiplier"], p["shift"], p["out_zero_point"], p["low"], 255)
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
