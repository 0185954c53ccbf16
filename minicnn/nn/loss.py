"""Loss functions as modules (nn.CrossEntropyLoss and friends), for code written the
PyTorch way: `criterion = nn.CrossEntropyLoss(); loss = criterion(logits, target)`.

Each stores its settings and calls the functional op of the same name (functional/loss.py
holds the formulas and gradients). A per-class `weight` or `pos_weight` tensor is a buffer,
so `criterion.to("cuda")` moves it with the module.
"""
from .. import functional as F
from ..autograd import Tensor
from .module import Module, settings_repr


class _Loss(Module):
    function = None     # the functional op, called as function(input, target, **settings)

    def __init__(self, **settings):
        super().__init__()
        self.setting_names = tuple(settings)
        for name, value in settings.items():
            if isinstance(value, Tensor):
                self.register_buffer(name, value)
            else:
                setattr(self, name, value)

    def forward(self, input, target):
        settings = {name: getattr(self, name) for name in self.setting_names}
        return type(self).function(input, target, **settings)

    def extra_repr(self):
        shown = [name for name in self.setting_names if not isinstance(getattr(self, name), Tensor)]
        return settings_repr(self, *shown)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) against class indices (N,)."""
    function = staticmethod(F.cross_entropy)

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight=weight, ignore_index=ignore_index, reduction=reduction,
                         label_smoothing=label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (N, C) against class indices (N,)."""
    function = staticmethod(F.nll_loss)

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight=weight, ignore_index=ignore_index, reduction=reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in (0, 1) against targets in [0, 1]."""
    function = staticmethod(F.binary_cross_entropy)

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(weight=weight, reduction=reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits, computed stably without forming sigmoid(x)."""
    function = staticmethod(F.binary_cross_entropy_with_logits)

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight=weight, reduction=reduction, pos_weight=pos_weight)


class MSELoss(_Loss):
    """Mean squared error (input - target)^2."""
    function = staticmethod(F.mse_loss)

    def __init__(self, reduction="mean"):
        super().__init__(reduction=reduction)


class L1Loss(_Loss):
    """Mean absolute error |input - target|."""
    function = staticmethod(F.l1_loss)

    def __init__(self, reduction="mean"):
        super().__init__(reduction=reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below beta, linear above (Fast R-CNN's box regression loss)."""
    function = staticmethod(F.smooth_l1_loss)

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction=reduction, beta=beta)


class HuberLoss(_Loss):
    """Quadratic below delta, linear above; equals delta * SmoothL1Loss(beta=delta)."""
    function = staticmethod(F.huber_loss)

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction, delta=delta)


class KLDivLoss(_Loss):
    """KL divergence of `target` from the log-probabilities `input`."""
    function = staticmethod(F.kl_div)

    def __init__(self, reduction="mean", log_target=False):
        super().__init__(reduction=reduction, log_target=log_target)
