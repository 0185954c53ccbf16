"""add, sub, mul, div, neg, pow: gradients, broadcasting, PyTorch parity, errors."""
import numpy
import pytest
from hypothesis import given
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minicnn
import minicnn.functional as F
from tests.helpers import assert_close, covers, leaf

BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "pow": lambda a, b: a ** b}

pairs = mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)


def assert_parity(torch, ours, theirs, arrays, device, rtol=1e-7, atol=1e-9):
    """Same outputs and same input gradients as PyTorch, in float64.

    `ours`/`theirs` map tensors to a tensor or a tuple of tensors; the gradients compared
    are those of sum_k <w_k, y_k> for random weights w_k, so every output element counts.
    """
    xs = [leaf(numpy.asarray(a, dtype=numpy.float64), device) for a in arrays]
    ts = [torch.tensor(numpy.asarray(a, dtype=numpy.float64), requires_grad=True) for a in arrays]
    ys, tys = _as_tuple(ours(*xs)), _as_tuple(theirs(*ts))
    assert len(ys) == len(tys)
    weights = [numpy.random.standard_normal(y.shape) for y in ys]
    for y, ty in zip(ys, tys):
        assert_close(y, ty, rtol, atol)
    loss = sum((y * minicnn.tensor(w, device=device)).sum() for y, w in zip(ys, weights))
    loss.backward()
    sum((ty * torch.tensor(w)).sum() for ty, w in zip(tys, weights)).backward()
    for x, t in zip(xs, ts):
        assert_close(x.grad, t.grad, rtol, atol)


def _as_tuple(y):
    return tuple(y) if isinstance(y, (tuple, list)) else (y,)


def _operands(shapes, device, name):
    a, b = (numpy.random.standard_normal(s) for s in shapes)
    if name == "pow":        # a positive base, so that the exponent's gradient log(a) exists
        a = numpy.abs(a) + 0.5
    if name == "div":        # keep the divisor away from 0
        b = numpy.sign(b) * (numpy.abs(b) + 0.5) + (b == 0)
    return leaf(a, device), leaf(b, device)


@covers("add", "sub", "mul", "div", "pow")
@pytest.mark.parametrize("name", BINARY)
@given(shapes=pairs)
def test_binary_gradcheck(name, shapes, device):
    a, b = _operands(shapes.input_shapes, device, name)
    assert minicnn.gradcheck(getattr(F, name), (a, b))


@pytest.mark.parametrize("name", BINARY)
@given(shapes=pairs)
def test_binary_gradgradcheck(name, shapes, device):
    a, b = _operands(shapes.input_shapes, device, name)
    assert minicnn.gradgradcheck(getattr(F, name), (a, b))


@covers("neg")
@given(shapes=pairs)
def test_neg_gradcheck_and_gradgradcheck(shapes, device):
    x = leaf(shapes.input_shapes[0], device)
    assert minicnn.gradcheck(F.neg, x)
    assert minicnn.gradgradcheck(F.neg, x)


@pytest.mark.parametrize("name", BINARY)
@given(shapes=pairs)
def test_binary_matches_torch(name, shapes, device, torch):
    a, b = _operands(shapes.input_shapes, "cpu", name)
    assert_parity(torch, getattr(F, name), BINARY[name], (a.numpy(), b.numpy()), device)


def test_neg_matches_torch(device, torch):
    assert_parity(torch, F.neg, lambda t: -t, (numpy.random.standard_normal((2, 3)),), device)


def test_square_at_zero_has_gradient_zero_not_nan(device):
    x = leaf([0.0, -2.0, 3.0], device)
    (x ** 2).sum().backward()
    numpy.testing.assert_array_equal(x.grad.numpy(), [0.0, -4.0, 6.0])


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow"])
def test_broadcast_mismatch_names_op_arguments_and_shapes(name):
    a, b = minicnn.ones(2, 3), minicnn.ones(4)
    with pytest.raises(ValueError, match=rf"^{name}: shapes cannot be broadcast together: "
                                         r"'input' \(2, 3\) and 'other' \(4,\)$"):
        getattr(F, name)(a, b)


@pytest.mark.parametrize("name", BINARY)
def test_promoted_operands_get_gradients_in_their_own_dtype(name):
    a = minicnn.tensor(numpy.full((2, 3), 1.5, dtype=numpy.float32), requires_grad=True)
    b = minicnn.tensor(numpy.full((3,), 2.0), requires_grad=True)
    y = getattr(F, name)(a, b)
    assert y.dtype == numpy.float64            # float32 op float64 promotes, as in PyTorch
    y.sum().backward()
    assert a.grad.dtype == numpy.float32 and b.grad.dtype == numpy.float64
    assert a.grad.shape == (2, 3) and b.grad.shape == (3,)
