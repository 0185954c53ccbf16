"""Reductions: gradients over drawn shapes and dims, PyTorch parity, ties, stability, errors."""
import numpy
import pytest
from hypothesis import given, strategies
from hypothesis.extra.numpy import array_shapes

import minicnn
import minicnn.functional as F
from tests.functional.test_arithmetic import assert_parity
from tests.helpers import covers, leaf


@strategies.composite
def shape_and_dim(draw, min_side=1):
    """A shape and a dim argument for it: None, an int (maybe negative) or a tuple of ints."""
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=3))
    ndim = len(shape)
    one = strategies.integers(-ndim, ndim - 1)
    dim = draw(strategies.none() | one | strategies.lists(one, min_size=1, max_size=ndim).filter(
        lambda dims: len({d % ndim for d in dims}) == len(dims)).map(tuple))
    return shape, dim, draw(strategies.booleans())


def _distinct(shape):
    """Values without ties, so that max/min are differentiable."""
    return numpy.random.permutation(int(numpy.prod(shape))).reshape(shape) / 3.0


REDUCTIONS = ["sum", "mean", "var", "std", "max", "min", "logsumexp"]


@covers(*REDUCTIONS)
@pytest.mark.parametrize("name", REDUCTIONS)
@given(case=shape_and_dim(min_side=2))
def test_gradcheck(name, case, device):
    shape, dim, keepdim = case
    x = leaf(_distinct(shape), device)
    assert minicnn.gradcheck(lambda t: getattr(F, name)(t, dim, keepdim=keepdim), x)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "logsumexp"])
@given(case=shape_and_dim(min_side=2))
def test_gradgradcheck(name, case, device):
    shape, dim, keepdim = case
    x = leaf(_distinct(shape), device)
    assert minicnn.gradgradcheck(lambda t: getattr(F, name)(t, dim, keepdim=keepdim), x)


TORCH_NAMES = {"sum": "sum", "mean": "mean", "var": "var", "std": "std", "max": "amax",
               "min": "amin", "logsumexp": "logsumexp"}


@pytest.mark.parametrize("name", REDUCTIONS)
@given(case=shape_and_dim(min_side=2))
def test_matches_torch(name, case, device, torch):
    shape, dim, keepdim = case
    torch_dim = tuple(range(len(shape))) if dim is None else dim
    assert_parity(torch, lambda t: getattr(F, name)(t, dim, keepdim=keepdim),
                  lambda t: getattr(torch, TORCH_NAMES[name])(t, torch_dim, keepdim=keepdim),
                  (_distinct(shape),), device)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("options", [{}, {"correction": 0}, {"correction": 2},
                                     {"unbiased": False}, {"unbiased": True}])
def test_var_std_corrections_match_torch(name, options, device, torch):
    x = numpy.random.standard_normal((4, 5))
    assert_parity(torch, lambda t: getattr(F, name)(t, 1, **options),
                  lambda t: getattr(torch, name)(t, 1, **options), (x,), device)


def test_var_default_correction_is_one():
    x = minicnn.tensor([1.0, 2.0, 3.0, 4.0])
    assert F.var(x).item() == pytest.approx(numpy.var([1, 2, 3, 4], ddof=1))


@pytest.mark.parametrize("name,torch_name", [("max", "amax"), ("min", "amin")])
def test_ties_share_the_gradient_evenly(name, torch_name, device, torch):
    x = numpy.array([[3.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, -1.0]])
    sign = 1 if name == "max" else -1
    x_leaf = leaf(sign * x, device)
    getattr(F, name)(x_leaf, 1).sum().backward()
    tied = numpy.array([[1 / 3, 0, 1 / 3, 1 / 3], [0, 0, 1, 0]])
    numpy.testing.assert_allclose(x_leaf.grad.numpy(), tied)
    assert_parity(torch, lambda t: getattr(F, name)(t, 1),
                  lambda t: getattr(torch, torch_name)(t, 1), (sign * x,), device)


def test_logsumexp_does_not_overflow():
    x = minicnn.tensor(numpy.array([[1000.0, 1000.0], [-1000.0, -1000.0]]), requires_grad=True)
    y = F.logsumexp(x, dim=1)
    numpy.testing.assert_allclose(y.numpy(), [1000 + numpy.log(2), -1000 + numpy.log(2)])
    y.sum().backward()
    numpy.testing.assert_allclose(x.grad.numpy(), numpy.full((2, 2), 0.5))


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_logsumexp_of_all_minus_infinity_is_minus_infinity():
    y = F.logsumexp(minicnn.tensor([-numpy.inf, -numpy.inf]))
    assert y.item() == -numpy.inf


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_argmax_argmin_match_torch(name, dim, keepdim, torch):
    x = _distinct((3, 4))
    ours = getattr(F, name)(leaf(x), dim, keepdim)
    theirs = getattr(torch, name)(torch.tensor(x), dim, keepdim)
    assert ours.dtype == numpy.int64 and not ours.requires_grad
    numpy.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_argmax_argmin_are_not_differentiable():
    assert {"argmax", "argmin"} <= F.NON_DIFFERENTIABLE


@pytest.mark.parametrize("name", REDUCTIONS + ["argmax", "argmin"])
def test_numpy_axis_keepdims_equal_torch_dim_keepdim(name):
    x = leaf(_distinct((2, 3, 4)))
    fn = getattr(F, name)
    numpy.testing.assert_array_equal(fn(x, axis=1, keepdims=True).numpy(),
                                     fn(x, dim=1, keepdim=True).numpy())


def test_reducing_a_0d_tensor_over_dim_0_is_allowed():
    assert F.sum(minicnn.tensor(2.0), 0).item() == 2.0


def test_dim_out_of_range_is_explained():
    with pytest.raises(IndexError, match=r"sum: dim 2 is out of range for input of shape \(2, 3\) "
                                         r"\(expected -2 <= dim < 2\)"):
        F.sum(minicnn.ones(2, 3), 2)


def test_repeated_dim_is_refused():
    with pytest.raises(ValueError, match=r"mean: dim \(1, -1\) names the same dimension more than once"):
        F.mean(minicnn.ones(2, 3), (1, -1))


def test_dim_and_axis_together_are_refused():
    with pytest.raises(TypeError, match="max: pass 'dim' or 'axis', not both"):
        F.max(minicnn.ones(2, 3), dim=0, axis=1)


def test_unbiased_and_correction_together_are_refused():
    with pytest.raises(TypeError, match="var: pass 'unbiased' or 'correction', not both"):
        F.var(minicnn.ones(2, 3), unbiased=True, correction=1)


def test_float_dim_is_refused():
    with pytest.raises(TypeError, match="argmax: 'dim' must be an integer, got 1.0"):
        F.argmax(minicnn.ones(2, 3), 1.0)
