"""Every CUDA kernel of kernels/*.cu, run on the CPU emulator through its wrapper in
gpu_kernels/, equals the CPU result (cpu_reference.py) in float32 and float64, on
hypothesis-drawn small shapes: once in a single pass, once with a grid-stride loop that goes
round several times (the `launch_size` fixture). A registry test fails when a kernel has no
case here. Outputs are compared everywhere, so an element a kernel forgets shows as NaN
(the emulator fills fresh shared memory with NaN, and these tests fill outputs with it).
"""
import numpy
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from minicnn.backend import cuda_kernels
from minicnn.cpu_kernels.conv_geometry import ConvGeometry, correlation_size
from minicnn.cpu_kernels.reference import int8 as reference_int8
from minicnn.cpu_kernels.reference import roi_align as roi_reference
from minicnn.functional.quantized import quantize_multiplier
from minicnn.gpu_kernels import (batch_norm, conv, int8, optim, pool, roi_align,
                                 softmax_cross_entropy)
from tests.cpu_kernels.test_roi_align_kernels import roi_problems

from ..cpu_kernels.test_int8 import _geometry, _reference_conv, conv_problems
from . import cpu_reference as reference
from .conftest import requires_compiler

pytestmark = requires_compiler
DTYPES = [numpy.float32, numpy.float64]
EXERCISED = set()


def exercises(*kernels):
    """Mark a test as the emulated test of these kernels (names in kernels/*.cu)."""
    def mark(test):
        EXERCISED.update(kernels)
        return test
    return mark


def assert_close(actual, expected, what):
    tolerance = 2e-5 if expected.dtype == numpy.float32 else 1e-12
    scale = max(1.0, float(numpy.abs(expected).max(initial=0.0)))
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    numpy.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance * scale,
                                  err_msg=what)


def normal(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


# --- im2col.cu -------------------------------------------------------------------------------

@st.composite
def conv_geometries(draw):
    in_size = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
    out_size = tuple(correlation_size(*args) for args in zip(in_size, kernel, stride, padding, dilation))
    assume(min(out_size) >= 1)
    return ConvGeometry(in_size, out_size, kernel, stride, padding, dilation, groups=1)


@exercises("im2col", "col2im")
@pytest.mark.parametrize("dtype", DTYPES)
@given(geometry=conv_geometries(), batch=st.integers(1, 2), channels=st.integers(1, 3),
       seed=st.integers(0, 2 ** 16))
def test_im2col_and_col2im(launch_size, dtype, geometry, batch, channels, seed):
    rng = numpy.random.default_rng(seed)
    x = normal(rng, (batch, channels) + geometry.in_size, dtype)
    with cuda_kernels.emulated():
        col = conv.im2col(x, geometry)
        assert_close(col, reference.im2col(x, geometry), "im2col")
        c = normal(rng, col.shape, dtype)
        assert_close(conv.col2im(c, geometry, batch, channels),
                     reference.col2im(c, geometry, batch, channels), "col2im")


@pytest.mark.parametrize("dtype", DTYPES)
@given(geometry=conv_geometries(), batch=st.integers(1, 2), channels=st.integers(1, 3),
       out_channels=st.integers(1, 3), seed=st.integers(0, 2 ** 16))
def test_the_gpu_convolution_equals_the_reference(launch_size, dtype, geometry, batch, channels,
                                                  out_channels, seed):
    """The three products of gpu_kernels/conv.py (im2col.cu plus matrix products) against
    cpu_kernels/reference/conv.py's loop over the kernel window."""
    rng = numpy.random.default_rng(seed)
    x = normal(rng, (batch, channels) + geometry.in_size, dtype)
    w = normal(rng, (out_channels, channels) + geometry.kernel, dtype)
    gy = normal(rng, (batch, out_channels) + geometry.out_size, dtype)
    bias, gx_bias = normal(rng, (out_channels,), dtype), normal(rng, (channels,), dtype)
    with cuda_kernels.emulated():
        assert_close(conv.forward(x, w, geometry, bias=bias),
                     reference.conv.forward(x, w, geometry, bias=bias), "forward")
        assert_close(conv.input_grad(gy, w, geometry, bias=gx_bias),
                     reference.conv.input_grad(gy, w, geometry, bias=gx_bias), "input_grad")
        assert_close(conv.weight_grad(x, gy, geometry),
                     reference.conv.weight_grad(x, gy, geometry), "weight_grad")


# --- pool.cu ---------------------------------------------------------------------------------

@st.composite
def windows(draw, size):
    """(start, count, step) of pooling windows over an axis of `size`, fixed or adaptive,
    each with at least one tap inside the axis (as PyTorch's arguments guarantee)."""
    if draw(st.booleans()):
        kernel, stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
        padding = draw(st.integers(0, kernel // 2))
        out = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
        assume(out >= 1)
        start, count, step = numpy.arange(out) * stride - padding, numpy.full(out, kernel), dilation
    else:
        o = numpy.arange(draw(st.integers(1, size)))
        start, count, step = o * size // len(o), -(-(o + 1) * size // len(o)) - o * size // len(o), 1
    window = (start.astype(numpy.int64), count.astype(numpy.int64), step)
    assume(all(len(reference.reference_pool._inside(window, k, size)) for k in range(len(start))))
    return window


@st.composite
def pool_problems(draw):
    planes, height, width = draw(st.integers(1, 4)), draw(st.integers(1, 7)), draw(st.integers(1, 7))
    return planes, (height, width), draw(windows(height)), draw(windows(width))


@exercises("max_pool_planes", "scatter_add_planes")
@pytest.mark.parametrize("dtype", DTYPES)
@given(problem=pool_problems(), seed=st.integers(0, 2 ** 16), with_nan=st.booleans())
def test_max_pool_and_its_backward(launch_size, dtype, problem, seed, with_nan):
    planes, in_size, rows, cols = problem
    rng = numpy.random.default_rng(seed)
    x = normal(rng, (planes,) + in_size, dtype)
    if with_nan:      # one NaN per plane: it wins every window it is in
        x.reshape(planes, -1)[:, rng.integers(x[0].size)] = numpy.nan
    with cuda_kernels.emulated():
        values, index = pool.max_pool(x, rows, cols)
        expected_values, expected_index = reference.max_pool(x, rows, cols)
        assert_close(values, expected_values, "max_pool values")
        numpy.testing.assert_array_equal(index, expected_index, err_msg="max_pool index")
        # max-pool's backward is the scatter of the output gradient to those positions
        gy = normal(rng, values.shape, dtype).reshape(planes, -1)
        size = in_size[0] * in_size[1]
        flat_index = index.reshape(planes, -1)
        assert_close(pool.scatter_add(gy, flat_index, size),
                     reference.scatter_add(gy, flat_index, size), "scatter_add")


@exercises("scatter_add_planes")
@pytest.mark.parametrize("dtype", DTYPES)
@given(planes=st.integers(1, 4), length=st.integers(1, 40), size=st.integers(1, 9),
       shared_index=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_scatter_add_with_one_or_many_index_rows(launch_size, dtype, planes, length, size,
                                                  shared_index, seed):
    rng = numpy.random.default_rng(seed)
    values = normal(rng, (planes, length), dtype)
    index = rng.integers(0, size, (1 if shared_index else planes, length))   # repeats collide
    with cuda_kernels.emulated():
        assert_close(pool.scatter_add(values, index, size),
                     reference.scatter_add(values, index, size), "scatter_add")


@exercises("avg_pool_planes", "avg_pool_backward_planes")
@pytest.mark.parametrize("dtype", DTYPES)
@given(problem=pool_problems(), seed=st.integers(0, 2 ** 16))
def test_avg_pool_and_its_backward(launch_size, dtype, problem, seed):
    planes, in_size, rows, cols = problem
    rng = numpy.random.default_rng(seed)
    x = normal(rng, (planes,) + in_size, dtype)
    divisor = rng.uniform(1, 9, (len(rows[0]), len(cols[0])))
    with cuda_kernels.emulated():
        out = pool.avg_pool(x, rows, cols, divisor)
        assert_close(out, reference.avg_pool(x, rows, cols, divisor), "avg_pool")
        gy = normal(rng, out.shape, dtype)
        assert_close(pool.avg_pool_backward(gy, rows, cols, divisor, in_size),
                     reference.avg_pool_backward(gy, rows, cols, divisor, in_size),
                     "avg_pool_backward")


# --- batch_norm.cu ---------------------------------------------------------------------------

@exercises("batch_norm_stats", "batch_norm_backward_reduce", "batch_norm_backward_input")
@pytest.mark.parametrize("thread_order", ["forward", "reverse", "shuffle"])
@pytest.mark.parametrize("dtype", DTYPES)
@given(batch=st.integers(1, 3), channels=st.integers(1, 3),
       spatial=st.lists(st.integers(1, 5), max_size=2), with_weight=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_batch_norm(launch_size, thread_order, dtype, batch, channels, spatial, with_weight, seed):
    rng = numpy.random.default_rng(seed)
    shape = (batch, channels) + tuple(spatial)
    x, gy = normal(rng, shape, dtype) * 3 + 1, normal(rng, shape, dtype)
    weight = normal(rng, channels, dtype) if with_weight else None
    with cuda_kernels.emulated(thread_order=thread_order):
        mean, var = batch_norm.batch_norm_stats(x)
        expected_mean, expected_var = reference.batch_norm_stats(x)
        assert_close(mean, expected_mean, "mean")
        assert_close(var, expected_var, "var")
        invstd = (1 / numpy.sqrt(expected_var + 1e-5)).astype(dtype)
        for what, got, expected in zip(("grad_input", "sum gy * x_hat", "sum gy"),
                                       batch_norm.batch_norm_backward(gy, x, expected_mean, invstd, weight),
                                       reference.batch_norm_backward(gy, x, expected_mean, invstd, weight)):
            assert_close(got, expected, what)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_reductions_loop_when_a_channel_has_more_values_than_threads(dtype):
    # 3 * 100 values per channel for 256 threads: each thread sums one or two of them.
    rng = numpy.random.default_rng(0)
    x, gy = normal(rng, (3, 2, 100), dtype), normal(rng, (3, 2, 100), dtype)
    with cuda_kernels.emulated(thread_order="shuffle"):
        for got, expected in zip(batch_norm.batch_norm_stats(x), reference.batch_norm_stats(x)):
            assert_close(got, expected, "statistics")
        mean, var = reference.batch_norm_stats(x)
        invstd = (1 / numpy.sqrt(var + 1e-5)).astype(dtype)
        for got, expected in zip(batch_norm.batch_norm_backward(gy, x, mean, invstd, None),
                                 reference.batch_norm_backward(gy, x, mean, invstd, None)):
            assert_close(got, expected, "backward")


# --- softmax_cross_entropy.cu ----------------------------------------------------------------

@exercises("softmax_cross_entropy_forward", "softmax_cross_entropy_backward")
@pytest.mark.parametrize("dtype", DTYPES)
@given(rows=st.integers(1, 20), classes=st.integers(1, 12), seed=st.integers(0, 2 ** 16))
def test_softmax_cross_entropy(launch_size, dtype, rows, classes, seed):
    rng = numpy.random.default_rng(seed)
    logits = normal(rng, (rows, classes), dtype) * 5
    coefficients = rng.uniform(0, 1, (rows, classes)).astype(dtype)   # smoothed, weighted targets
    with cuda_kernels.emulated():
        results = softmax_cross_entropy.softmax_cross_entropy_forward(logits, coefficients)
        expected = reference.softmax_cross_entropy_forward(logits, coefficients)
        for what, got, wanted in zip(("loss", "log-sum-exp", "coefficient sum"), results, expected):
            assert_close(got, wanted, what)
        grad_loss = normal(rng, rows, dtype)
        assert_close(softmax_cross_entropy.softmax_cross_entropy_backward(logits, coefficients, *expected[1:], grad_loss),
                     reference.softmax_cross_entropy_backward(logits, coefficients, *expected[1:], grad_loss),
                     "grad_logits")


# --- optim.cu --------------------------------------------------------------------------------

@exercises("sgd_momentum_update")
@pytest.mark.parametrize("dtype", DTYPES)
@given(size=st.integers(1, 300), nesterov=st.booleans(), first_step=st.booleans(),
       dampening=st.sampled_from([0.0, 0.1]), weight_decay=st.sampled_from([0.0, 0.01]),
       seed=st.integers(0, 2 ** 16))
def test_sgd_momentum_update(launch_size, dtype, size, nesterov, first_step, dampening,
                             weight_decay, seed):
    rng = numpy.random.default_rng(seed)
    param, grad, buf = (normal(rng, size, dtype) for _ in range(3))
    expected = reference.sgd_momentum_update(param, grad, buf, 0.1, 0.9, dampening, weight_decay,
                                             nesterov, first_step)
    with cuda_kernels.emulated():
        optim.sgd_momentum_update(param, grad, buf, 0.1, 0.9, dampening, weight_decay, nesterov,
                                  first_step)
    assert_close(param, expected[0], "param")
    assert_close(buf, expected[1], "momentum buffer")


@exercises("adam_update")
@pytest.mark.parametrize("dtype", DTYPES)
@given(size=st.integers(1, 300), step=st.integers(1, 5), decoupled=st.booleans(),
       weight_decay=st.sampled_from([0.0, 0.05]), seed=st.integers(0, 2 ** 16))
def test_adam_update(launch_size, dtype, size, step, decoupled, weight_decay, seed):
    rng = numpy.random.default_rng(seed)
    param, grad, exp_avg = (normal(rng, size, dtype) for _ in range(3))
    exp_avg_sq = rng.uniform(0, 1, size).astype(dtype)
    hyper = dict(step=step, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=weight_decay,
                 decoupled_weight_decay=decoupled)
    expected = reference.adam_update(param, grad, exp_avg, exp_avg_sq, **hyper)
    with cuda_kernels.emulated():
        optim.adam_update(param, grad, exp_avg, exp_avg_sq, **hyper)
    for what, got, wanted in zip(("param", "exp_avg", "exp_avg_sq"), (param, exp_avg, exp_avg_sq), expected):
        assert_close(got, wanted, what)


# --- int8.cu ---------------------------------------------------------------------------------

@st.composite
def int8_conv_problems(draw):
    """test_int8.py's quantized convolutions, with weight zero points up to 127 (so that the
    rows b = w - w_zp of some channels do not fit a signed byte: int8.cu's offset d) and
    multipliers that spread the outputs over the code range (most drawn ones clamp them all)."""
    problem = dict(draw(conv_problems()))
    rng = numpy.random.default_rng(draw(st.integers(0, 2 ** 16)))
    out_channels = len(problem["w"])
    problem["w_zero_point"] = rng.integers(-128, 128, out_channels) * draw(st.sampled_from([0, 1]))
    acc = reference_int8.conv2d_accumulators(problem["x"], problem["x_zero_point"], problem["w"],
                                             problem["w_zero_point"], problem["stride"],
                                             problem["padding"], problem["dilation"])
    problem["bias"] = rng.integers(-2 ** 12, 2 ** 12, out_channels)
    spread = numpy.abs(acc).max(axis=(0, 2, 3)) + numpy.abs(problem["bias"]) + 1
    problem["multiplier"], problem["shift"] = quantize_multiplier(rng.uniform(50, 300, out_channels)
                                                                  / spread)
    return problem


def _weight_rows(w, w_zero_point):
    """The kernels' weight argument: codes minus zero points, int16 rows."""
    zero_points = w_zero_point.reshape((-1,) + (1,) * (w.ndim - 1)).astype(numpy.int16)
    centered = w.astype(numpy.int16) - zero_points
    return centered.reshape(len(w), -1)


@exercises("int8_im2col", "int8_products_requantized")
@given(problem=int8_conv_problems())
def test_int8_conv2d_and_linear_equal_the_reference(launch_size, problem):
    """Exact integer equality with cpu_kernels/reference/int8.py: the convolution, and the
    linear layer on the same codes flattened (N, C * H * W) with the weight resized to it."""
    p = problem
    x = p["x"].reshape(len(p["x"]), -1)
    w = numpy.resize(p["w"], (len(p["w"]), x.shape[1]))
    requantization = (p["bias"], p["multiplier"], p["shift"], p["out_zero_point"], p["low"], 255)
    with cuda_kernels.emulated():
        conv_codes = int8.conv2d(p["x"], p["x_zero_point"], _weight_rows(p["w"], p["w_zero_point"]),
                                 *requantization, _geometry(p))
        linear_codes = int8.linear(x, p["x_zero_point"], _weight_rows(w, p["w_zero_point"]),
                                   *requantization)
    numpy.testing.assert_array_equal(conv_codes, _reference_conv(p), err_msg="conv2d")
    expected = reference_int8.linear(x, p["x_zero_point"], w, p["w_zero_point"], *requantization)
    numpy.testing.assert_array_equal(linear_codes, expected, err_msg="linear")


@exercises("int8_add")
@given(size=st.integers(1, 70), relu=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_int8_add_equals_the_reference(launch_size, size, relu, seed):
    rng = numpy.random.default_rng(seed)
    a, b = rng.integers(0, 256, (2, size)).astype(numpy.uint8)
    scales, zero_points = rng.uniform(0.001, 0.1, 3), rng.integers(0, 256, 3)
    larger = 2 * max(scales[:2])
    (a_multiplier, a_shift), (b_multiplier, b_shift) = (quantize_multiplier(s / larger)
                                                        for s in scales[:2])
    left_shift = reference_int8.ADD_LEFT_SHIFT
    multiplier, shift = quantize_multiplier(larger / (2 ** left_shift * scales[2]))
    args = (a, zero_points[0], int(a_multiplier), int(a_shift), b, zero_points[1], int(b_multiplier),
            int(b_shift), int(zero_points[2]), int(multiplier), int(shift),
            int(zero_points[2]) if relu else 0, 255)
    with cuda_kernels.emulated():
        codes = int8.add(*args, left_shift)
    numpy.testing.assert_array_equal(codes, reference_int8.add(*args))


# --- roi_align.cu ----------------------------------------------------------------------------

@exercises("roi_align_forward", "roi_align_backward")
@pytest.mark.parametrize("dtype", DTYPES)
@given(problem=roi_problems(max_side=7, max_count=4), sampling_ratio=st.sampled_from([-1, 1, 2]), aligned=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_roi_align_and_its_backward(launch_size, dtype, problem, sampling_ratio, aligned, seed):
    shape, rois, scale, output_size = problem
    rng = numpy.random.default_rng(seed)
    x = normal(rng, shape, dtype)
    with cuda_kernels.emulated():
        y = roi_align.roi_align_forward(x, rois, scale, output_size, sampling_ratio, aligned)
        assert_close(y, roi_reference.roi_align_forward(x, rois, scale, output_size, sampling_ratio,
                                                        aligned), "roi_align_forward")
        gy = normal(rng, y.shape, dtype)
        assert_close(roi_align.roi_align_backward(gy, rois, scale, sampling_ratio, aligned, shape),
                     roi_reference.roi_align_backward(gy, rois, scale, sampling_ratio, aligned, shape),
                     "roi_align_backward")


@exercises("roi_pool_forward")
@pytest.mark.parametrize("dtype", DTYPES)
@given(problem=roi_problems(max_side=7, max_count=4), seed=st.integers(0, 2 ** 16), ties=st.booleans())
def test_roi_pool(launch_size, dtype, problem, seed, ties):
    shape, rois, scale, output_size = problem
    x = normal(numpy.random.default_rng(seed), shape, dtype)
    x = numpy.round(x) if ties else x              # equal values: the first max must win
    with cuda_kernels.emulated():
        values, index = roi_align.roi_pool_forward(x, rois, scale, output_size)
    expected_values, expected_index = roi_reference.roi_pool_forward(x, rois, scale, output_size)
    assert_close(values, expected_values, "roi_pool values")
    numpy.testing.assert_array_equal(index, expected_index, err_msg="roi_pool index")


def test_every_kernel_in_kernels_cu_has_an_emulated_test():
    kernels = {name.split("<")[0] for source in cuda_kernels.KERNEL_DIR.glob("*.cu")
               for name in cuda_kernels.family_names(source.stem)}
    assert kernels, "no template kernels found in kernels/*.cu"
    assert not kernels - EXERCISED, f"kernels without an emulated test: {sorted(kernels - EXERCISED)}"
