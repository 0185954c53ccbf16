"""Reductions over dims: sum, mean, var, std, max, min, logsumexp; and argmax, argmin.

A reduction maps many elements to one, so its backward spreads each output gradient back
over the elements it came from (`spread`): unchanged for sum, divided by the count for
mean, weighted by the local derivative for var, std and logsumexp, and onto the largest
elements for max.

Every function takes PyTorch's `dim`/`keepdim` or NumPy's `axis`/`keepdims`; `dim` is an
int, a tuple of ints, or None for all dims.
"""
import math

from ..autograd import Function, Tensor
from ..backend import array_module
from .broadcast import broadcast_to
from .elementwise import exp
from .shape import normalize_dim, normalize_dims, reshape, resolve_dim

__all__ = ["sum", "mean", "var", "std", "max", "min", "logsumexp", "argmax", "argmin"]

nondifferentiable = ("argmax", "argmin")


class _Reduction(Function):
    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def kept_shape(self):
        return tuple(1 if i in self.axes else s for i, s in enumerate(self.inputs[0].shape))

    def kept(self, y):
        """The reduced result with its reduced dims kept as size 1, which broadcasts against x."""
        return y if self.keepdims else reshape(y, self.kept_shape())

    def spread(self, gy):
        """dL/dy copied to every element of x that was reduced into it."""
        return broadcast_to(self.kept(gy), self.inputs[0].shape)

    def count(self):
        """How many elements were reduced into each output element."""
        return math.prod(self.inputs[0].shape[a] for a in self.axes)


class Sum(_Reduction):
    """y = sum of x over `axes`.   dL/dx_i = dL/dy  for every x_i summed into y."""

    saved = {}

    def forward(self, x):
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        return self.spread(gy)


class Mean(_Reduction):
    """y = (1/n) sum of x over `axes` (n elements).   dL/dx_i = dL/dy / n."""

    saved = {}

    def forward(self, x):
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        return self.spread(gy / self.count())


class Var(_Reduction):
    """y = sum (x_i - m)^2 / (n - correction), with m the mean over `axes`.
    dL/dx_i = dL/dy * 2 (x_i - m) / (n - correction)   (the terms through m sum to zero).
    correction=1 (the default, Bessel's correction) is the unbiased sample variance."""

    saved = {"x": "x"}

    def __init__(self, axes, keepdims, correction):
        super().__init__(axes, keepdims)
        self.correction = correction

    def forward(self, x):
        return x.var(axis=self.axes, ddof=self.correction, keepdims=self.keepdims)

    def backward(self, gy):
        return self.variance_gradient(gy)

    def variance_gradient(self, gy):
        x = self.inputs[0]
        centered = x - mean(x, self.axes, keepdim=True)
        return self.spread(gy * 2 / (self.count() - self.correction)) * centered


class Std(Var):
    """y = sqrt(var(x)).   dL/dx = the variance gradient for dL/dvar = dL/dy / (2 y)."""

    saved = {"x": ("x", "y")}

    def forward(self, x):
        return x.std(axis=self.axes, ddof=self.correction, keepdims=self.keepdims)

    def backward(self, gy):
        return self.variance_gradient(gy / (2 * self.outputs[0]))


class Max(_Reduction):
    """y = max of x over `axes` (values only, like torch.amax).
    dL/dx_i = dL/dy / k  if x_i is one of the k elements equal to the max, else 0.
    Splitting the gradient evenly among ties keeps it symmetric (PyTorch's amax does the same)."""

    saved = {"x": ("x", "y")}

    def forward(self, x):
        return x.max(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        x = self.inputs[0].data
        winners = (x == self.outputs[0].data.reshape(self.kept_shape())).astype(x.dtype)
        share = winners / winners.sum(axis=self.axes, keepdims=True)
        return self.spread(gy) * Tensor(share)


class Min(Max):
    """y = min of x over `axes`; gradient as for Max, split evenly among tied minima."""

    def forward(self, x):
        return x.min(axis=self.axes, keepdims=self.keepdims)


class LogSumExp(_Reduction):
    """y = log(sum exp(x)) over `axes`, computed as m + log(sum exp(x - m)) with m = max x,
    so that no exp overflows.   dL/dx_i = dL/dy * exp(x_i - y)   (the softmax of x)."""

    saved = {"x": ("x", "y")}

    def forward(self, x):
        xp = array_module(x)
        shift = x.max(axis=self.axes, keepdims=True)
        shift = xp.where(xp.isfinite(shift), shift, 0)   # all -inf: log(0) = -inf, not nan
        y = xp.log(xp.exp(x - shift).sum(axis=self.axes, keepdims=True)) + shift
        return y if self.keepdims else y.reshape(_reduced_shape(x.shape, self.axes))

    def backward(self, gy):
        return self.spread(gy) * exp(self.inputs[0] - self.kept(self.outputs[0]))


class ArgMax(Function):
    """The index of the largest element along `dim` (of the flattened input for dim=None).
    Integer output: no gradient."""

    differentiable = False

    def __init__(self, dim, keepdim):
        self.dim, self.keepdim = dim, keepdim

    def forward(self, x):
        return x.argmax(axis=self.dim, keepdims=self.keepdim)


class ArgMin(ArgMax):
    """The index of the smallest element along `dim`. Integer output: no gradient."""

    def forward(self, x):
        return x.argmin(axis=self.dim, keepdims=self.keepdim)


def _reduced_shape(shape, axes):
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _axes(op, input, dim, axis):
    return normalize_dims(op, resolve_dim(op, dim, axis), input.shape)


def sum(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
    return Sum(_axes("sum", input, dim, axis), keepdim or keepdims)(input)


def mean(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
    return Mean(_axes("mean", input, dim, axis), keepdim or keepdims)(input)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=False):
    """Variance with `correction=1` by default (divides by n - 1), like torch.var.
    `unbiased=False` is `correction=0` (divide by n, NumPy's default)."""
    axes = _axes("var", input, dim, axis)
    return Var(axes, keepdim or keepdims, _correction("var", unbiased, correction))(input)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=False):
    """Standard deviation, sqrt(var): `correction=1` by default, as for var."""
    axes = _axes("std", input, dim, axis)
    return Std(axes, keepdim or keepdims, _correction("std", unbiased, correction))(input)


def _correction(op, unbiased, correction):
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: pass 'unbiased' or 'correction', not both")
    if unbiased is not None:
        return int(bool(unbiased))
    return 1 if correction is None else correction


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
    """The largest values over `dim` (values only; use argmax for the indices)."""
    return Max(_axes("max", input, dim, axis), keepdim or keepdims)(input)


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
    """The smallest values over `dim` (values only; use argmin for the indices)."""
    return Min(_axes("min", input, dim, axis), keepdim or keepdims)(input)


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
    return LogSumExp(_axes("logsumexp", input, dim, axis), keepdim or keepdims)(input)


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
    """Index of the maximum along one `dim` (an int), or into the flattened input if None."""
    return ArgMax(_one_axis("argmax", input, dim, axis), keepdim or keepdims)(input)


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
    return ArgMin(_one_axis("argmin", input, dim, axis), keepdim or keepdims)(input)


def _one_axis(op, input, dim, axis):
    dim = resolve_dim(op, dim, axis)
    return None if dim is None else normalize_dim(op, dim, input.shape)
