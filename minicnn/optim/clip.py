"""Gradient clipping: keep one bad batch from throwing the weights far away.

Both functions change the `.grad` of the given parameters, as torch.nn.utils does, and are
called between `loss.backward()` and `optimizer.step()`. The clipped gradient is stored as
a new array on the same `.grad` Tensor rather than written in place, because a gradient
array may be a read-only broadcast view or shared between two leaves' gradients.
"""
import math

from ..autograd import Tensor
from ..backend import array_module


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so that their joint norm is at most `max_norm`.

        total = || (||g_1||_p, ||g_2||_p, ...) ||_p      (p = norm_type; inf: max |g|)
        g_i  <- g_i * min(1, max_norm / (total + 1e-6))

    Returns `total`, the norm before clipping, as a 0-d Tensor (like torch.nn.utils.
    clip_grad_norm_); the direction of the update is unchanged, only its length.
    """
    norm_type = float(norm_type)
    if not (norm_type > 0):
        raise ValueError(f"clip_grad_norm_: norm_type must be positive or inf, got {norm_type}")
    grads = _grads(parameters)
    if not grads:
        return Tensor(array_module().zeros(()))
    xp = array_module(*[g.data for g in grads], op="clip_grad_norm_")
    norms = xp.stack([_vector_norm(g.data, norm_type) for g in grads])
    total = xp.asarray(_vector_norm(norms, norm_type))     # NumPy reductions give scalars
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {float(total)}; pass error_if_nonfinite=False to clip anyway")
    # min(1, ...) computed on the device, so no transfer to the host is needed.
    coefficient = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for g in {id(g): g for g in grads}.values():      # a Tensor shared by two leaves: once
        g.data = g.data * coefficient.astype(g.dtype)
    return Tensor(total)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [-clip_value, clip_value]."""
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for g in _grads(parameters):
        g.data = array_module(g.data).clip(g.data, -clip_value, clip_value)


def _grads(parameters):
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for position, param in enumerate(parameters):
        if not isinstance(param, Tensor):
            raise TypeError(f"gradient clipping: parameter {position} is a "
                            f"{type(param).__name__}, expected a minicnn Tensor")
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(array, p):
    xp = array_module(array)
    magnitude = xp.abs(array)
    if math.isinf(p):
        return magnitude.max() if array.size else xp.zeros((), array.dtype)
    return (magnitude ** p).sum() ** (1.0 / p)
