"""Broadcasting and its adjoint, reducing a gradient back to an input's shape.

When `x` of shape (3, 1) is broadcast to (2, 3, 4) in a forward pass, each element of `x`
is used 2 * 4 times, so its gradient is the sum of the output gradient over the broadcast
axes: `sum_to(gy, (3, 1))`. Every binary op's backward ends with that reduction, through
`unbroadcast`, which also casts the gradient back to the input's dtype when the op promoted it.
"""
from ..autograd import Function
from ..backend import array_module
from .conversion import match_dtype
from .shape import sizes_argument

__all__ = ["broadcast_to", "expand", "sum_to"]


def broadcast_shapes(op, *shapes, names=("input", "other")):
    """The broadcast shape, or an error naming the op and the arguments that disagree."""
    result = []
    for sizes in _right_aligned(shapes):
        distinct = {s for s in sizes if s != 1}
        if len(distinct) > 1:
            described = " and ".join(f"'{name}' {tuple(shape)}" for name, shape in zip(names, shapes))
            raise ValueError(f"{op}: shapes cannot be broadcast together: {described}")
        result.append(distinct.pop() if distinct else 1)
    return tuple(result)


def _right_aligned(shapes):
    ndim = max((len(s) for s in shapes), default=0)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    return zip(*padded)


class BroadcastTo(Function):
    """y = x broadcast to `shape`.   dL/dx = sum_to(dL/dy, x.shape)."""

    saved = {}

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        if broadcast_shapes("broadcast_to", x.shape, self.shape, names=("input", "shape")) != self.shape:
            raise ValueError(f"broadcast_to: input {x.shape} cannot be broadcast to {self.shape}: "
                             "a target size may not be 1 or missing where the input's size is not")
        # A copy, not NumPy's read-only stride-0 view: the result often ends up as a leaf's
        # .grad (the backward of sum), which optimizers may update in place.
        return array_module(x).broadcast_to(x, self.shape).copy()

    def backward(self, gy):
        return sum_to(gy, self.inputs[0].shape)


class SumTo(Function):
    """y = x summed over the axes that broadcasting to x.shape would add.   dL/dx = broadcast_to(dL/dy, x.shape)."""

    saved = {}

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return reduce_to_shape(x, self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.inputs[0].shape)


def reduce_to_shape(array, shape):
    """Sum `array` over leading extra axes and over axes where `shape` has size 1."""
    extra = array.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and array.shape[extra + i] != 1)
    summed = array.sum(axis=axes, keepdims=True) if axes else array
    return summed.reshape(shape)


def broadcast_to(x, shape):
    shape = tuple(shape)
    return x if x.shape == shape else BroadcastTo(shape)(x)


def expand(x, *sizes):
    """broadcast_to with PyTorch's method signature: `x.expand(2, -1, 4)` or `x.expand((2, -1, 4))`,
    where -1 keeps the size of that dimension."""
    sizes = sizes_argument(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes {sizes} given for input {x.shape} with "
                         f"{x.ndim} dimensions")
    shape = tuple(x.shape[i - lead] if size == -1 and i >= lead else size
                  for i, size in enumerate(sizes))
    return broadcast_to(x, shape)


def sum_to(x, shape):
    shape = tuple(shape)
    return x if x.shape == shape else SumTo(shape)(x)


def unbroadcast(gradient, input):
    """The gradient of a broadcast result brought back to `input`: summed to its shape and
    cast to its dtype (float32 + float64 is float64, yet the float32 input needs float32)."""
    return match_dtype(sum_to(gradient, input.shape), input)
