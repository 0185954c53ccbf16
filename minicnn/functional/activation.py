"""Activation functions: relu, leaky_relu, elu, gelu, sigmoid, tanh, softplus, softmax, log_softmax.

All but the softmaxes act elementwise, so their Jacobians are diagonal and each backward
is the output gradient times the local derivative. Every backward is written with Tensor
ops (the masks of the piecewise functions are constants), so second derivatives work.

Numerical stability: sigmoid, softplus and the softmaxes never evaluate exp of a large
positive number, so logits of +-1000 give finite values and gradients.
"""
import importlib
import math

from ..autograd import Function, Tensor
from ..backend import array_module, is_cupy_array
from ..cpu_kernels import relu as relu_kernels, special
from .elementwise import exp, where
from .reduce import sum
from .shape import normalize_dim, resolve_dim

__all__ = ["relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softplus", "softmax",
           "log_softmax"]


class ReLU(Function):
    """y = max(x, 0).   dL/dx = dL/dy * [x > 0]  (0 at x = 0, as PyTorch)."""

    saved = {"x": "x"}

    def forward(self, x):
        return relu_kernels.relu(x) if _has_cpu_ufunc(x) else array_module(x).maximum(x, 0)

    def backward(self, gy):
        return PassWherePositive(self.inputs[0].data)(gy)


class PassWherePositive(Function):
    """y = g * [x > 0] for a constant array x: ReLU's backward, linear in g (relu has no
    curvature), so its own backward is itself: dL/dg = dL/dy * [x > 0]."""

    saved = {}

    def __init__(self, x):
        self.x = x

    def forward(self, g):
        if _has_cpu_ufunc(g) and g.dtype == self.x.dtype:
            return relu_kernels.pass_where_positive(g, self.x)
        return g * (self.x > 0).astype(g.dtype)

    def backward(self, gy):
        return PassWherePositive(self.x)(gy)


def _has_cpu_ufunc(array):
    """Whether a Numba ufunc of cpu_kernels takes `array`: NumPy float32 or float64."""
    return not is_cupy_array(array) and array.dtype.char in "fd"


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x.   dL/dx = dL/dy * (1 if x > 0 else slope)."""

    saved = {"x": "x"}

    def __init__(self, negative_slope):
        self.negative_slope = negative_slope

    def forward(self, x):
        return array_module(x).where(x > 0, x, x * self.negative_slope)

    def backward(self, gy):
        x = self.inputs[0].data
        slope = array_module(x).where(x > 0, 1.0, self.negative_slope).astype(x.dtype)
        return gy * Tensor(slope)


class ELU(Function):
    """y = x if x > 0 else alpha (exp(x) - 1)  (Clevert et al. 2015).

    dL/dx = dL/dy * (1 if x > 0 else y + alpha); the second branch uses the output y,
    which is itself differentiable, so the second derivative is right too.
    """

    saved = {"x": ("x", "y")}

    def __init__(self, alpha):
        self.alpha = alpha

    def forward(self, x):
        xp = array_module(x)
        # exp of the clipped input: the discarded branch must not overflow for large x.
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def backward(self, gy):
        x, y = self.inputs[0], self.outputs[0]
        return where(x.data > 0, gy, gy * (y + self.alpha))


def erf_array(array):
    """erf of a raw array. NumPy has none: a Numba ufunc on the CPU, CuPy's own on the GPU."""
    if is_cupy_array(array):
        return importlib.import_module("cupyx.scipy.special").erf(array)
    return special.erf(array)


class Erf(Function):
    """y = erf(x).   dL/dx = dL/dy * 2/sqrt(pi) * exp(-x^2)."""

    saved = {"x": "x"}

    def forward(self, x):
        return erf_array(x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * exp(-(x * x)) * (2 / math.sqrt(math.pi))


def _normal_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt(2))) / 2 as a differentiable Tensor expression."""
    return (Erf()(x * (1 / math.sqrt(2))) + 1) * 0.5


class GELU(Function):
    """y = x Phi(x), Phi the standard normal CDF (Hendrycks & Gimpel 2016), exact (erf) form.

    dL/dx = dL/dy * (Phi(x) + x phi(x)),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
    """

    saved = {"x": "x"}

    def forward(self, x):
        return x * (0.5 * (1 + erf_array(x * (1 / math.sqrt(2)))))

    def backward(self, gy):
        x = self.inputs[0]
        density = exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))
        return gy * (_normal_cdf(x) + x * density)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)).   dL/dx = dL/dy * y * (1 - y)."""

    saved = {"x": "y"}

    def forward(self, x):
        xp = array_module(x)
        # exp(-|x|) <= 1 never overflows; both branches are the same function of x.
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def backward(self, gy):
        y = self.outputs[0]
        return gy * y * (1 - y)


class Tanh(Function):
    """y = tanh(x).   dL/dx = dL/dy * (1 - y^2)."""

    saved = {"x": "y"}

    def forward(self, x):
        return array_module(x).tanh(x)

    def backward(self, gy):
        y = self.outputs[0]
        return gy * (1 - y * y)


class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta, and y = x where beta x > threshold (as PyTorch).

    dL/dx = dL/dy * sigmoid(beta x), and dL/dy where beta x > threshold.
    """

    saved = {"x": "x"}

    def __init__(self, beta, threshold):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        xp = array_module(x)
        scaled = x * self.beta
        # log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): exp never sees a positive argument,
        # so any threshold (math.inf included) is safe.
        smooth = (xp.maximum(scaled, 0) + xp.log1p(xp.exp(-xp.abs(scaled)))) / self.beta
        return xp.where(scaled > self.threshold, x, smooth)

    def backward(self, gy):
        x = self.inputs[0]
        linear = x.data * self.beta > self.threshold
        return where(linear, gy, gy * sigmoid(x * self.beta))


class Softmax(Function):
    """y_i = exp(x_i) / sum_j exp(x_j) along `axis`.

    dL/dx = y * (dL/dy - sum(dL/dy * y, axis)). Any shape.
    """

    saved = {"x": "y"}

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = array_module(x)
        # Subtracting the max leaves the ratios unchanged and makes every exp <= 1.
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, gy):
        y = self.outputs[0]
        return y * (gy - sum(gy * y, axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y_i = x_i - log sum_j exp(x_j) along `axis`.

    dL/dx = dL/dy - exp(y) * sum(dL/dy, axis), exp(y) being the softmax. Any shape.
    """

    saved = {"x": "y"}

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = array_module(x)
        shifted = x - x.max(axis=self.axis, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))

    def backward(self, gy):
        y = self.outputs[0]
        return gy - exp(y) * sum(gy, axis=self.axis, keepdims=True)


def relu(input):
    return ReLU()(input)


def leaky_relu(input, negative_slope=0.01):
    return LeakyReLU(negative_slope)(input)


def elu(input, alpha=1.0):
    return ELU(alpha)(input)


def gelu(input):
    """The exact GELU, x Phi(x) (PyTorch's default approximate='none')."""
    return GELU()(input)


def sigmoid(input):
    return Sigmoid()(input)


def tanh(input):
    return Tanh()(input)


def softplus(input, beta=1.0, threshold=20.0):
    return Softplus(beta, threshold)(input)


def softmax(input, dim=None, axis=None):
    """Softmax along `dim` (or NumPy's `axis`). Unlike PyTorch's deprecated implicit choice,
    leaving both out means the last axis, where the classes of a (N, C) batch are."""
    return Softmax(_softmax_axis("softmax", input, dim, axis))(input)


def log_softmax(input, dim=None, axis=None):
    """log(softmax(input)) computed stably; `dim` as in softmax (default: the last axis)."""
    return LogSoftmax(_softmax_axis("log_softmax", input, dim, axis))(input)


def _softmax_axis(op, input, dim, axis):
    chosen = resolve_dim(op, dim, axis)
    return normalize_dim(op, -1 if chosen is None else chosen, input.shape)
