"""Integrated Gradients (Sundararajan et al. 2017): the gradient averaged along the straight
path from a baseline x' (a black image by default) to the input x, times the distance:

    IG(x) = (x - x') * integral_0^1  d y_c / d x (x' + a (x - x')) da

Completeness: the attributions sum to y_c(x) - y_c(x'), up to the error of the quadrature.
The integral is a weighted sum over `steps` points a_i with weights w_i; the rules and their
points are Captum's (approximation_methods.py), so that the results agree with Captum's:

    riemann_left      a_i = i / n,              i = 0 .. n-1,  w_i = 1 / n
    riemann_right     a_i = (i + 1) / n,                       w_i = 1 / n
    riemann_middle    a_i = (i + 1/2) / n,                     w_i = 1 / n
    riemann_trapezoid a_i = i / (n - 1),        i = 0 .. n-1,  w_i = 1 / n, halved at both ends
    gausslegendre     Gauss-Legendre nodes and weights moved from [-1, 1] to [0, 1]

Captum's trapezoid rule keeps the weight 1/n (not 1/(n - 1)), so its weights sum to
1 - 1/n; it is reproduced as it is. Gauss-Legendre is exact for polynomials of degree
2n - 1 and is Captum's default.
"""
import numpy

from ..autograd import Tensor
from ..backend import array_module
from .attribution import Attribution
from .checks import check_baseline, check_number

RULES = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre")


def quadrature(method, steps):
    """(points a_i in [0, 1], weights w_i) of the rule `method` with `steps` points."""
    if method not in RULES:
        raise ValueError(f"IntegratedGradients: method must be one of {', '.join(RULES)}, got "
                         f"{method!r}")
    check_number("IntegratedGradients", "steps", steps, low=1 if method == "gausslegendre" else 2,
                 integer=True)
    if method == "gausslegendre":
        nodes, weights = numpy.polynomial.legendre.leggauss(steps)
        return (nodes + 1) / 2, weights / 2
    weights = numpy.full(steps, 1 / steps)
    if method == "riemann_trapezoid":
        weights[[0, -1]] /= 2
        return numpy.linspace(0, 1, steps), weights
    first = {"riemann_left": 0.0, "riemann_right": 1 / steps, "riemann_middle": 1 / (2 * steps)}
    return first[method] + numpy.arange(steps) / steps, weights


class IntegratedGradients(Attribution):
    """IG with a `baseline` (a number, or an array broadcastable to the inputs), `steps`
    points of the rule `method`, and at most `batch_size` images per forward pass."""

    def attribute(self, inputs, target, baseline=0.0, steps=50, method="gausslegendre",
                  batch_size=256):
        points, weights = quadrature(method, steps)
        check_number(self.name, "batch_size", batch_size, low=1, integer=True)
        xp = array_module(inputs.data)
        x = inputs.data
        baseline = check_baseline(self.name, baseline, x)
        # The predicted class of the input itself, not of each point on the path.
        targets = self.targets(inputs, target)
        total = xp.zeros_like(x)
        per_pass = max(1, batch_size // len(x))
        for start in range(0, steps, per_pass):
            chunk = slice(start, start + per_pass)
            path = xp.concatenate([baseline + a * (x - baseline) for a in points[chunk]])
            gradients = self.input_gradient(Tensor(path.astype(x.dtype)),
                                            numpy.tile(targets, len(points[chunk])))
            gradients = gradients.reshape((-1,) + x.shape)
            total += xp.tensordot(xp.asarray(weights[chunk], dtype=x.dtype), gradients, axes=1)
        return (x - baseline) * total
