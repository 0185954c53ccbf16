"""Quantized tensors and ops (functional/quantized.py) against PyTorch's quantized CPU ops
(fbgemm engine), and their errors."""
import warnings

import numpy
import pytest
from hypothesis import given, strategies as st

import minicnn
import minicnn.functional as F
from minicnn.functional.quantized import QTensor


@pytest.fixture
def tq(torch):
    """torch with the fbgemm engine, its deprecation warnings silenced."""
    warnings.filterwarnings("ignore", message=".*(deprecated|reduce_range).*")
    torch.backends.quantized.engine = "fbgemm"
    return torch


def _torch_qtensor(torch, q):
    """A torch quantized tensor holding our QTensor's codes and qparams."""
    if q.axis is None:
        return torch._make_per_tensor_quantized_tensor(torch.tensor(q.codes), float(q.scale), q.zero_point)
    return torch._make_per_channel_quantized_tensor(
        torch.tensor(q.codes), torch.tensor(q.scale, dtype=torch.float64),
        torch.tensor(q.zero_point), q.axis)


def test_quantize_one_number_by_hand():
    q = F.quantize_per_tensor(minicnn.tensor([-1.0, 0.5, 3.0]), 4 / 255, 64)
    # 0.5 / (4/255) = 31.875 -> 32, + 64 = 96;  -1 -> -63.75 -> -64 + 64 = 0;  3 -> 191 + 64 = 255
    assert q.codes.tolist() == [0, 96, 255] and q.codes.dtype == numpy.uint8
    # Back: (q - 64) * 4/255, the nearest grid points, at most half a step (2/255) away.
    assert F.dequantize(q).numpy().tolist() == pytest.approx([-256 / 255, 128 / 255, 764 / 255], abs=1e-6)


@given(seed=st.integers(0, 2 ** 16), dtype=st.sampled_from(["quint8", "qint8"]))
def test_quantize_per_tensor_and_channel_equal_torch(tq, seed, dtype):
    torch = tq
    rng = numpy.random.default_rng(seed)
    x = (rng.standard_normal((3, 4, 5)) * rng.uniform(0.1, 5)).astype(numpy.float32)
    torch_dtype = {"quint8": torch.quint8, "qint8": torch.qint8}[dtype]
    scale, zero_point = float(numpy.float32(rng.uniform(0.005, 0.1))), int(rng.integers(0, 100))
    ours = F.quantize_per_tensor(minicnn.tensor(x), scale, zero_point, dtype)
    theirs = torch.quantize_per_tensor(torch.tensor(x), scale, zero_point, torch_dtype)
    numpy.testing.assert_array_equal(ours.codes, theirs.int_repr().numpy())
    numpy.testing.assert_array_equal(F.dequantize(ours).numpy(), theirs.dequantize().numpy())

    scales = rng.uniform(0.005, 0.1, 4).astype(numpy.float32)
    zero_points = rng.integers(0, 20, 4)
    ours = F.quantize_per_channel(minicnn.tensor(x), scales, zero_points, 1, dtype)
    theirs = torch.quantize_per_channel(torch.tensor(x), torch.tensor(scales, dtype=torch.float64),
                                        torch.tensor(zero_points), 1, torch_dtype)
    numpy.testing.assert_array_equal(ours.codes, theirs.int_repr().numpy())
    numpy.testing.assert_array_equal(F.dequantize(ours).numpy(), theirs.dequantize().numpy())


@st.composite
def conv_cases(draw):
    rng = numpy.random.default_rng(draw(st.integers(0, 2 ** 16)))
    channels, out_channels = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kernel, stride = draw(st.sampled_from([1, 3, 5])), draw(st.integers(1, 2))
    padding, dilation = draw(st.integers(0, 2)), draw(st.integers(1, 2))
    size = draw(st.integers(dilation * (kernel - 1) + 1, 12))
    x = F.quantize_per_tensor(minicnn.tensor(rng.uniform(-1, 3, (2, channels, size, size)).astype(numpy.float32)),
                              4 / 255, int(rng.integers(0, 100)))
    w = rng.standard_normal((out_channels, channels, kernel, kernel)).astype(numpy.float32)
    if draw(st.booleans()):
        scales = numpy.abs(w).reshape(out_channels, -1).max(axis=1) / 127.5
        weight = F.quantize_per_channel(minicnn.tensor(w), scales, numpy.zeros(out_channels, int), 0)
    else:
        weight = F.quantize_per_tensor(minicnn.tensor(w), float(numpy.abs(w).max() / 127.5), 0, "qint8")
    bias = rng.standard_normal(out_channels).astype(numpy.float32)
    options = dict(stride=stride, padding=padding, dilation=dilation, scale=0.05,
                   zero_point=int(rng.integers(0, 256)), relu=draw(st.booleans()))
    return x, weight, bias, options


@given(case=conv_cases())
def test_quantized_conv2d_is_within_one_code_of_torch(tq, case):
    torch = tq
    x, weight, bias, options = case
    relu = options.pop("relu")
    ours = F.quantized_conv2d(x, weight, bias, relu=relu, **options)
    op = torch.ops.quantized.conv2d_relu if relu else torch.ops.quantized.conv2d
    packed = torch.ops.quantized.conv2d_prepack(
        _torch_qtensor(torch, weight), torch.tensor(bias), [options["stride"]] * 2,
        [options["padding"]] * 2, [options["dilation"]] * 2, 1)
    theirs = op(_torch_qtensor(torch, x), packed, options["scale"], options["zero_point"])
    difference = ours.codes.astype(int) - theirs.int_repr().numpy().astype(int)
    assert numpy.abs(difference).max() <= 1
    assert (float(ours.scale), ours.zero_point) == (numpy.float32(options["scale"]), options["zero_point"])


@given(case=conv_cases())
def test_quantized_conv2d_equals_the_float64_sum_requantized(case):
    """The whole op equals its integer arithmetic written out: float64 sums (exact), the int32
    bias, and the reference's fixed-point requantization."""
    from minicnn.cpu_kernels.reference.int8 import requantize
    x, weight, bias, options = case
    centered_x = x.codes.astype(numpy.float64) - x.zero_point
    w_scale = numpy.broadcast_to(weight.scale, (len(bias),)).astype(numpy.float64)
    sums = F.conv2d(minicnn.tensor(centered_x), minicnn.tensor(weight.codes.astype(numpy.float64)),
                    stride=options["stride"], padding=options["padding"],
                    dilation=options["dilation"]).numpy()
    product_scale = float(x.scale) * w_scale
    acc = sums.astype(numpy.int64) + numpy.rint(bias / product_scale).astype(numpy.int64).reshape(1, -1, 1, 1)
    multiplier, shift = F.quantize_multiplier(product_scale / numpy.float32(options["scale"]))
    low = options["zero_point"] if options["relu"] else 0
    expected = requantize(acc, multiplier.reshape(1, -1, 1, 1), shift.reshape(1, -1, 1, 1),
                          options["zero_point"], low, 255)
    numpy.testing.assert_array_equal(F.quantized_conv2d(x, weight, bias, **options).codes, expected)


def test_quantized_linear_and_add_are_within_one_code_of_torch(tq):
    torch = tq
    rng = numpy.random.default_rng(0)
    x = F.quantize_per_tensor(minicnn.tensor(rng.uniform(0, 2, (16, 40)).astype(numpy.float32)), 2 / 255, 3)
    w = rng.standard_normal((7, 40)).astype(numpy.float32) * 0.2
    weight = F.quantize_per_channel(minicnn.tensor(w), numpy.abs(w).max(axis=1) / 127.5,
                                    numpy.zeros(7, int), 0)
    bias = rng.standard_normal(7).astype(numpy.float32)
    ours = F.quantized_linear(x, weight, bias, scale=0.03, zero_point=128)
    packed = torch.ops.quantized.linear_prepack(_torch_qtensor(torch, weight), torch.tensor(bias))
    theirs = torch.ops.quantized.linear(_torch_qtensor(torch, x), packed, 0.03, 128)
    assert numpy.abs(ours.codes.astype(int) - theirs.int_repr().numpy()).max() <= 1

    a = F.quantize_per_tensor(minicnn.tensor(rng.uniform(-1, 1, (4, 50)).astype(numpy.float32)), 0.01, 100)
    b = F.quantize_per_tensor(minicnn.tensor(rng.uniform(-3, 3, (4, 50)).astype(numpy.float32)), 0.025, 120)
    for relu, op in ((False, torch.ops.quantized.add), (True, torch.ops.quantized.add_relu)):
        ours = F.quantized_add(a, b, 0.03, 110, relu=relu)
        theirs = op(_torch_qtensor(torch, a), _torch_qtensor(torch, b), 0.03, 110)
        assert numpy.abs(ours.codes.astype(int) - theirs.int_repr().numpy()).max() <= 1


def test_relu_and_pooling_on_codes_equal_torch(tq):
    torch = tq
    x = F.quantize_per_tensor(minicnn.tensor(numpy.random.default_rng(0).standard_normal((2, 3, 9, 7)).astype(numpy.float32)),
                              0.02, 130)
    tx = _torch_qtensor(torch, x)
    numpy.testing.assert_array_equal(F.quantized_relu(x).codes, torch.relu(tx).int_repr().numpy())
    pooled = F.quantized_max_pool2d(x, 3, stride=2, padding=1)
    numpy.testing.assert_array_equal(pooled.codes, torch.nn.functional.max_pool2d(tx, 3, 2, 1).int_repr().numpy())
    for size in (1, 2, (3, 2)):
        averaged = F.quantized_adaptive_avg_pool2d(x, size)
        theirs = torch.nn.functional.adaptive_avg_pool2d(tx, size).int_repr().numpy()
        assert numpy.abs(averaged.codes.astype(int) - theirs).max() <= 1
        # Exactly: the mean of the centered codes, rounded half away from zero.
        mean = torch.nn.functional.adaptive_avg_pool2d(
            torch.tensor(x.codes.astype(numpy.float64) - x.zero_point), size).numpy()
        expected = x.zero_point + numpy.sign(mean) * numpy.floor(numpy.abs(mean) + 0.5)
        numpy.testing.assert_array_equal(averaged.codes, expected)
        assert (averaged.scale, averaged.zero_point) == (x.scale, x.zero_point)


@pytest.mark.parametrize("scale", [0.0, -0.1, float("nan"), float("inf"), 1e-50])
def test_bad_scales_are_refused(scale):
    with pytest.raises(ValueError, match="quantize_per_tensor: scale must be positive and finite"):
        F.quantize_per_tensor(minicnn.tensor([1.0]), scale, 0)
    with pytest.raises(ValueError, match=r"quantize_per_channel: scales .*\(channel 1\)"):
        F.quantize_per_channel(minicnn.tensor(numpy.ones((2, 3), numpy.float32)), [0.1, scale], [0, 0], 0)


def test_bad_arguments_name_the_op_and_the_argument():
    x = F.quantize_per_tensor(minicnn.tensor(numpy.ones((1, 3, 5, 5), numpy.float32)), 0.1, 0)
    weight = F.quantize_per_tensor(minicnn.tensor(numpy.ones((4, 2, 3, 3), numpy.float32)), 0.1, 0, "qint8")
    with pytest.raises(ValueError, match=r"quantized_conv2d: input has 3 channels but weight expects 2"):
        F.quantized_conv2d(x, weight)
    with pytest.raises(TypeError, match="quantized_conv2d: weight must be qint8, got quint8"):
        F.quantized_conv2d(x, x)
    with pytest.raises(TypeError, match="quantized_linear: input must be a QTensor"):
        F.quantized_linear(minicnn.tensor(numpy.ones((1, 3), numpy.float32)), weight)
    with pytest.raises(ValueError, match=r"quantize_per_tensor: zero_point must lie in \[0, 255\]"):
        F.quantize_per_tensor(minicnn.tensor([1.0]), 0.1, 300)
    with pytest.raises(ValueError, match="quantized_add: a and b must have the same shape"):
        F.quantized_add(x, x.reshape(1, 3, 25), 0.1, 0)
    with pytest.raises(TypeError, match="dequantize: expected a QTensor, got Tensor"):
        F.dequantize(minicnn.tensor([1.0]))


def test_a_qtensor_in_a_float_op_fails_with_the_reason():
    q = F.quantize_per_tensor(minicnn.tensor([1.0, 2.0]), 0.1, 0)
    with pytest.raises(TypeError, match="a QTensor .* reached an op that expects a float Tensor"):
        F.relu(q)
    assert isinstance(q.reshape(2, 1), QTensor) and q.int_repr().dtype == numpy.uint8
