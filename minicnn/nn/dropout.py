"""Dropout layers (Srivastava et al. 2014): in training, zero each element (Dropout) or
each whole channel (Dropout2d) with probability p and scale the survivors by 1 / (1 - p),
so the expected value is unchanged and evaluation can use the identity."""
from .. import functional as F
from .module import Module, settings_repr


class Dropout(Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: p must be between 0 and 1, got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return settings_repr(self, "p")


class Dropout2d(Dropout):
    """Drops whole feature maps of (N, C, H, W) inputs: neighbouring pixels are strongly
    correlated, so dropping single pixels would hardly regularise a convolution."""

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training)
