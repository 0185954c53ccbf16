"""Fused softmax + cross-entropy on the GPU (kernels/softmax_cross_entropy.cu).

logits (N, C), target (N,) int64, class_weight (C,) or None (all ones). Returns per-row losses
(already multiplied by the class weight, 0 where ignored) and the row log-sum-exp that the
backward pass reuses.
"""
from ..backend import array_module
from ..backend.cuda_kernels import get_kernel, int32, int64, launch


def softmax_cross_entropy_forward(logits, target, class_weight, ignore_index):
    cupy = array_module(logits)
    logits = cupy.ascontiguousarray(logits)
    rows, classes = logits.shape
    loss = cupy.empty(rows, dtype=logits.dtype)
    lse = cupy.empty(rows, dtype=logits.dtype)
    weight = _class_weight(cupy, class_weight, classes, logits.dtype)
    launch(get_kernel("softmax_cross_entropy", "softmax_cross_entropy_forward", logits.dtype),
           rows, logits, cupy.ascontiguousarray(target, dtype=cupy.int64), weight, loss, lse,
           int32(rows), int32(classes), int64(ignore_index))
    return loss, lse


def softmax_cross_entropy_backward(logits, target, class_weight, lse, grad_loss, ignore_index):
    """grad_loss (N,): dL/dloss_n, the reduction's scale included."""
    cupy = array_module(logits)
    logits = cupy.ascontiguousarray(logits)
    rows, classes = logits.shape
    grad_logits = cupy.empty_like(logits)
    weight = _class_weight(cupy, class_weight, classes, logits.dtype)
    launch(get_kernel("softmax_cross_entropy", "softmax_cross_entropy_backward", logits.dtype),
           logits.size, logits, cupy.ascontiguousarray(target, dtype=cupy.int64), weight, lse,
           cupy.ascontiguousarray(grad_loss, dtype=logits.dtype), grad_logits, int32(rows),
           int32(classes), int64(ignore_index))
    return grad_logits


def _class_weight(cupy, class_weight, classes, dtype):
    if class_weight is None:
        return cupy.ones(classes, dtype=dtype)
    return cupy.ascontiguousarray(class_weight, dtype=dtype)
