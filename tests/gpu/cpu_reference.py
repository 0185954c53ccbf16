"""What each CUDA kernel of kernels/*.cu computes, on the CPU: the results the emulated
kernels are compared with, all in this one module.

Each function has the arguments and the result of one GPU wrapper in minicnn/gpu_kernels/
(NumPy arrays in, NumPy arrays out) and computes it with this branch's CPU path (the
stride-tricks im2col of cpu_kernels/im2col.py) or with a few lines of NumPy that follow
the formula in the kernel's comment. Once minicnn/cpu_kernels/reference/ exists, these
bodies can call it instead.
"""
import itertools
import math

import numpy

from minicnn.cpu_kernels import im2col as cpu_im2col


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

def _taps(window, o, size):
    """The input positions of window o along one axis that lie inside [0, size)."""
    start, count, step = window
    positions = start[o] + step * numpy.arange(count[o])
    return positions[(positions >= 0) & (positions < size)]


def _windows(rows, cols, height, width):
    """For each output (oh, ow): the flat input positions h * W + w of its window, row-major."""
    for oh, ow in itertools.product(range(len(rows[0])), range(len(cols[0]))):
        h, w = _taps(rows, oh, height), _taps(cols, ow, width)
        yield oh, ow, (h[:, None] * width + w[None, :]).ravel()


def max_pool(x, rows, cols):
    """(values, index): the window's maximum and its first flat position (a NaN wins)."""
    planes, height, width = x.shape
    values = numpy.empty((planes, len(rows[0]), len(cols[0])), dtype=x.dtype)
    index = numpy.empty(values.shape, dtype=numpy.int64)
    flat = x.reshape(planes, -1)
    for oh, ow, positions in _windows(rows, cols, height, width):
        best = numpy.argmax(flat[:, positions], axis=1)    # the first maximum, or the first NaN
        index[:, oh, ow] = positions[best]
        values[:, oh, ow] = flat[numpy.arange(planes), positions[best]]
    return values, index


def avg_pool(x, rows, cols, divisor):
    """The sum of the window's taps inside the input over divisor[oh, ow]."""
    planes, height, width = x.shape
    out = numpy.empty((planes, len(rows[0]), len(cols[0])), dtype=x.dtype)
    flat = x.reshape(planes, -1)
    for oh, ow, positions in _windows(rows, cols, height, width):
        out[:, oh, ow] = flat[:, positions].sum(axis=1) / x.dtype.type(divisor[oh, ow])
    return out


def avg_pool_backward(gy, rows, cols, divisor, in_size):
    """The adjoint of avg_pool: each tap gets gy / divisor of every window it is in."""
    planes = gy.shape[0]
    gx = numpy.zeros((planes, in_size[0] * in_size[1]), dtype=gy.dtype)
    for oh, ow, positions in _windows(rows, cols, *in_size):
        gx[:, positions] += (gy[:, oh, ow] / gy.dtype.type(divisor[oh, ow]))[:, None]
    return gx.reshape((planes,) + tuple(in_size))


def scatter_add(values, index, size):
    """out[p, index[p or 0, l]] += values[p, l]."""
    out = numpy.zeros((values.shape[0], size), dtype=values.dtype)
    rows = numpy.arange(values.shape[0])[:, None]
    numpy.add.at(out, (rows, numpy.broadcast_to(index, values.shape)), values)
    return out


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
