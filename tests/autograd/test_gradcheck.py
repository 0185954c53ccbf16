"""gradcheck and gradgradcheck catch wrong backward passes and explain where they are wrong."""
import re

import numpy
import pytest

import minicnn
from minicnn import Function, GradcheckError
from minicnn.backend import array_module
from minicnn.functional import exp, sin
from tests.helpers import leaf


class ScaleByExp(Function):
    """y = a * exp(b), with a planted error: db is doubled at `wrong_index` of b."""

    def __init__(self, wrong_index):
        self.wrong_index = wrong_index

    def forward(self, a, b):
        return a * array_module(b).exp(b)

    def backward(self, gy):
        a, b = self.inputs
        y = self.outputs[0]
        planted = numpy.ones(b.shape)
        planted[self.wrong_index] = 2.0
        return gy * exp(b), gy * y * minicnn.tensor(planted)


def _inputs():
    return leaf([0.5, -1.0, 2.0]), leaf([0.1, 0.2, 0.3])


def test_planted_error_is_located_exactly():
    a, b = _inputs()
    with pytest.raises(GradcheckError) as caught:
        minicnn.gradcheck(lambda a, b: ScaleByExp(1)(a, b), (a, b))
    message = str(caught.value)
    assert "input 1 (shape (3,))" in message
    assert "input index (1,), output index (1,)" in message
    numerical = float(re.search(r"numerical (\S+),", message).group(1))
    analytical = float(re.search(r"analytical (\S+) ", message).group(1))
    expected = a.numpy()[1] * numpy.exp(b.numpy()[1])      # dy_1/db_1
    assert numerical == pytest.approx(expected, rel=1e-6)
    assert analytical == pytest.approx(2 * expected, rel=1e-6)


def test_fast_mode_catches_it_too():
    with pytest.raises(GradcheckError, match=r"fast mode.*input 1 \(shape \(3,\)\): numerical .* analytical"):
        minicnn.gradcheck(lambda a, b: ScaleByExp(1)(a, b), _inputs(), fast_mode=True)


def test_raise_exception_false_returns_false():
    assert minicnn.gradcheck(lambda a, b: ScaleByExp(0)(a, b), _inputs(), raise_exception=False) is False


@pytest.mark.parametrize("fast_mode", [False, True])
def test_correct_backward_passes(fast_mode, device):
    a, b = leaf((2, 3), device), leaf((3,), device)
    assert minicnn.gradcheck(lambda a, b: a * exp(b) + sin(a), (a, b), fast_mode=fast_mode)


def test_float32_is_refused():
    x = leaf((3,), dtype=numpy.float32)
    with pytest.raises(TypeError, match="input 0 has dtype float32; finite differences need float64"):
        minicnn.gradcheck(exp, x)


def test_nothing_to_check():
    with pytest.raises(ValueError, match="no input has requires_grad=True"):
        minicnn.gradcheck(exp, minicnn.tensor(numpy.zeros(2)))


def test_output_must_be_a_tensor():
    with pytest.raises(TypeError, match="output 0 of fn is a float, expected a Tensor"):
        minicnn.gradcheck(lambda x: 1.0, leaf((2,)))


class TwoX(Function):
    """y = 2x, with a wrong backward (3 instead of 2): only second derivatives go through it."""

    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        return gy * 3


class Square(Function):
    """y = x^2.   dL/dx = dL/dy * 2x, computed by TwoX so that its backward is differentiable."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * TwoX()(self.inputs[0])


def test_gradgradcheck_catches_a_wrong_double_backward():
    x = leaf((3,))
    assert minicnn.gradcheck(lambda t: Square()(t), x)          # first derivatives are right
    with pytest.raises(GradcheckError, match="Jacobian mismatch for input 0"):
        minicnn.gradgradcheck(lambda t: Square()(t), x)


def test_gradgradcheck_passes_for_correct_ops():
    assert minicnn.gradgradcheck(lambda a, b: a * exp(b) * sin(a), (leaf((2,)), leaf((2,))))
