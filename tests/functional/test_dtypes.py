"""Dtype rules, as in PyTorch: Python numbers never upcast a float32 tensor, lists of floats
become float32, arrays keep their dtype, and gradients have their input's dtype."""
import operator

import numpy
import pytest

import minicnn
import minicnn.functional as F

OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]
SCALARS = [2, 2.5, numpy.float64(2.5)]


@pytest.mark.parametrize("op", OPERATORS, ids=lambda op: op.__name__)
@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
def test_python_scalar_keeps_float32_both_ways(op, scalar, device):
    x = minicnn.tensor([1.0, 2.0], requires_grad=True, device=device)
    for y in (op(x, scalar), op(scalar, x)):
        assert y.dtype == numpy.float32
        y.sum().backward()
        assert x.grad.dtype == numpy.float32
        x.grad = None


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
def test_functional_binary_ops_with_a_scalar_keep_float32(name):
    x = minicnn.tensor([1.0, 2.0])
    assert getattr(F, name)(x, 3.0).dtype == numpy.float32
    assert getattr(F, name)(3.0, x).dtype == numpy.float32


def test_where_with_scalar_branches_keeps_float32():
    x = minicnn.tensor([1.0, -2.0])
    assert F.where(x > 0, x, 0.0).dtype == numpy.float32
    assert F.where(x > 0, 1.0, x).dtype == numpy.float32


@pytest.mark.parametrize("fn", [F.exp, F.log1p, F.sin, F.sum, F.mean, F.var, F.std, F.max,
                                F.logsumexp, lambda t: F.clamp(t, 0.0, 1.0), lambda t: t @ t,
                                lambda t: t[[0, 0]], lambda t: F.cat([t, t])],
                         ids=["exp", "log1p", "sin", "sum", "mean", "var", "std", "max",
                              "logsumexp", "clamp", "matmul", "index", "cat"])
def test_float32_in_float32_out(fn):
    assert fn(minicnn.tensor([0.25, 0.5])).dtype == numpy.float32


def test_tensor_from_floats_is_float32_and_arrays_keep_their_dtype():
    assert minicnn.tensor([1.0, 2.0]).dtype == numpy.float32
    assert minicnn.tensor(1.5).dtype == numpy.float32
    assert minicnn.tensor(numpy.array([1.0, 2.0])).dtype == numpy.float64
    assert minicnn.tensor(numpy.array([1.0], dtype=numpy.float16)).dtype == numpy.float16
    assert minicnn.tensor([1, 2]).dtype == numpy.int64


def test_integer_tensor_with_integer_scalar_stays_integer():
    assert (minicnn.tensor([1, 2]) * 3).dtype == numpy.int64


def test_comparisons_with_scalars_are_bool():
    x = minicnn.tensor([1.0, 2.0])
    assert (x > 1.5).dtype == numpy.bool_ and (1.5 < x).dtype == numpy.bool_
