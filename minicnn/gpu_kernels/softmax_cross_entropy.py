"""Fused softmax + cross-entropy on the GPU (kernels/softmax_cross_entropy.cu).

logits and coefficients are (rows, classes) arrays of one dtype; see the kernel file for
the formulas. The forward pass returns the per-row losses and the two per-row values the
backward pass reuses: the log-sum-exp and the coefficient sum.
"""
from ..backend import array_module
from ..backend.cuda_kernels import get_kernel, int32, launch


def softmax_cross_entropy_forward(logits, coefficients):
    cupy = array_module(logits)
    logits, coefficients = cupy.ascontiguousarray(logits), cupy.ascontiguousarray(coefficients)
    rows, classes = logits.shape
    loss, lse, coefficient_sum = (cupy.empty(rows, dtype=logits.dtype) for _ in range(3))
    launch(get_kernel("softmax_cross_entropy", "softmax_cross_entropy_forward", logits.dtype),
           rows, logits, coefficients, loss, lse, coefficient_sum, int32(rows), int32(classes))
    return loss, lse, coefficient_sum


def softmax_cross_entropy_backward(logits, coefficients, lse, coefficient_sum, grad_loss):
    """grad_loss (rows,): dL/dloss_n -> dL/dlogits (rows, classes)."""
    cupy = array_module(logits)
    logits, coefficients = cupy.ascontiguousarray(logits), cupy.ascontiguousarray(coefficients)
    rows, classes = logits.shape
    grad_logits = cupy.empty_like(logits)
    launch(get_kernel("softmax_cross_entropy", "softmax_cross_entropy_backward", logits.dtype),
           logits.size, logits, coefficients, lse, coefficient_sum,
           cupy.ascontiguousarray(grad_loss, dtype=logits.dtype), grad_logits, int32(rows),
           int32(classes))
    return grad_logits
