"""Loss functions with PyTorch's arguments, values and gradients.

Every loss computes one value per element (or per sample) and then applies `reduction`:
'none' keeps them, 'sum' adds them up, 'mean' averages them (the weighted average for the
classification losses, see nll_loss). Most losses are compositions of differentiable ops,
so their gradients, second derivatives included, follow from those ops' backward.
"""
import math

import numpy

from ..autograd import Function, Tensor, as_tensor, is_grad_enabled
from ..autograd.tensor import as_array
from ..backend import array_module, is_cupy_array
from ..gpu_kernels.softmax_cross_entropy import (softmax_cross_entropy_backward,
                                                 softmax_cross_entropy_forward)
from .activation import log_softmax, softmax, softplus
from .shape import unsqueeze
from .elementwise import abs, clip, exp, log, log1p, maximum, where
from .reduce import mean, sum

__all__ = ["cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "smooth_l1_loss",
           "huber_loss", "kl_div",
           "dice_loss"]


# --- classification over C classes --------------------------------------------------------

class SoftmaxCrossEntropy(Function):
    """Softmax and cross-entropy fused, along `axis` of logits x (N, C, *) -> losses (N, *):

        l = -sum_c a_c log softmax(x)_c = logsumexp(x) * A - sum_c a_c x_c,   A = sum_c a_c

    with constant coefficients a (the one-hot target, smoothed and class-weighted; see
    _coefficients).   dl/dx_c = softmax(x)_c * A - a_c.
    Fusing the two avoids materialising log_softmax and keeps large logits stable: the
    log-sum-exp subtracts the row max. On the GPU, 2-d logits use the CUDA kernels of
    kernels/softmax_cross_entropy.cu.
    """

    saved = {"x": "x"}

    def __init__(self, coefficients, axis):
        self.coefficients, self.axis = coefficients, axis

    def forward(self, x):
        if is_cupy_array(x) and x.ndim == 2:
            loss, self.lse, self.coefficient_sum = softmax_cross_entropy_forward(x, self.coefficients)
            return loss
        xp = array_module(x)
        peak = x.max(axis=self.axis, keepdims=True)
        self.lse = peak + xp.log(xp.exp(x - peak).sum(axis=self.axis, keepdims=True))
        self.coefficient_sum = self.coefficients.sum(axis=self.axis, keepdims=True)
        dot = (self.coefficients * x).sum(axis=self.axis)
        return (self.lse * self.coefficient_sum).squeeze(self.axis) - dot

    def backward(self, gy):
        x = self.inputs[0]
        if not is_grad_enabled():
            # No graph to record (the usual backward): the formula in one pass over arrays,
            # with softmax(x) = exp(x - lse) from the forward's log-sum-exp.
            if is_cupy_array(x.data) and x.ndim == 2:
                return Tensor(softmax_cross_entropy_backward(x.data, self.coefficients, self.lse,
                                                             self.coefficient_sum, gy.data))
            xp = array_module(x.data)
            probabilities = xp.exp(x.data - self.lse)
            return Tensor((probabilities * self.coefficient_sum - self.coefficients)
                          * xp.expand_dims(gy.data, self.axis))
        coefficient_sum = Tensor(self.coefficient_sum.reshape(_keepdims_shape(x.shape, self.axis)))
        return ((softmax(x, dim=self.axis) * coefficient_sum - Tensor(self.coefficients))
                * unsqueeze(gy, self.axis))


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy of logits `input` against class indices or class probabilities.

    input (N, C) or (N, C, d1, ...) logits (or (C,) for one sample), p = softmax(input).
    target, as in PyTorch, is either
    - class indices: (N,) or (N, d1, ...) integers in [0, C) or ignore_index; a sample with
      target t has
          l = -(1 - eps) w_t log p_t - (eps / C) sum_c w_c log p_c,
      ignored samples count 0, and 'mean' divides the sum by sum of w_t over the samples
      not ignored;
    - class probabilities (e.g. MixUp's soft labels): floats shaped like input, >= 0 and
      summing to 1 over the classes; l = -sum_c w_c q_c log p_c with
      q = (1 - eps) target + eps / C, and 'mean' divides by the number of samples
      (N d1 ...), not by the weights.
    eps = label_smoothing, w = weight (ones by default).
    dL/dinput = softmax(input) * sum_c(a_c) - a, with a the coefficients of the loss
    l = -sum_c a_c log p_c; dL/dtarget = -(1 - eps) w log p when the target requires grad.
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    input = as_tensor(input)
    if _holds_probabilities(target):
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing)
    target = _class_targets("cross_entropy", input, target, ignore_index)
    coefficients, total_weight = _coefficients("cross_entropy", input, target, weight,
                                               ignore_index, label_smoothing)
    losses = SoftmaxCrossEntropy(coefficients, _class_axis(input))(input)
    return _reduce_classification("cross_entropy", losses, total_weight, reduction)


def _holds_probabilities(target):
    """Whether a cross_entropy target is class probabilities (floats), not indices."""
    dtype = target.dtype if hasattr(target, "dtype") else numpy.asarray(target).dtype
    return numpy.dtype(dtype).kind == "f"


def _cross_entropy_probabilities(input, target, weight, reduction, smoothing):
    """cross_entropy against class probabilities `target` shaped like `input`."""
    op = "cross_entropy"
    target = as_tensor(target, like=input)
    axis = _class_axis(input)
    _check_probabilities(op, input, target.data, axis)
    classes = input.shape[axis]
    class_weight = _class_weight(op, weight, classes, input.data).reshape(
        _keepdims_shape([1] * input.ndim, axis, classes))
    samples = array_module(input.data).asarray(input.numel() // classes, dtype=input.dtype)
    if target.requires_grad:
        # The loss is also a function of the target: build it from differentiable ops.
        smoothed = target * (1 - smoothing) + smoothing / classes
        losses = -sum(smoothed * Tensor(class_weight) * log_softmax(input, dim=axis), axis=axis)
    else:
        coefficients = ((1 - smoothing) * target.data + smoothing / classes) * class_weight
        losses = SoftmaxCrossEntropy(coefficients.astype(input.dtype), axis)(input)
    return _reduce_classification(op, losses, samples, reduction)


def _check_probabilities(op, input, target, axis):
    """`target` must have input's shape, hold values >= 0, and sum to 1 over the classes
    (within 1e-3, room for float32 rounding but not for a missing class)."""
    if input.ndim == 0:
        raise ValueError(f"{op}: 'input' must have a class dimension, got a 0-d tensor")
    if tuple(target.shape) != input.shape:
        indices_shape = input.shape[:axis] + input.shape[axis + 1:]
        raise ValueError(f"{op}: 'target' must be class indices (integers) of shape "
                         f"{indices_shape} or class probabilities (floats) of shape "
                         f"{input.shape} like 'input', got {target.dtype} of shape "
                         f"{tuple(target.shape)}")
    xp = array_module(target)
    sums = target.sum(axis=axis)
    wrong = (xp.abs(sums - 1) > 1e-3) | (target < 0).any(axis=axis)
    if bool(wrong.any()):
        position = numpy.unravel_index(int(xp.argmax(wrong.ravel())), wrong.shape)
        where_in_batch = position[0] if len(position) == 1 else tuple(int(i) for i in position)
        raise ValueError(f"{op}: 'target' of class probabilities must be >= 0 and sum to 1 over "
                         f"the {input.shape[axis]} classes; sample {where_in_batch} sums to "
                         f"{float(sums[position]):.6g} with smallest value "
                         f"{float(target.min(axis=axis)[position]):.6g}")


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities `input` (e.g. from log_softmax).

    Shapes as cross_entropy; l = -w_t input[t], 0 for ignored samples; 'mean' divides the
    sum by sum of w_t over the samples not ignored.   dL/dinput[c] = -w_t [c = t] dL/dl.
    The loss is linear in input, l = -sum_c a_c input_c, so it needs no Function of its own.
    """
    input = as_tensor(input)
    target = _class_targets("nll_loss", input, target, ignore_index)
    coefficients, total_weight = _coefficients("nll_loss", input, target, weight, ignore_index, 0.0)
    losses = -sum(input * Tensor(coefficients), axis=_class_axis(input))
    return _reduce_classification("nll_loss", losses, total_weight, reduction)


def _coefficients(op, input, target, weight, ignore_index, smoothing):
    """The constant coefficients a of l = -sum_c a_c log p_c, shaped like input:

        a_c = ((1 - eps) [c = t] + eps / C) w_c    (all 0 for an ignored sample),

    the one-hot target, smoothed and weighted; and the total weight sum of w_t over the
    counted samples, which 'mean' divides by.
    """
    xp = array_module(input.data)
    axis = _class_axis(input)
    classes = input.shape[axis]
    class_shape = _keepdims_shape([1] * input.ndim, axis, classes)
    class_weight = _class_weight(op, weight, classes, input.data).reshape(class_shape)
    kept = xp.expand_dims(target != ignore_index, axis)
    one_hot = xp.expand_dims(target, axis) == xp.arange(classes).reshape(class_shape)
    target_weight = one_hot * kept * class_weight
    coefficients = (1 - smoothing) * target_weight + (smoothing / classes) * (kept * class_weight)
    return coefficients.astype(input.dtype), target_weight.sum().astype(input.dtype)


def _reduce_classification(op, losses, total_weight, reduction):
    if _reduction(op, reduction) == "mean":
        # PyTorch's weighted mean: divide by the total weight of the counted targets.
        return sum(losses) / Tensor(total_weight)
    return _reduce(op, losses, reduction)


def _keepdims_shape(shape, axis, size=1):
    shape = list(shape)
    shape[axis] = size
    return tuple(shape)


def _class_axis(input):
    return 0 if input.ndim == 1 else 1


def _class_targets(op, input, target, ignore_index):
    """`target` as an integer array, checked against `input`'s shape and number of classes."""
    if input.ndim == 0:
        raise ValueError(f"{op}: 'input' must have a class dimension, got a 0-d tensor")
    target = as_array(target, like=input.data)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: 'target' must be an integer tensor of class indices, got dtype "
                        f"{target.dtype}")
    axis = _class_axis(input)
    classes = input.shape[axis]
    expected = input.shape[:axis] + input.shape[axis + 1:]
    if tuple(target.shape) != expected:
        raise ValueError(f"{op}: 'target' of shape {tuple(target.shape)} does not match 'input' "
                         f"of shape {input.shape} (expected target shape {expected})")
    xp = array_module(target)
    wrong = (target != ignore_index) & ((target < 0) | (target >= classes))
    if bool(wrong.any()):
        position = numpy.unravel_index(int(xp.argmax(wrong.ravel())), target.shape)
        where_in_batch = position[0] if len(position) == 1 else tuple(int(i) for i in position)
        raise ValueError(f"{op}: target {int(target[position])} is out of range for {classes} "
                         f"classes (target index {where_in_batch} in the batch)")
    return target


def _class_weight(op, weight, classes, like):
    xp = array_module(like)
    if weight is None:
        return xp.ones(classes, dtype=like.dtype)
    weight = as_array(weight, like=like)
    if tuple(weight.shape) != (classes,):
        raise ValueError(f"{op}: 'weight' must hold one value per class, shape ({classes},), "
                         f"got shape {tuple(weight.shape)}")
    return weight.astype(like.dtype)


# --- binary classification --------------------------------------------------------------------

class BinaryCrossEntropy(Function):
    """l = -(t log(x) + (1 - t) log(1 - x)) for probabilities x, each log clamped to >= -100
    as in PyTorch, so x = 0 or 1 costs 100 instead of infinity.

    dL/dx = dL/dl * (x - t) / max(x (1 - x), 1e-12)   (PyTorch's guard against x in {0, 1})
    dL/dt = dL/dl * (log(1 - x) - log(x))             (computed only if needed)
    The logs in dL/dt are clamped too, so it is the derivative of the clamped loss and stays
    finite at x in {0, 1}, where PyTorch's is +-inf.
    """

    saved = {"x": ("x", "t"), "t": "x"}

    def forward(self, x, t):
        xp = array_module(x)
        with numpy.errstate(divide="ignore"):   # log(0) = -inf is clamped just below
            log_x, log_1mx = xp.log(x), xp.log1p(-x)
        return -(t * xp.maximum(log_x, -100) + (1 - t) * xp.maximum(log_1mx, -100))

    def backward(self, gy):
        x, t = self.inputs
        gx = gy * (x - t) / maximum(x * (1 - x), 1e-12)
        if not t.requires_grad:
            return gx, None
        with numpy.errstate(divide="ignore"):
            return gx, gy * (clip(log1p(-x), min=-100) - clip(log(x), min=-100))


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """Cross-entropy of probabilities `input` in [0, 1] against targets in [0, 1], any shape;
    `weight` multiplies each element's loss (broadcast). See BinaryCrossEntropy."""
    input, target = _same_shape("binary_cross_entropy", input, target)
    low, high = (float(input.data.min()), float(input.data.max())) if input.numel() else (0, 1)
    if low < 0 or high > 1:
        raise ValueError(f"binary_cross_entropy: 'input' must hold probabilities in [0, 1], got "
                         f"values from {low:.4g} to {high:.4g}; apply sigmoid first or use "
                         "binary_cross_entropy_with_logits")
    losses = BinaryCrossEntropy()(input, target)
    return _reduce("binary_cross_entropy", _weighted(losses, weight), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target), computed stably from the logits x:

        l = (1 - t) x + (1 + (p - 1) t) softplus(-x),    p = pos_weight (1 by default),

    since -log sigmoid(x) = softplus(-x) and -log(1 - sigmoid(x)) = x + softplus(-x).
    softplus never overflows, so logits of +-1000 give finite losses and gradients.
    pos_weight broadcasts against the last axis (one weight per class), as in PyTorch.
    """
    input, target = _same_shape("binary_cross_entropy_with_logits", input, target)
    negative_log_sigmoid = softplus(-input, threshold=math.inf)
    if pos_weight is not None:
        negative_log_sigmoid = ((as_tensor(pos_weight, like=input) - 1) * target + 1) * negative_log_sigmoid
    losses = (1 - target) * input + negative_log_sigmoid
    return _reduce("binary_cross_entropy_with_logits", _weighted(losses, weight), reduction)


def _weighted(losses, weight):
    return losses if weight is None else losses * as_tensor(weight, like=losses)


# --- regression ---------------------------------------------------------------------------------

def mse_loss(input, target, reduction="mean"):
    """l = (x - t)^2.   dL/dx = 2 (x - t) dL/dl,  dL/dt = -dL/dx."""
    input, target = _same_shape("mse_loss", input, target)
    difference = input - target
    return _reduce("mse_loss", difference * difference, reduction)


def l1_loss(input, target, reduction="mean"):
    """l = |x - t|.   dL/dx = sign(x - t) dL/dl (0 where x = t, as PyTorch)."""
    input, target = _same_shape("l1_loss", input, target)
    return _reduce("l1_loss", abs(input - target), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """l = 0.5 d^2 / beta where |d| < beta, else |d| - beta / 2, d = x - t (Girshick 2015).

    Quadratic near zero, like L1 far away; beta = 0 is the L1 loss. Equals huber / beta.
    """
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    input, target = _same_shape("smooth_l1_loss", input, target)
    return _reduce("smooth_l1_loss", _huber(input - target, beta) / beta, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """l = 0.5 d^2 where |d| < delta, else delta (|d| - delta / 2), d = x - t (Huber 1964)."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    input, target = _same_shape("huber_loss", input, target)
    return _reduce("huber_loss", _huber(input - target, delta), reduction)


def _huber(difference, delta):
    size = abs(difference)
    return where(size.data < delta, difference * difference * 0.5, (size - delta * 0.5) * delta)


# --- distributions ---------------------------------------------------------------------------------

def kl_div(input, target, reduction="mean", log_target=False):
    """Kullback-Leibler divergence KL(target || q) with input = log q, pointwise:

        l = t (log t - input)            (0 where t = 0, since t log t -> 0)
        l = exp(t) (t - input)           with log_target=True (target given as log t).

    reduction='batchmean' divides the sum by the batch size input.shape[0], which is the
    true KL divergence per sample; 'mean' divides by the number of elements, as PyTorch.
    dL/dinput = -t dL/dl  (-exp(t) dL/dl with log_target).
    """
    input, target = _same_shape("kl_div", input, target)
    if log_target:
        losses = exp(target) * (target - input)
    else:
        positive = target.data > 0
        # t * (log t - input) vanishes at t = 0; log(1) there keeps the log finite.
        losses = target * (log(where(positive, target, 1.0)) - input)
    if _reduction("kl_div", reduction, batchmean=True) == "batchmean":
        return sum(losses) / (input.shape[0] if input.ndim else 1)
    return _reduce("kl_div", losses, reduction)


# --- segmentation --------------------------------------------------------------------------------

def dice_loss(input, target, smooth=1.0, ignore_index=-100, reduction="mean"):
    """Soft Dice loss of logits `input` (N, C, *) against class indices `target` (N, *).

    With p = softmax(input) over the C classes, t the one-hot target, and sums over the
    pixels of one sample (pixels whose target is ignore_index left out):

        D[n, c] = (2 sum p t + s) / (sum p + sum t + s),        l[n, c] = 1 - D[n, c]

    The Dice coefficient 2|P n T| / (|P| + |T|) (Dice 1945) with probabilities in place of
    0/1 predictions: at 0/1 probabilities 1 - l is exactly the per-class dice_score. It
    weighs each class by its overlap rather than by its pixel count, so a small object
    counts as much as a large background (Milletari et al. 2016, "V-Net", who square the
    sums of the denominator). smooth = s > 0 keeps a class that is absent from both the
    target and the prediction defined: D = s / (sum p + s), which tends to 1 as the
    prediction empties (never 0 / 0).
    reduction: 'none' gives (N, C), 'mean' averages over samples and classes, 'sum' adds.
    dL/dp = dL/dl * (D - 2 t) / (sum p + sum t + s); the gradient w.r.t. the logits follows
    through softmax's backward.
    """
    if not smooth > 0:
        raise ValueError(f"dice_loss: smooth must be > 0 (it defines the loss of a class absent "
                         f"from both target and prediction), got {smooth}")
    input = as_tensor(input)
    if input.ndim < 2:
        raise ValueError(f"dice_loss: 'input' must be logits (N, C, *), got shape {input.shape}")
    target = _class_targets("dice_loss", input, target, ignore_index)
    xp = array_module(input.data)
    class_shape = _keepdims_shape([1] * input.ndim, 1, input.shape[1])
    kept = xp.expand_dims(target != ignore_index, 1).astype(input.dtype)
    one_hot = xp.expand_dims(target, 1) == xp.arange(input.shape[1]).reshape(class_shape)
    pixels = tuple(range(2, input.ndim))
    probabilities = softmax(input, dim=1) * Tensor(kept)
    overlap = sum(probabilities * Tensor(one_hot.astype(input.dtype)), axis=pixels)
    total = sum(probabilities, axis=pixels) + Tensor(one_hot.sum(axis=pixels).astype(input.dtype))
    losses = 1 - (2 * overlap + smooth) / (total + smooth)
    return _reduce("dice_loss", losses, reduction)


# --- shared ----------------------------------------------------------------------------------------

def _same_shape(op, input, target):
    input = as_tensor(input)
    target = as_tensor(target, like=input)
    if input.shape != target.shape:
        raise ValueError(f"{op}: 'input' and 'target' must have the same shape, got input "
                         f"{input.shape} and target {target.shape}")
    return input, target


def _reduction(op, reduction, batchmean=False):
    """`reduction`, checked: 'mean', 'sum', 'none' (and 'batchmean' where that exists)."""
    choices = ("mean", "sum", "none") + (("batchmean",) if batchmean else ())
    if reduction not in choices:
        raise ValueError(f"{op}: reduction must be one of {', '.join(map(repr, choices))}, "
                         f"got {reduction!r}")
    return reduction


def _reduce(op, losses, reduction):
    reduction = _reduction(op, reduction)
    if reduction == "none":
        return losses
    return sum(losses) if reduction == "sum" else mean(losses)
