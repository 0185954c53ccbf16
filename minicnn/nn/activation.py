"""Activation functions as modules, so they can sit in a Sequential: ReLU, LeakyReLU, ELU,
GELU, Sigmoid, Tanh, Softplus, Softmax, LogSoftmax. Each calls the functional op of the
same name (see functional/activation.py for the formulas and their derivatives)."""
from .. import functional as F
from .module import Module, settings_repr


class ReLU(Module):
    """max(0, x). `inplace` is accepted for PyTorch code and has no effect: minicnn never
    overwrites an input that backward may need."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)

    def extra_repr(self):
        return settings_repr(self, inplace=False)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return settings_repr(self, "negative_slope")


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return settings_repr(self, "alpha")


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF (the exact form, PyTorch's default)."""

    def forward(self, x):
        return F.gelu(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (for stability)."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return settings_repr(self, "beta", "threshold")


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `dim`. The default dim=-1 (the class axis of (N, C)
    logits) replaces PyTorch's deprecated guess of a dimension."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, dim=self.dim)

    def extra_repr(self):
        return settings_repr(self, "dim")


class LogSoftmax(Softmax):
    """log(softmax(x)), computed as x - logsumexp(x) to avoid overflow."""

    def forward(self, x):
        return F.log_softmax(x, dim=self.dim)
