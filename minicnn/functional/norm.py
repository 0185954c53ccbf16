"""Normalisation: batch_norm, layer_norm, group_norm.

All three standardise the input over some axes, x_hat = (x - mean) / sqrt(var + eps), and
then scale and shift it per channel or feature: y = x_hat * weight + bias. Only the axes
differ:

    batch_norm   (N, C, *)  over the batch and the spatial axes: one mean per channel
    layer_norm   (*, D...)  over the trailing normalized_shape: one mean per sample
    group_norm   (N, C, *)  over each group of C / G channels and the spatial axes

so one Function, Normalize, serves all three, and the affine part is broadcasting arithmetic.
"""
import math

from ..autograd import Function, Tensor, as_tensor, is_grad_enabled
from ..backend import array_module, is_cupy_array
from ..gpu_kernels.batch_norm import batch_norm_backward, batch_norm_stats
from .reduce import mean
from .shape import reshape

__all__ = ["batch_norm", "layer_norm", "group_norm"]


class Normalize(Function):
    """x_hat = (x - mean) / sqrt(var + eps), mean and biased var over `axes` of x.

    dL/dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps),   g = dL/dx_hat,
    means over `axes`: the plain gradient minus its projections on the two directions
    (constant shift, rescaling) that the normalisation removes. Output shape = x's shape.
    On the GPU, batch norm's per-channel statistics and its backward use the CUDA kernels
    of kernels/batch_norm.cu.
    """

    saved = {"x": ("x", "y")}

    def __init__(self, axes, eps):
        self.axes, self.eps = tuple(axes), eps

    def forward(self, x):
        xp = array_module(x)
        if self._gpu_channels(x):
            shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
            mean_, var = batch_norm_stats(x)
            self.mean, self.var = mean_.reshape(shape), var.reshape(shape)
        else:
            self.mean = x.mean(axis=self.axes, keepdims=True)
            centred = x - self.mean
            self.var = (centred * centred).mean(axis=self.axes, keepdims=True)
        self.inv_std = 1 / xp.sqrt(self.var + self.eps)
        return (x - self.mean) * self.inv_std

    def _gpu_channels(self, x):
        """Batch norm's layout (statistics over every axis but 1) of a CuPy array."""
        return is_cupy_array(x) and self.axes == (0,) + tuple(range(2, x.ndim))

    def backward(self, gy):
        x = self.inputs[0]
        if self._gpu_channels(x.data) and not is_grad_enabled():
            gx, _, _ = batch_norm_backward(gy.data, x.data, self.mean.ravel(), self.inv_std.ravel(), None)
            return Tensor(gx)
        x_hat, inv_std = self.outputs[0], self._inv_std()
        centred_gy = gy - mean(gy, axis=self.axes, keepdims=True)
        return inv_std * (centred_gy - x_hat * mean(gy * x_hat, axis=self.axes, keepdims=True))

    def _inv_std(self):
        """1 / sqrt(var + eps) as a Tensor. When this backward is itself recorded
        (create_graph=True) it must be a differentiable function of x for second derivatives
        to be right, so it is recomputed from the input; otherwise the saved array serves."""
        if not is_grad_enabled():
            return Tensor(self.inv_std)
        x = self.inputs[0]
        centred = x - mean(x, axis=self.axes, keepdims=True)
        return (mean(centred * centred, axis=self.axes, keepdims=True) + self.eps) ** -0.5


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation (Ioffe & Szegedy 2015) of input (N, C), (N, C, L) or (N, C, H, W).

    training=True: normalise with the batch's own per-channel mean and biased variance, and
    update the running statistics in place as PyTorch does,
        running_mean = (1 - momentum) running_mean + momentum mean
        running_var  = (1 - momentum) running_var  + momentum var * n / (n - 1)   (unbiased),
    n = N * L (values per channel); either may be None to skip it.
    training=False: normalise with running_mean and running_var (constants).
    weight and bias (C,) scale and shift each channel. Running statistics are plain
    Tensors or arrays of shape (C,) and get no gradient.
    """
    input = as_tensor(input)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C), (N, C, L) or "
                         f"(N, C, H, W), got shape {input.shape}")
    channels = input.shape[1]
    broadcast_shape = (1, channels) + (1,) * (input.ndim - 2)
    for name, statistic in (("running_mean", running_mean), ("running_var", running_var)):
        if statistic is not None and tuple(statistic.shape) != (channels,):
            raise ValueError(f"batch_norm: '{name}' must have shape ({channels},) for input of "
                             f"shape {input.shape}, got {tuple(statistic.shape)}")
    if training:
        count = input.numel() // channels
        if count < 2:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {input.shape}")
        normalize = Normalize((0,) + tuple(range(2, input.ndim)), eps)
        x_hat = normalize(input)
        _update_running("batch_norm", running_mean, normalize.mean, momentum)
        _update_running("batch_norm", running_var, normalize.var * (count / (count - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: training=False needs 'running_mean' and 'running_var'; "
                             "pass training=True to normalise with the batch's statistics")
        xp = array_module(input.data)
        mean_ = _array(running_mean).astype(input.dtype).reshape(broadcast_shape)
        var = _array(running_var).astype(input.dtype).reshape(broadcast_shape)
        x_hat = (input - Tensor(mean_)) * Tensor(1 / xp.sqrt(var + eps))
    return _affine("batch_norm", x_hat, weight, bias, (channels,), broadcast_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation (Ba et al. 2016) over the trailing axes given by normalized_shape.

    weight and bias have shape normalized_shape (one value per normalised element).
    """
    input = as_tensor(input)
    normalized_shape = ((normalized_shape,) if isinstance(normalized_shape, int)
                        else tuple(normalized_shape))
    count = len(normalized_shape)
    if count == 0 or count > input.ndim or input.shape[input.ndim - count:] != normalized_shape:
        raise ValueError(f"layer_norm: input of shape {input.shape} does not end with "
                         f"normalized_shape {normalized_shape}")
    x_hat = Normalize(range(input.ndim - count, input.ndim), eps)(input)
    return _affine("layer_norm", x_hat, weight, bias, normalized_shape, normalized_shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation (Wu & He 2018) of input (N, C, *) over groups of C / num_groups
    channels; weight and bias (C,) scale and shift each channel."""
    input = as_tensor(input)
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected input of shape (N, C, *), got shape {input.shape}")
    batch, channels = input.shape[:2]
    if num_groups < 1 or channels % num_groups:
        raise ValueError(f"group_norm: {channels} channels cannot be split into {num_groups} "
                         f"groups of equal size (input shape {input.shape})")
    grouped = reshape(input, (batch, num_groups, math.prod(input.shape[1:]) // num_groups))
    x_hat = reshape(Normalize((2,), eps)(grouped), input.shape)
    return _affine("group_norm", x_hat, weight, bias, (channels,),
                   (1, channels) + (1,) * (input.ndim - 2))


def _affine(op, x_hat, weight, bias, parameter_shape, broadcast_shape):
    """y = x_hat * weight + bias, the (optional) parameters reshaped to broadcast over x_hat."""
    for name, parameter in (("weight", weight), ("bias", bias)):
        if parameter is not None and tuple(parameter.shape) != tuple(parameter_shape):
            raise ValueError(f"{op}: '{name}' must have shape {tuple(parameter_shape)}, got "
                             f"{tuple(parameter.shape)}")
    y = x_hat
    if weight is not None:
        y = y * reshape(as_tensor(weight, like=x_hat), broadcast_shape)
    if bias is not None:
        y = y + reshape(as_tensor(bias, like=x_hat), broadcast_shape)
    return y


def _update_running(op, running, batch_value, momentum):
    if running is None:
        return
    array = _array(running)
    array[...] = (1 - momentum) * array + momentum * batch_value.reshape(array.shape)


def _array(statistic):
    return statistic.data if isinstance(statistic, Tensor) else statistic
