"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm.

Each normalises x to zero mean and unit variance over some axes, then scales and shifts
with learned per-channel weight (gamma, initialised to 1) and bias (beta, initialised to 0):

    y = (x - mean) / sqrt(var + eps) * weight + bias

They differ in the axes the statistics are taken over: BatchNorm over the batch and
spatial axes (one mean per channel), LayerNorm over the trailing `normalized_shape` of each
sample, GroupNorm over groups of channels of each sample.
"""
import numpy

from .. import functional as F
from ..autograd import Tensor
from ..backend import get_default_dtype
from .checks import check_input, check_sizes
from .module import Module, settings_repr
from .parameter import Parameter


def _filled(shape, value, dtype=None):
    return numpy.full(shape, value, dtype=dtype or get_default_dtype())


class _BatchNorm(Module):
    """Batch statistics in training, running statistics in evaluation (Ioffe & Szegedy 2015).

    running_mean/running_var are buffers updated in training as
    running = (1 - momentum) * running + momentum * batch_statistic, with the unbiased
    batch variance, as PyTorch does; momentum=None uses the cumulative average
    1 / num_batches_tracked instead. Without track_running_stats, batch statistics are
    used in evaluation too.
    """
    input_patterns = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True):
        super().__init__()
        check_sizes(type(self).__name__, num_features=num_features)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(_filled(num_features, 1.0)) if affine else None
        self.bias = Parameter(_filled(num_features, 0.0)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(_filled(num_features, 0.0)))
            self.register_buffer("running_var", Tensor(_filled(num_features, 1.0)))
            self.register_buffer("num_batches_tracked", Tensor(numpy.array(0, dtype=numpy.int64)))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def forward(self, x):
        check_input(self, x, *self.input_patterns)
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if momentum is None:
                momentum = 1.0 / int(self.num_batches_tracked.data)
        use_batch_statistics = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch_statistics, momentum or 0.0, self.eps)

    def extra_repr(self):
        return settings_repr(self, positional=("num_features",), eps=1e-5, momentum=0.1,
                             affine=True, track_running_stats=True)


class BatchNorm1d(_BatchNorm):
    """Per-feature normalisation of (N, C) or (N, C, L) inputs."""

    @property
    def input_patterns(self):
        return ("N", self.num_features), ("N", self.num_features, "L")


class BatchNorm2d(_BatchNorm):
    """Per-channel normalisation of (N, C, H, W) images, statistics over N, H and W."""

    @property
    def input_patterns(self):
        return (("N", self.num_features, "H", "W"),)


class LayerNorm(Module):
    """Normalise each sample over its last len(normalized_shape) dimensions (Ba et al. 2016);
    the same computation in training and evaluation."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        check_sizes("LayerNorm", **{f"normalized_shape[{axis}]": size
                                    for axis, size in enumerate(shape)})
        self.normalized_shape, self.eps = tuple(shape), eps
        self.elementwise_affine = elementwise_affine
        self.weight = Parameter(_filled(self.normalized_shape, 1.0)) if elementwise_affine else None
        self.bias = (Parameter(_filled(self.normalized_shape, 0.0))
                     if elementwise_affine and bias else None)

    def forward(self, x):
        check_input(self, x, ("*",) + self.normalized_shape)
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return settings_repr(self, "eps", positional=("normalized_shape",),
                             elementwise_affine=True)


class GroupNorm(Module):
    """Normalise each sample over groups of num_channels / num_groups channels (Wu & He 2018);
    independent of the batch size, so it works for batches of one."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True):
        super().__init__()
        check_sizes("GroupNorm", num_groups=num_groups, num_channels=num_channels)
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} must be divisible by "
                             f"num_groups={num_groups}")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        self.weight = Parameter(_filled(num_channels, 1.0)) if affine else None
        self.bias = Parameter(_filled(num_channels, 0.0)) if affine else None

    def forward(self, x):
        check_input(self, x, ("N", self.num_channels, "*"))
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return settings_repr(self, "eps", positional=("num_groups", "num_channels"),
                             affine=True)
