"""Padding: grow (or, with negative amounts, crop) the last dims of a tensor, as torch's F.pad.

`pad` lists amounts from the last dim backwards: (left, right) pads the last dim,
(left, right, top, bottom) the last two, and so on. Modes:

    constant    new positions hold `value`; negative amounts crop
    reflect     mirror without repeating the edge:   [1 2 3] -> 3 2 | 1 2 3 | 2 1
    replicate   repeat the edge:                     [1 2 3] -> 1 1 | 1 2 3 | 3 3
    circular    wrap around:                         [1 2 3] -> 2 3 | 1 2 3 | 1 2

Constant padding copies x into a block of `value`; its adjoint crops, which is constant
padding by the negated amounts, so the one op is its own backward. The other modes read
every output element from some input element: a gather by a fixed index, whose gradient
is the scatter-add by that index (GatherPlanes / ScatterPlanes in pool.py).
"""
import numbers

import numpy

from ..autograd import Function
from ..backend import array_module
from .pool import GatherPlanes

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


class ConstantPad(Function):
    """y = x surrounded by `value`, cropped where an amount is negative.
    dL/dx = dL/dy with the padding cut off = ConstantPad(negated amounts, 0)(dL/dy).

    amounts: one (before, after) pair per dim of x, from the first dim.
    """

    saved = {}

    def __init__(self, amounts, value=0.0):
        self.amounts, self.value = tuple(amounts), value

    def forward(self, x):
        shape = tuple(size + before + after for size, (before, after) in zip(x.shape, self.amounts))
        y = array_module(x).full(shape, self.value, dtype=x.dtype)
        source = tuple(slice(max(-before, 0), size - max(-after, 0))
                       for size, (before, after) in zip(x.shape, self.amounts))
        target = tuple(slice(max(before, 0), size - max(after, 0))
                       for size, (before, after) in zip(shape, self.amounts))
        y[target] = x[source]
        return y

    def backward(self, gy):
        return ConstantPad([(-before, -after) for before, after in self.amounts])(gy)


def _source_positions(mode, size, before, after):
    """For each output position along one dim, the input position it copies."""
    position = numpy.arange(-before, size + after)
    if mode == "reflect":
        position = numpy.abs(position)
        return numpy.where(position >= size, 2 * (size - 1) - position, position)
    if mode == "replicate":
        return numpy.clip(position, 0, size - 1)
    return position % size


def _check(input, pad, mode):
    if mode not in _MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if len(pad) % 2 or not all(isinstance(p, numbers.Integral) for p in pad):
        raise ValueError(f"pad: pad must be an even number of ints (left, right, top, bottom, "
                         f"...), got {tuple(pad)}")
    dims = len(pad) // 2
    if dims > input.ndim:
        raise ValueError(f"pad: pad {tuple(pad)} pads {dims} dims but the input has only "
                         f"{input.ndim} (shape {tuple(input.shape)})")
    if mode == "constant":
        return
    if not 1 <= dims <= 3 or input.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"pad: mode {mode!r} pads the last 1, 2 or 3 dims of an input with one "
                         f"or two more dims (batch, channels); got pad {tuple(pad)} for input "
                         f"shape {tuple(input.shape)}")
    for k in range(dims):
        before, after = pad[2 * k], pad[2 * k + 1]
        dim = input.ndim - 1 - k
        size = input.shape[dim]
        if min(before, after) < 0:
            raise ValueError(f"pad: negative padding is only supported in 'constant' mode, "
                             f"got {(before, after)} for dim {dim} in mode {mode!r}")
        limit = size - 1 if mode == "reflect" else size if mode == "circular" else None
        if limit is not None and max(before, after) > limit:
            raise ValueError(f"pad: {mode!r} padding {(before, after)} of dim {dim} must be at "
                             f"most {limit} for its size {size} (input {tuple(input.shape)})")


def pad(input, pad, mode="constant", value=0.0):
    """Pad the last len(pad) // 2 dims; pad = (left, right, top, bottom, ...), torch's order.

    'constant' pads any dims with `value` (negative amounts crop); 'reflect', 'replicate'
    and 'circular' pad the last 1 to 3 dims of an input with 1 or 2 leading dims.
    dL/dx: constant mode crops dL/dy; the others add each dL/dy back to its source.
    """
    pad = tuple(pad)
    _check(input, pad, mode)
    dims = len(pad) // 2
    # torch's order starts from the last dim; amounts[k] is for dim ndim - dims + k.
    amounts = [(pad[2 * k], pad[2 * k + 1]) for k in reversed(range(dims))]
    if mode == "constant":
        for (before, after), size in zip(amounts, input.shape[input.ndim - dims:]):
            if size + before + after < 0:
                raise ValueError(f"pad: padding {(before, after)} would leave a negative size "
                                 f"from {size} (input {tuple(input.shape)})")
        return ConstantPad([(0, 0)] * (input.ndim - dims) + amounts, value)(input)
    in_plane = tuple(input.shape[input.ndim - dims:])
    positions = [_source_positions(mode, size, *amount) for size, amount in zip(in_plane, amounts)]
    out_plane = tuple(len(p) for p in positions)
    index = numpy.ravel_multi_index(numpy.ix_(*positions), in_plane).reshape(1, -1)
    index = array_module(input.data).asarray(index)
    return GatherPlanes(index, in_plane, out_plane)(input)
