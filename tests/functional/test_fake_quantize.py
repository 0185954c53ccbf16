"""Fake quantization (functional/fake_quantize.py): PyTorch's values and straight-through
gradients, and gradcheck over one grid step."""
import numpy
import pytest
from hypothesis import given, strategies as st

import minicnn
import minicnn.functional as F
from tests.helpers import covers, leaf


@given(seed=st.integers(0, 2 ** 16), narrow=st.booleans())
def test_per_tensor_values_and_gradients_equal_torch(torch, seed, narrow):
    rng = numpy.random.default_rng(seed)
    x = (rng.standard_normal((4, 5)) * 2).astype(numpy.float32)
    quant_min, quant_max = (0, 15) if narrow else (0, 255)
    scale, zero_point = float(numpy.float32(rng.uniform(0.01, 0.3))), int(rng.integers(0, 16))
    ours = leaf(x, dtype=numpy.float32)
    y = F.fake_quantize_per_tensor_affine(ours, scale, zero_point, quant_min, quant_max)
    theirs = torch.tensor(x, requires_grad=True)
    expected = torch.fake_quantize_per_tensor_affine(theirs, scale, zero_point, quant_min, quant_max)
    numpy.testing.assert_array_equal(y.numpy(), expected.detach().numpy())
    weights = rng.standard_normal(x.shape).astype(numpy.float32)
    (y * minicnn.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    numpy.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@given(seed=st.integers(0, 2 ** 16), axis=st.integers(0, 2))
def test_per_channel_values_and_gradients_equal_torch(torch, seed, axis):
    rng = numpy.random.default_rng(seed)
    x = (rng.standard_normal((3, 4, 2)) * 2).astype(numpy.float32)
    channels = x.shape[axis]
    scales = rng.uniform(0.01, 0.2, channels).astype(numpy.float32)
    zero_points = rng.integers(-3, 4, channels)
    ours = leaf(x, dtype=numpy.float32)
    y = F.fake_quantize_per_channel_affine(ours, scales, zero_points, axis, -8, 7)
    theirs = torch.tensor(x, requires_grad=True)
    expected = torch.fake_quantize_per_channel_affine(theirs, torch.tensor(scales),
                                                      torch.tensor(zero_points, dtype=torch.int32),
                                                      axis, -8, 7)
    numpy.testing.assert_array_equal(y.numpy(), expected.detach().numpy())
    y.sum().backward()
    expected.sum().backward()
    numpy.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def _away_from_steps(rng, shape, scale, low, high, margin):
    """x / scale within a quarter of an integer (far from every rounding threshold), and
    `margin` steps or more inside [low, high] (x / scale, before the zero point), or outside
    it by more than that: then x +- margin steps is never clamped, or always."""
    inside = rng.integers(low + margin, high - margin + 1, shape)
    outside = rng.choice([low - margin - 2, high + margin + 2], shape)
    steps = numpy.where(rng.random(shape) < 0.8, inside, outside)
    return (steps + rng.uniform(-0.25, 0.25, shape)) * scale


@covers("fake_quantize_per_tensor_affine")
@given(seed=st.integers(0, 2 ** 16))
def test_gradcheck_per_tensor_over_one_step(seed):
    """With eps = scale the central difference (f(x + s) - f(x - s)) / 2s is exactly 1 inside
    the range and 0 outside it: the straight-through estimator is that derivative."""
    rng = numpy.random.default_rng(seed)
    scale, zero_point = 0.125, int(rng.integers(0, 20))
    x = leaf(_away_from_steps(rng, (3, 4), scale, -zero_point, 40 - zero_point, 1))
    assert minicnn.gradcheck(lambda t: F.fake_quantize_per_tensor_affine(t, scale, zero_point, 0, 40),
                             x, eps=scale)
    assert minicnn.gradgradcheck(lambda t: F.fake_quantize_per_tensor_affine(t, scale, zero_point, 0, 40),
                                 x, eps=scale)


@covers("fake_quantize_per_channel_affine")
@given(seed=st.integers(0, 2 ** 16))
def test_gradcheck_per_channel_over_one_step(seed):
    """Channel scales 1/8, 1/16, 1/32: eps = 1/8 is a whole number of steps of each."""
    rng = numpy.random.default_rng(seed)
    scales = numpy.array([0.125, 0.0625, 0.03125])
    columns = [_away_from_steps(rng, (4,), s, -32, 28, int(0.125 / s)) for s in scales]
    x = leaf(numpy.stack(columns, axis=1))
    zero_points = numpy.zeros(3, int)
    fake = lambda t: F.fake_quantize_per_channel_affine(t, scales, zero_points, 1, -32, 28)
    assert minicnn.gradcheck(fake, x, eps=0.125)


def test_bad_arguments_name_the_op():
    x = minicnn.tensor(numpy.ones((2, 3), numpy.float32))
    with pytest.raises(ValueError, match="fake_quantize_per_tensor_affine: scale must be positive"):
        F.fake_quantize_per_tensor_affine(x, 0.0, 0, 0, 255)
    with pytest.raises(ValueError, match="fake_quantize_per_tensor_affine: need integers quant_min < quant_max"):
        F.fake_quantize_per_tensor_affine(x, 0.1, 0, 5, 5)
    with pytest.raises(ValueError, match=r"fake_quantize_per_channel_affine: expected 3 scale \(one per channel\)"):
        F.fake_quantize_per_channel_affine(x, [0.1, 0.1], [0, 0], 1, 0, 255)
    with pytest.raises(ValueError, match="fake_quantize_per_channel_affine: axis must be a dimension"):
        F.fake_quantize_per_channel_affine(x, [0.1, 0.1], [0, 0], 2, 0, 255)
