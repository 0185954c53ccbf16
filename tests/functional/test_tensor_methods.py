"""Tensor operators and methods are the functional ops, with PyTorch's method signatures."""
import operator

import numpy
import pytest

import minicnn
import minicnn.functional as F
from tests.helpers import leaf

METHODS = ["exp", "log", "log1p", "sqrt", "abs", "sin", "cos", "clip", "clamp", "maximum",
           "minimum", "sum", "mean", "var", "std", "max", "min", "logsumexp", "argmax",
           "argmin", "reshape", "view", "transpose", "permute", "flatten", "squeeze",
           "unsqueeze", "expand", "broadcast_to", "split", "chunk", "matmul", "relu",
           "sigmoid", "tanh", "softmax", "log_softmax", "to", "cpu", "cuda", "float",
           "double", "long", "int", "type", "astype"]


@pytest.mark.parametrize("name", METHODS)
def test_method_exists(name):
    assert callable(getattr(minicnn.Tensor, name))


@pytest.mark.parametrize("name", ["exp", "sum", "mean", "var", "std", "max", "min", "logsumexp",
                                  "argmax", "argmin", "abs", "sin", "cos", "relu", "sigmoid",
                                  "tanh", "softmax", "log_softmax", "flatten", "squeeze"])
def test_method_is_the_functional_op(name):
    x = leaf(numpy.random.permutation(6).reshape(2, 3) + 0.5)
    numpy.testing.assert_array_equal(getattr(x, name)().numpy(), getattr(F, name)(x).numpy())


BINARY_OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]


@pytest.mark.parametrize("op", BINARY_OPERATORS, ids=lambda op: op.__name__)
def test_operators_and_reversed_operators(op, device):
    x = leaf([[0.5, 1.5, 2.5]], device)
    array = numpy.array([[0.5, 1.5, 2.5]])
    numpy.testing.assert_allclose(op(x, 2.0).numpy(), op(array, 2.0))
    numpy.testing.assert_allclose(op(2.0, x).numpy(), op(2.0, array))
    numpy.testing.assert_allclose(op(x, x).numpy(), op(array, array))
    assert op(2.0, x).creator is not None


def test_unary_operators_and_matmul(device):
    x = leaf([[1.0, -2.0], [3.0, 4.0]], device)
    array = x.numpy()
    numpy.testing.assert_array_equal((-x).numpy(), -array)
    numpy.testing.assert_array_equal(abs(x).numpy(), numpy.abs(array))
    numpy.testing.assert_array_equal((x @ x).numpy(), array @ array)
    numpy.testing.assert_array_equal((array @ x).numpy(), array @ array)


@pytest.mark.parametrize("op", [operator.lt, operator.le, operator.gt, operator.ge,
                                operator.eq, operator.ne], ids=lambda op: op.__name__)
def test_comparisons_are_bool_tensors(op):
    x = leaf([1.0, 2.0, 3.0])
    y = op(x, 2.0)
    assert y.dtype == numpy.bool_ and not y.requires_grad
    numpy.testing.assert_array_equal(y.numpy(), op(numpy.array([1.0, 2.0, 3.0]), 2.0))


def test_equality_with_none_is_false_and_tensors_stay_hashable():
    x = minicnn.ones(2)
    assert (x == None) is False and (x != None) is True   # noqa: E711
    assert {x: 1}[x] == 1


def test_reshape_view_permute_expand_take_sizes_either_way():
    x = minicnn.arange(6.0)
    assert x.reshape(2, 3).shape == x.reshape((2, 3)).shape == x.view(3, -1).T.shape == (2, 3)
    y = x.reshape(1, 2, 3)
    assert y.permute(2, 0, 1).shape == y.permute((2, 0, 1)).shape == (3, 1, 2)
    assert y.expand(4, -1, -1).shape == y.expand((4, 2, 3)).shape == (4, 2, 3)


def test_T_reverses_all_dims_and_mT_swaps_the_last_two():
    x = minicnn.zeros(2, 3, 4)
    assert x.T.shape == (4, 3, 2) and x.mT.shape == (2, 4, 3)


def test_getitem_and_its_gradient(device):
    x = leaf([[1.0, 2.0], [3.0, 4.0]], device)
    x[:, 1].sum().backward()
    numpy.testing.assert_array_equal(x.grad.numpy(), [[0, 1], [0, 1]])


def test_dtype_methods():
    x = minicnn.tensor([1.5, -2.5])
    assert x.double().dtype == numpy.float64 and x.double().float().dtype == numpy.float32
    assert x.long().dtype == numpy.int64 and x.int().dtype == numpy.int32
    assert x.type() == "float32" and x.type(minicnn.float64).dtype == numpy.float64
    assert x.astype("float16").dtype == numpy.float16
    assert x.to("cpu") is x and x.cpu() is x


def test_methods_record_gradients_like_the_functions(device):
    x = leaf([[1.0, 2.0, 3.0]], device)
    x.reshape(3, 1).expand(3, 2).sum().backward()
    numpy.testing.assert_array_equal(x.grad.numpy(), [[2.0, 2.0, 2.0]])
