"""Elementwise math: exp, log, log1p, sqrt, abs, sin, cos, clip, maximum, minimum, where,
and the comparisons eq, ne, lt, le, gt, ge.

Each output element depends only on the matching input element, so every Jacobian is
diagonal and each backward is the output gradient times the local derivative.
"""
import operator

from ..autograd import Function, Tensor, as_tensor
from ..backend import array_module
from .broadcast import broadcast_shapes, unbroadcast

__all__ = ["exp", "log", "log1p", "sqrt", "abs", "sin", "cos", "clip", "clamp",
           "maximum", "minimum", "where", "eq", "ne", "lt", "le", "gt", "ge"]

nondifferentiable = ("eq", "ne", "lt", "le", "gt", "ge")


class Exp(Function):
    """y = exp(x).   dL/dx = dL/dy * y."""

    saved = {"x": "y"}

    def forward(self, x):
        return array_module(x).exp(x)

    def backward(self, gy):
        return gy * self.outputs[0]


class Log(Function):
    """y = log(x).   dL/dx = dL/dy / x."""

    saved = {"x": "x"}

    def forward(self, x):
        return array_module(x).log(x)

    def backward(self, gy):
        return gy / self.inputs[0]


class Log1p(Function):
    """y = log(1 + x), accurate for small x.   dL/dx = dL/dy / (1 + x)."""

    saved = {"x": "x"}

    def forward(self, x):
        return array_module(x).log1p(x)

    def backward(self, gy):
        return gy / (1 + self.inputs[0])


class Sqrt(Function):
    """y = sqrt(x).   dL/dx = dL/dy / (2 y)."""

    saved = {"x": "y"}

    def forward(self, x):
        return array_module(x).sqrt(x)

    def backward(self, gy):
        return gy / (2 * self.outputs[0])


class Abs(Function):
    """y = |x|.   dL/dx = dL/dy * sign(x)  (0 at x = 0, as PyTorch)."""

    saved = {"x": "x"}

    def forward(self, x):
        return array_module(x).abs(x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * Tensor(array_module(x.data).sign(x.data))


class Sin(Function):
    """y = sin(x).   dL/dx = dL/dy * cos(x)."""

    saved = {"x": "x"}

    def forward(self, x):
        return array_module(x).sin(x)

    def backward(self, gy):
        return gy * cos(self.inputs[0])


class Cos(Function):
    """y = cos(x).   dL/dx = -dL/dy * sin(x)."""

    saved = {"x": "x"}

    def forward(self, x):
        return array_module(x).cos(x)

    def backward(self, gy):
        return -gy * sin(self.inputs[0])


class Clip(Function):
    """y = min(max(x, low), high).   dL/dx = dL/dy where low <= x <= high, else 0.

    At the boundaries the gradient passes through, matching torch.clamp.
    """

    saved = {"x": "x"}

    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, x):
        return array_module(x).clip(x, self.low, self.high)

    def backward(self, gy):
        x = self.inputs[0].data
        inside = (x >= (self.low if self.low is not None else x)) & (
            x <= (self.high if self.high is not None else x))
        return gy * Tensor(inside.astype(x.dtype))


class Where(Function):
    """y = x where condition else other.   dL/dx = dL/dy * condition,  dL/dother = dL/dy * (1 - condition)."""

    saved = {"x": "condition", "other": "condition"}

    def forward(self, condition, x, other):
        broadcast_shapes("where", condition.shape, x.shape, other.shape,
                         names=("condition", "input", "other"))
        if condition.dtype.kind != "b":
            raise TypeError(f"where: 'condition' must be a bool tensor, got dtype {condition.dtype}")
        return array_module(x).where(condition, x, other)

    def backward(self, gy):
        condition, x, other = self.inputs
        zero = Tensor(array_module(gy.data).zeros((), dtype=gy.dtype))
        return (None,
                unbroadcast(where(condition, gy, zero), x),
                unbroadcast(where(condition, zero, gy), other))


class Compare(Function):
    """y = (a op b) elementwise, a bool tensor (op is one of < <= > >= == !=). No gradient:
    a step function has derivative 0 almost everywhere, so the graph stops here."""

    differentiable = False
    operators = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt,
                 "le": operator.le, "gt": operator.gt, "ge": operator.ge}

    def __init__(self, op):
        self.op = op

    @property
    def name(self):
        return self.op

    def forward(self, a, b):
        broadcast_shapes(self.op, a.shape, b.shape)
        return self.operators[self.op](a, b)


def exp(input):
    return Exp()(input)


def log(input):
    return Log()(input)


def log1p(input):
    return Log1p()(input)


def sqrt(input):
    return Sqrt()(input)


def abs(input):
    return Abs()(input)


def sin(input):
    return Sin()(input)


def cos(input):
    return Cos()(input)


def clip(input, min=None, max=None):
    """Clamp to [min, max]; either bound may be None. `clamp` is the PyTorch name."""
    if min is None and max is None:
        raise ValueError("clip: at least one of 'min' and 'max' must be given")
    return Clip(min, max)(input)


clamp = clip


def where(condition, input, other):
    """Elementwise choice; `condition` is a bool Tensor or array, `input`/`other` broadcast."""
    reference = input if isinstance(input, Tensor) else other
    return Where()(as_tensor(condition), as_tensor(input, like=reference),
                   as_tensor(other, like=reference))


def maximum(input, other):
    """Elementwise max. Where both are equal the gradient is split in half, as in PyTorch."""
    return _select(input, other, greater=True)


def minimum(input, other):
    """Elementwise min. Where both are equal the gradient is split in half, as in PyTorch."""
    return _select(input, other, greater=False)


def _select(input, other, greater):
    input = as_tensor(input, like=other if isinstance(other, Tensor) else None)
    other = as_tensor(other, like=input)
    broadcast_shapes("maximum" if greater else "minimum", input.shape, other.shape)
    xp = array_module(input.data, other.data)
    # A NaN in `input` is chosen, and one in `other` falls through to `other`: NaN propagates.
    chosen = (input.data > other.data if greater else input.data < other.data) | xp.isnan(input.data)
    tie = input.data == other.data
    # A tie gives each side half of the gradient: (a + b) / 2 has derivative 1/2 for both.
    return where(chosen, input, where(tie, (input + other) * 0.5, other))


def _comparison(op, symbol):
    def compare(input, other):
        return Compare(op)(input, as_tensor(other, like=input))
    compare.__name__ = compare.__qualname__ = op
    compare.__doc__ = f"`input {symbol} other` elementwise, as a bool tensor (no gradient)."
    return compare


eq, ne = _comparison("eq", "=="), _comparison("ne", "!=")
lt, le = _comparison("lt", "<"), _comparison("le", "<=")
gt, ge = _comparison("gt", ">"), _comparison("ge", ">=")
