"""Arithmetic with broadcasting: add, sub, mul, div, neg, pow.

Each backward computes the gradient for the broadcast shape and then sums it back to the
input's own shape (and dtype) with `unbroadcast` (see broadcast.py).
"""
from ..autograd import Function
from ..backend import array_module
from .broadcast import broadcast_shapes, unbroadcast
from .elementwise import log, where

__all__ = ["add", "sub", "mul", "div", "neg", "pow"]


class _Binary(Function):
    def check_shapes(self, a, b):
        broadcast_shapes(self.name, a.shape, b.shape)


class Add(_Binary):
    """y = a + b.   dL/da = dL/dy,  dL/db = dL/dy  (each summed to its input's shape)."""

    saved = {}

    def forward(self, a, b):
        self.check_shapes(a, b)
        return a + b

    def backward(self, gy):
        a, b = self.inputs
        return unbroadcast(gy, a), unbroadcast(gy, b)


class Sub(_Binary):
    """y = a - b.   dL/da = dL/dy,  dL/db = -dL/dy."""

    saved = {}

    def forward(self, a, b):
        self.check_shapes(a, b)
        return a - b

    def backward(self, gy):
        a, b = self.inputs
        return unbroadcast(gy, a), unbroadcast(-gy, b)


class Mul(_Binary):
    """y = a * b.   dL/da = dL/dy * b,  dL/db = dL/dy * a."""

    saved = {"a": "b", "b": "a"}

    def forward(self, a, b):
        self.check_shapes(a, b)
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        # A constant factor (a mask, a loss weight) gets no gradient computed for it.
        return (unbroadcast(gy * b, a) if a.requires_grad else None,
                unbroadcast(gy * a, b) if b.requires_grad else None)


class Div(_Binary):
    """y = a / b.   dL/da = dL/dy / b,  dL/db = -dL/dy * a / b^2."""

    saved = {"a": "b", "b": ("a", "b")}

    def forward(self, a, b):
        self.check_shapes(a, b)
        return a / b

    def backward(self, gy):
        a, b = self.inputs
        return (unbroadcast(gy / b, a) if a.requires_grad else None,
                unbroadcast(-gy * a / (b * b), b) if b.requires_grad else None)


class Neg(Function):
    """y = -x.   dL/dx = -dL/dy."""

    saved = {}

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Pow(_Binary):
    """y = a ** b.   dL/da = dL/dy * b * a^(b-1),  dL/db = dL/dy * y * log(a)  (where a > 0).

    The exponent's gradient is only computed when it requires grad: log(a) is undefined for
    a <= 0, which is common for x ** 2 with a constant exponent.
    """

    saved = {"a": ("a", "b"), "b": ("a", "y")}

    def forward(self, a, b):
        self.check_shapes(a, b)
        return array_module(a).power(a, b)

    def backward(self, gy):
        a, b = self.inputs
        ga = unbroadcast(gy * b * a ** (b - 1), a)
        if not b.requires_grad:
            return ga, None
        safe_log = log(where(a.data > 0, a, 1.0))
        return ga, unbroadcast(gy * self.outputs[0] * safe_log, b)


def add(input, other):
    return Add()(input, other)


def sub(input, other):
    return Sub()(input, other)


def mul(input, other):
    return Mul()(input, other)


def div(input, other):
    return Div()(input, other)


def neg(input):
    return Neg()(input)


def pow(input, exponent):
    return Pow()(input, exponent)
