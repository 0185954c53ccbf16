"""Detection losses beyond functional's cross_entropy, smooth_l1_loss and l1_loss.

    sigmoid_focal_loss(x, t, alpha=0.25, gamma=2)   RetinaNet's (Lin et al. 2017), as in
        torchvision: with p = sigmoid(x) and p_t = p t + (1 - p)(1 - t),

            FL = alpha_t (1 - p_t)^gamma BCE(x, t),    alpha_t = alpha t + (1 - alpha)(1 - t)

        (no alpha_t when alpha < 0). An easy negative (p_t near 1) weighs (1 - p_t)^2 of its
        cross-entropy, so the thousands of background anchors no longer drown the few
        objects; any shape, elementwise, reduction 'none' (default), 'mean' or 'sum'.
    prior_probability_bias(pi=0.01)   -log((1 - pi) / pi): the bias of the last
        classification layer such that every anchor starts with sigmoid = pi, so the
        background's loss does not swamp the first steps (RetinaNet, section 4.1).

How the detectors weigh their box regression (on BoxCoder codes) follows torchvision: SSD's
smooth L1 (beta 1) summed over positives, the RPN's and box head's smooth L1 (beta 1/9)
summed over positives; each divided by the number of positives (or of sampled anchors).
"""
import math

from .. import functional as F

__all__ = ["prior_probability_bias", "sigmoid_focal_loss"]


def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0, reduction="none"):
    """The focal loss of logits `inputs` against 0/1 (or soft) `targets` of the same shape."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"sigmoid_focal_loss: reduction must be 'none', 'mean' or 'sum', "
                         f"got {reduction!r}")
    p = F.sigmoid(inputs)
    cross_entropy = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = cross_entropy * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def prior_probability_bias(pi=0.01):
    """-log((1 - pi) / pi), the logit of pi (-4.595 for 0.01)."""
    if not 0 < pi < 1:
        raise ValueError(f"prior_probability_bias: pi must lie in (0, 1), got {pi}")
    return -math.log((1 - pi) / pi)
