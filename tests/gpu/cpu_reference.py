"""What each CUDA kernel of kernels/*.cu computes, on the CPU: the results the emulated
kernels are compared with, all in this one module.

Each function has the arguments and the result of one GPU wrapper in minicnn/gpu_kernels/
(NumPy arrays in, NumPy arrays out) and computes it with the plain NumPy twins of
minicnn/cpu_kernels/reference/ (pooling, and the whole convolutions in `conv`), the
stride-tricks im2col of cpu_kernels/im2col.py (a layout, not arithmetic), or a few lines of
NumPy that follow the formula in the kernel's comment.
"""
import math

import numpy

from minicnn.cpu_kernels import im2col as cpu_im2col
from minicnn.cpu_kernels.reference import conv, pool as reference_pool


# --- im2col.cu ------------------------------------------------------------------------------

def im2col(x, geometry):
    """(N, C, H, W) -> (N, C * kernel_h * kernel_w, out_h * out_w), zeros outside the input."""
    windows = cpu_im2col.im2col(x, geometry)           # (C, kh, kw, N, out_h, out_w)
    batch = x.shape[0]
    return windows.transpose(3, 0, 1, 2, 4, 5).reshape(batch, -1, windows.shape[4] * windows.shape[5])


def col2im(col, geometry, batch, channels):
    """The adjoint of im2col: every input pixel sums the entries it was copied into."""
    (kernel_h, kernel_w), (out_h, out_w) = geometry.kernel, geometry.out_size
    windows = col.reshape(batch, channels, kernel_h, kernel_w, out_h, out_w).transpose(1, 2, 3, 0, 4, 5)
    return cpu_im2col.col2im(numpy.ascontiguousarray(windows), geometry, batch)


# --- pool.cu: windows (start, count, step) along each axis, see cpu_kernels/pool_numba.py ----
# The plain twins in cpu_kernels/reference/pool.py take the wrappers' arguments as they are.

max_pool, avg_pool = reference_pool.max_pool, reference_pool.avg_pool
avg_pool_backward, scatter_add = reference_pool.avg_pool_backward, reference_pool.scatter_add


# --- batch_norm.cu ---------------------------------------------------------------------------

def _channel_axes(x):
    return (0,) + tuple(range(2, x.ndim))


def batch_norm_stats(x):
    """Per-channel mean and biased variance of x (N, C, *)."""
    return x.mean(axis=_channel_axes(x)), x.var(axis=_channel_axes(x))


def batch_norm_backward(gy, x, mean, invstd, weight):
    """(dx, sum of gy * x_hat, sum of gy) of y = (x - mean) * invstd * weight + bias."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    weight = numpy.ones_like(mean) if weight is None else weight
    x_hat = (x - mean.reshape(shape)) * invstd.reshape(shape)
    sum_gy = gy.sum(axis=_channel_axes(x))
    sum_gy_xhat = (gy * x_hat).sum(axis=_channel_axes(x))
    count = x.size // x.shape[1]
    gx = (weight * invstd).reshape(shape) * (gy - sum_gy.reshape(shape) / count
                                             - x_hat * sum_gy_xhat.reshape(shape) / count)
    return gx, sum_gy_xhat, sum_gy


# --- softmax_cross_entropy.cu ----------------------------------------------------------------

def softmax_cross_entropy_forward(logits, coefficients):
    """(loss, log-sum-exp, coefficient sum) per row."""
    peak = logits.max(axis=1, keepdims=True)
    lse = (peak + numpy.log(numpy.exp(logits - peak).sum(axis=1, keepdims=True)))[:, 0]
    total = coefficients.sum(axis=1)
    return lse * total - (coefficients * logits).sum(axis=1), lse, total


def softmax_cross_entropy_backward(logits, coefficients, lse, coefficient_sum, grad_loss):
    softmax = numpy.exp(logits - lse[:, None])
    return grad_loss[:, None] * (softmax * coefficient_sum[:, None] - coefficients)


# --- optim.cu: torch.optim's formulas --------------------------------------------------------

def sgd_momentum_update(param, grad, buf, lr, momentum, dampening, weight_decay, nesterov,
                        first_step):
    """The updated (param, buf)."""
    g = grad + weight_decay * param
    b = g if first_step else momentum * buf + (1 - dampening) * g
    return param - lr * (g + momentum * b if nesterov else b), b


def adam_update(param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay,
                decoupled_weight_decay):
    """The updated (param, exp_avg, exp_avg_sq)."""
    if decoupled_weight_decay:
        param, grad = param * (1 - lr * weight_decay), grad
    else:
        grad = grad + weight_decay * param
    m = beta1 * exp_avg + (1 - beta1) * grad
    v = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    denominator = numpy.sqrt(v) / math.sqrt(1 - beta2 ** step) + eps
    return param - lr / (1 - beta1 ** step) * m / denominator, m, v
