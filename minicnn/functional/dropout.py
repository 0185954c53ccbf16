"""Dropout (Srivastava et al. 2014): while training, zero each element with probability p.

The survivors are scaled by 1 / (1 - p) ("inverted" dropout), so every element keeps its
expected value and evaluation needs no rescaling: at eval time dropout is the identity.
The mask is drawn from minicnn's global generator, on the CPU even for GPU tensors, so
`minicnn.manual_seed(n)` reproduces it on either device.
"""
from ..autograd import Tensor, as_tensor
from ..backend import array_module
from ..backend.random import generator

__all__ = ["dropout", "dropout2d"]


def dropout(input, p=0.5, training=True):
    """y = x * m / (1 - p), m ~ Bernoulli(1 - p) for each element.   dL/dx = dL/dy * m / (1 - p).

    The scaled mask is a constant, so this is an ordinary multiplication and its gradient
    (and second derivative) comes from mul.
    """
    input = as_tensor(input)
    return _drop("dropout", input, p, training, input.shape)


def dropout2d(input, p=0.5, training=True):
    """Zero whole channels: one draw per (sample, channel) of an (N, C, H, W) input, or of
    (N, C, L) as PyTorch now reads 3-d input. Neighbouring pixels of a feature map are
    strongly correlated, so dropping single pixels would hardly regularise (Tompson et al. 2015).
    """
    input = as_tensor(input)
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected input of shape (N, C, H, W) or (N, C, L), got "
                         f"shape {input.shape}")
    return _drop("dropout2d", input, p, training, input.shape[:2] + (1,) * (input.ndim - 2))


def _drop(op, input, p, training, mask_shape):
    if not 0 <= p <= 1:
        raise ValueError(f"{op}: p must be a probability in [0, 1], got {p}")
    if not training or p == 0:
        return input
    kept = generator().random(mask_shape) >= p
    scale = 0.0 if p == 1 else 1 / (1 - p)
    mask = array_module(input.data).asarray((kept * scale).astype(input.dtype))
    return input * Tensor(mask)
