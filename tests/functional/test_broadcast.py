"""broadcast_to, expand and sum_to, the adjoint pair behind every broadcasting backward."""
import numpy
import pytest
from hypothesis import given, strategies
from hypothesis.extra.numpy import array_shapes, broadcastable_shapes

import minicnn
import minicnn.functional as F
from tests.functional.test_arithmetic import assert_parity
from tests.helpers import covers, leaf


@strategies.composite
def shape_and_target(draw):
    """A target shape and a shape that broadcasts to it."""
    target = draw(array_shapes(min_dims=0, max_dims=3, max_side=3))
    small = draw(broadcastable_shapes(target, max_dims=len(target)).filter(
        lambda shape: numpy.broadcast_shapes(shape, target) == target))
    return small, target


@covers("broadcast_to", "expand", "sum_to")
@given(shapes=shape_and_target())
def test_gradcheck_and_gradgradcheck(shapes, device):
    small, large = shapes
    x, y = leaf(small, device), leaf(large, device)
    for fn, argument in ((lambda t: F.broadcast_to(t, large), x), (lambda t: F.expand(t, large), x),
                         (lambda t: F.sum_to(t, small), y)):
        assert minicnn.gradcheck(fn, argument)
        assert minicnn.gradgradcheck(fn, argument)


@given(shapes=shape_and_target())
def test_match_torch(shapes, device, torch):
    small, large = shapes
    x, y = numpy.random.standard_normal(small), numpy.random.standard_normal(large)
    assert_parity(torch, lambda t: F.broadcast_to(t, large), lambda t: torch.broadcast_to(t, large),
                  (x,), device)
    assert_parity(torch, lambda t: F.sum_to(t, small), lambda t: t.sum_to_size(small) if small
                  else t.sum(), (y,), device)


def test_expand_keeps_sizes_given_as_minus_one(device, torch):
    x = numpy.random.standard_normal((3, 1))
    assert_parity(torch, lambda t: t.expand(2, -1, 4), lambda t: t.expand(2, -1, 4), (x,), device)
    assert F.expand(leaf(x, device), (2, -1, 4)).shape == (2, 3, 4)


def test_broadcast_result_is_writable():
    # It may become a leaf's .grad, which an optimizer can scale in place.
    y = F.broadcast_to(minicnn.ones(3), (2, 3))
    y.data *= 2
    numpy.testing.assert_array_equal(y.numpy(), numpy.full((2, 3), 2.0))


def test_incompatible_shapes_are_named():
    with pytest.raises(ValueError, match=r"broadcast_to: shapes cannot be broadcast together: "
                                         r"'input' \(2, 3\) and 'shape' \(4, 4\)"):
        F.broadcast_to(minicnn.ones(2, 3), (4, 4))
    with pytest.raises(ValueError, match=r"broadcast_to: input \(2, 3\) cannot be broadcast to \(3,\)"):
        F.broadcast_to(minicnn.ones(2, 3), (3,))
    with pytest.raises(ValueError, match=r"expand: 1 sizes \(3,\) given for input \(2, 3\)"):
        F.expand(minicnn.ones(2, 3), 3)
