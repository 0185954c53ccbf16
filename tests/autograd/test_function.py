"""Writing a custom Function: forward on arrays, backward on Tensors, used like any op."""
import numpy
import pytest

import minicnn
from minicnn import Function
from minicnn.backend import array_module
from tests.helpers import leaf


class Exp(Function):
    """y = exp(x).   dL/dx = dL/dy * y."""

    def forward(self, x):
        return array_module(x).exp(x)

    def backward(self, gy):
        return gy * self.outputs[0]


class SplitSign(Function):
    """Two outputs: (max(x, 0), min(x, 0)).   dL/dx = dL/dpos * [x > 0] + dL/dneg * [x <= 0]."""

    def forward(self, x):
        xp = array_module(x)
        return xp.maximum(x, 0), xp.minimum(x, 0)

    def backward(self, g_positive, g_negative):
        positive = minicnn.Tensor((self.inputs[0].data > 0).astype(g_positive.dtype))
        return g_positive * positive + g_negative * (1 - positive)


class ArgMaxLike(Function):
    differentiable = False

    def forward(self, x):
        return array_module(x).argmax(x, keepdims=True)


def test_custom_exp_forward_backward(device):
    x = leaf([0.0, 1.0, -2.0], device)
    y = Exp()(x)
    assert isinstance(y.creator, Exp) and y.creator.inputs[0] is x
    numpy.testing.assert_allclose(y.numpy(), numpy.exp(x.numpy()))
    y.backward(minicnn.ones_like(y))
    numpy.testing.assert_allclose(x.grad.numpy(), numpy.exp(x.numpy()))


def test_custom_exp_passes_gradcheck_and_gradgradcheck(device):
    x = leaf((3,), device)
    assert minicnn.gradcheck(lambda t: Exp()(t), x)
    assert minicnn.gradgradcheck(lambda t: Exp()(t), x)


def test_function_with_two_outputs_and_an_unused_one():
    x = leaf([-1.0, 2.0])
    positive, negative = SplitSign()(x)
    assert positive.creator is negative.creator
    positive.backward(minicnn.ones_like(positive))     # negative gets a zero gradient
    assert x.grad.numpy().tolist() == [0.0, 1.0]
    assert minicnn.gradcheck(lambda t: SplitSign()(t), leaf([-1.0, 2.0, 0.5]))


def test_python_scalars_become_tensors_of_the_tensor_dtype():
    x = leaf([1.0], dtype=numpy.float32)
    assert Exp()(0.5).dtype == numpy.float32
    assert minicnn.functional.add(x, 2.5).dtype == numpy.float32


def test_non_differentiable_function_records_nothing():
    y = ArgMaxLike()(leaf([1.0, 3.0, 2.0]))
    assert y.numpy().tolist() == [1] and not y.requires_grad and y.creator is None


def test_forward_and_backward_must_be_implemented():
    with pytest.raises(NotImplementedError, match="Function must implement forward"):
        Function()(leaf((1,)))
    with pytest.raises(NotImplementedError, match="Incomplete must implement backward"):
        type("Incomplete", (Function,), {"forward": lambda self, x: x})()(leaf((1,))).backward(
            minicnn.ones(1, dtype="float64"))


def test_function_name_is_the_lowercase_class_name():
    assert Exp().name == "exp" and repr(Exp()) == "<Exp>"
