"""Elementwise math and comparisons: gradients, PyTorch parity, ties, NaN, errors."""
import numpy
import pytest
from hypothesis import given
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import minicnn
import minicnn.functional as F
from tests.functional.test_arithmetic import assert_parity
from tests.helpers import covers, leaf

shapes = array_shapes(min_dims=0, max_dims=3, max_side=3)
pairs = mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)


def _away_from_zero(shape):
    x = numpy.random.standard_normal(shape)
    return numpy.sign(x) * (numpy.abs(x) + 0.3) + (x == 0)


# Each unary op with inputs in its domain (and away from kinks) and PyTorch's name for it.
UNARY = {
    "exp": (lambda s: numpy.random.standard_normal(s), "exp"),
    "log": (lambda s: numpy.abs(numpy.random.standard_normal(s)) + 0.5, "log"),
    "log1p": (lambda s: numpy.abs(numpy.random.standard_normal(s)) - 0.5, "log1p"),
    "sqrt": (lambda s: numpy.abs(numpy.random.standard_normal(s)) + 0.5, "sqrt"),
    "abs": (_away_from_zero, "abs"),
    "sin": (lambda s: numpy.random.standard_normal(s), "sin"),
    "cos": (lambda s: numpy.random.standard_normal(s), "cos"),
}


@covers(*UNARY)
@pytest.mark.parametrize("name", UNARY)
@given(shape=shapes)
def test_unary_gradcheck_and_gradgradcheck(name, shape, device):
    x = leaf(UNARY[name][0](shape), device)
    assert minicnn.gradcheck(getattr(F, name), x)
    assert minicnn.gradgradcheck(getattr(F, name), x)


@pytest.mark.parametrize("name", UNARY)
def test_unary_matches_torch(name, device, torch):
    x = UNARY[name][0]((3, 4))
    assert_parity(torch, getattr(F, name), getattr(torch, UNARY[name][1]), (x,), device)


def _clip_input(shape):
    # Values stay 0.1 away from the bounds -0.5 and 0.5, where the derivative jumps.
    x = numpy.random.uniform(-1.5, 1.5, shape)
    return numpy.where(numpy.abs(numpy.abs(x) - 0.5) < 0.1, 0.0, x)


@covers("clip", "clamp")
@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (-0.5, None), (None, 0.5)])
@given(shape=shapes)
def test_clip_gradcheck(bounds, shape, device):
    x = leaf(_clip_input(shape), device)
    assert minicnn.gradcheck(lambda t: F.clip(t, *bounds), x)
    assert minicnn.gradgradcheck(lambda t: F.clamp(t, *bounds), x)


@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (-0.5, None), (None, 0.5)])
def test_clamp_matches_torch_including_the_bounds(bounds, device, torch):
    x = numpy.array([-1.0, -0.5, 0.0, 0.5, 1.0])       # PyTorch passes the gradient at a bound
    assert_parity(torch, lambda t: F.clamp(t, *bounds), lambda t: torch.clamp(t, *bounds),
                  (x,), device)


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="clip: at least one of 'min' and 'max' must be given"):
        F.clip(minicnn.ones(2))


@covers("maximum", "minimum")
@pytest.mark.parametrize("name", ["maximum", "minimum"])
@given(shapes=pairs)
def test_maximum_minimum_gradcheck_and_gradgradcheck(name, shapes, device):
    a, b = (leaf(s, device) for s in shapes.input_shapes)   # ties have probability 0
    assert minicnn.gradcheck(getattr(F, name), (a, b))
    assert minicnn.gradgradcheck(getattr(F, name), (a, b))


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_match_torch_with_ties_and_broadcasting(name, device, torch):
    a = numpy.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = numpy.array([2.0, 2.0, 2.0])                         # ties split the gradient in half
    assert_parity(torch, getattr(F, name), getattr(torch, name), (a, b), device)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_propagate_nan(name):
    a, b = minicnn.tensor([numpy.nan, 1.0]), minicnn.tensor([1.0, numpy.nan])
    assert numpy.isnan(getattr(F, name)(a, b).numpy()).all()


def test_maximum_broadcast_mismatch_is_named():
    with pytest.raises(ValueError, match=r"maximum: shapes cannot be broadcast together: "
                                         r"'input' \(2,\) and 'other' \(3,\)"):
        F.maximum(minicnn.ones(2), minicnn.ones(3))


@covers("where")
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
def test_where_gradcheck_and_gradgradcheck(shapes, device):
    condition_shape, x_shape, other_shape = shapes.input_shapes
    condition = minicnn.tensor(numpy.random.standard_normal(condition_shape) > 0, device=device)
    x, other = leaf(x_shape, device), leaf(other_shape, device)
    assert minicnn.gradcheck(lambda a, b: F.where(condition, a, b), (x, other))
    assert minicnn.gradgradcheck(lambda a, b: F.where(condition, a, b), (x, other))


def test_where_matches_torch(device, torch):
    condition = numpy.array([[True, False, True]])
    x, other = numpy.random.standard_normal((2, 3)), numpy.random.standard_normal((2, 1))
    assert_parity(torch, lambda a, b: F.where(minicnn.tensor(condition, device=device), a, b),
                  lambda a, b: torch.where(torch.tensor(condition), a, b), (x, other), device)


def test_where_needs_a_bool_condition():
    with pytest.raises(TypeError, match="where: 'condition' must be a bool tensor, got dtype float32"):
        F.where(minicnn.ones(2), minicnn.ones(2), minicnn.zeros(2))


COMPARISONS = {"eq": numpy.equal, "ne": numpy.not_equal, "lt": numpy.less,
               "le": numpy.less_equal, "gt": numpy.greater, "ge": numpy.greater_equal}


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparisons_give_bool_tensors_without_gradient(name, device):
    a = leaf([[1.0, 2.0, 3.0]], device)
    b = leaf([[2.0], [3.0]], device)
    y = getattr(F, name)(a, b)
    assert y.dtype == numpy.bool_ and not y.requires_grad and y.creator is None
    numpy.testing.assert_array_equal(y.numpy(), COMPARISONS[name](a.numpy(), b.numpy()))


def test_comparison_broadcast_mismatch_is_named():
    with pytest.raises(ValueError, match=r"^lt: shapes cannot be broadcast together"):
        F.lt(minicnn.ones(2), minicnn.ones(3))


def test_comparisons_are_not_differentiable():
    assert set(COMPARISONS) <= F.NON_DIFFERENTIABLE
