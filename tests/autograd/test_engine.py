"""The backward engine: accumulation, graph freeing, grad(), higher-order gradients, memory."""
import gc

import numpy
import pytest

import minicnn
from minicnn import Function
from minicnn.functional import exp, sin
from minicnn.functional.elementwise import Exp
from tests.helpers import leaf


def test_a_tensor_used_twice_gets_the_sum_of_both_paths(device):
    x = leaf([1.0, -2.0, 3.0], device)
    (x * x + x).backward(minicnn.ones_like(x))
    numpy.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 1)


def test_diamond_graph():
    x = leaf(2.0)
    a, b = x * 3, exp(x)
    (a * b).backward()
    numpy.testing.assert_allclose(x.grad.numpy(), 3 * numpy.exp(2.0) * (1 + 2.0))


def test_backward_twice_with_retain_graph_accumulates():
    x = leaf(3.0)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 12.0


def test_second_backward_through_a_freed_graph_raises():
    x = leaf(3.0)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time .*retain_graph=True"):
        y.backward()


def test_graph_is_freed_after_backward():
    x = leaf(3.0)
    y = exp(x) * x
    creator = y.creator
    y.backward()
    assert not hasattr(creator, "inputs")       # saved tensors released


def test_chain_of_100000_ops_has_no_recursion_limit():
    x = leaf(0.5)
    y = x
    for _ in range(100_000):
        y = -y
    y.backward()
    assert x.grad.item() == 1.0


def test_non_scalar_backward_needs_a_gradient():
    y = leaf((2, 3)) * 2
    with pytest.raises(RuntimeError, match=r"only for scalar outputs, but the output has shape \(2, 3\)"):
        y.backward()


def test_backward_gradient_of_the_wrong_shape_raises():
    y = leaf((2, 3)) * 2
    with pytest.raises(RuntimeError, match=r"grad has shape \(3,\) but the output has shape \(2, 3\)"):
        y.backward(minicnn.tensor(numpy.ones(3)))


def test_backward_of_a_constant_explains_why():
    with pytest.raises(RuntimeError, match="does not require grad.*no_grad"):
        (minicnn.ones(2) * 2).backward(minicnn.ones(2))


def test_grad_returns_gradients_and_leaves_grad_untouched():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = x * w
    gx, gw = minicnn.grad(y, (x, w), minicnn.ones_like(y))
    assert isinstance(gx, minicnn.Tensor) and x.grad is None and w.grad is None
    numpy.testing.assert_allclose(gx.numpy(), w.numpy())
    numpy.testing.assert_allclose(gw.numpy(), x.numpy())
    assert not gx.requires_grad


def test_grad_of_an_unused_input():
    x, unused = leaf(1.0), leaf(2.0)
    with pytest.raises(RuntimeError, match="input 1 .* was not used .*allow_unused=True"):
        minicnn.grad(x * 2, [x, unused], retain_graph=True)
    gx, gu = minicnn.grad(x * 2, [x, unused], allow_unused=True)
    assert gx.item() == 2.0 and gu is None


def test_grad_input_must_require_grad():
    x = leaf(1.0)
    with pytest.raises(RuntimeError, match="grad: input 1 .*does not require grad"):
        minicnn.grad(x * 2, [x, minicnn.tensor(1.0)])


def test_grad_with_respect_to_an_intermediate():
    x = leaf(2.0)
    h = x * 3
    (gh,) = minicnn.grad(h * h, [h])
    assert gh.item() == 12.0


def _f(x, y):
    """A function of two scalars with a full (non-diagonal) Hessian."""
    return x * x * y + sin(x * y)


def test_hessian_vector_product_matches_torch(torch):
    values, direction = (0.7, -1.3), (0.4, 2.0)
    x, y = leaf(values[0]), leaf(values[1])
    gx, gy = minicnn.grad(_f(x, y), [x, y], create_graph=True)
    assert gx.requires_grad and gy.requires_grad
    hvp = minicnn.grad(gx * direction[0] + gy * direction[1], [x, y])

    def f_torch(a, b):
        return a * a * b + torch.sin(a * b)

    inputs = tuple(torch.tensor(v, dtype=torch.float64) for v in values)
    vector = tuple(torch.tensor(v, dtype=torch.float64) for v in direction)
    _, expected = torch.autograd.functional.hvp(f_torch, inputs, vector)
    for ours, theirs in zip(hvp, expected):
        numpy.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)


def test_create_graph_backward_leaves_a_differentiable_grad():
    x = leaf(1.5)
    (x * x * x).backward(create_graph=True)
    assert x.grad.requires_grad
    (second,) = minicnn.grad(x.grad, [x])
    assert second.item() == pytest.approx(6 * 1.5)


# Broken variants of a real op: only their backward differs from Exp's.
class WrongShape(Exp):
    def backward(self, gy):
        return minicnn.tensor(numpy.ones(1))


class WrongCount(Exp):
    def backward(self, gy):
        return gy, gy


class NoGradient(Exp):
    def backward(self, gy):
        return None


def test_gradient_of_the_wrong_shape_is_caught():
    x = leaf((3,))
    with pytest.raises(RuntimeError, match=r"WrongShape.backward returned a gradient of shape \(1,\) "
                                           r"and dtype float64 for input 0, which has shape \(3,\)"):
        WrongShape()(x).backward(minicnn.ones_like(x))


def test_gradient_of_the_wrong_dtype_is_caught():
    x = leaf((3,), dtype=numpy.float32)
    with pytest.raises(RuntimeError, match="dtype float64 for input 0, which has shape .* dtype float32"):
        WrongShape()(x).backward(minicnn.ones(3))


def test_wrong_number_of_gradients_is_caught():
    x = leaf((3,))
    with pytest.raises(RuntimeError, match="WrongCount.backward returned 2 gradients for 1 inputs"):
        WrongCount()(x).backward(minicnn.ones_like(x))


def test_missing_gradient_for_a_differentiable_input_is_caught():
    x = leaf((3,))
    with pytest.raises(RuntimeError, match=r"nogradient: input 0 \(shape \(3,\)\) requires grad"):
        NoGradient()(x).backward(minicnn.ones_like(x))


def _live_functions():
    gc.collect()
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), Function))


def test_training_steps_do_not_leak_graph_nodes():
    w = leaf((4,))
    before = _live_functions()
    for _ in range(1000):
        loss = exp(w * 0.5) * sin(w)
        loss.backward(minicnn.ones_like(w))
    del loss
    assert _live_functions() <= before


def test_leaves_never_share_a_gradient_array():
    """The backward of a + b hands the same gradient to both; an in-place change of one
    leaf's .grad (as gradient clipping does) must not change the other's."""
    a = minicnn.ones(3, requires_grad=True)
    b = minicnn.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.data *= 0
    assert b.grad.numpy().tolist() == [1.0, 1.0, 1.0]
