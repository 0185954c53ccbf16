"""Fusing layers before quantization: Conv+BN(+ReLU), Conv+ReLU, Linear+ReLU.

A BatchNorm after a convolution is, at inference, a per-channel affine map with constants,
so it folds into the convolution's weight and bias (running statistics, eval mode):

    f[o] = gamma[o] / sqrt(running_var[o] + eps)
    W'[o] = W[o] * f[o]       b'[o] = (b[o] - running_mean[o]) * f[o] + beta[o]

and a ReLU after a layer becomes a clamp of that layer's int8 output at its zero point.
Each fused group then is one quantized layer: one rounding instead of three, and no BN
to run. `fuse_modules(model, [["features.0", "features.1"], ...])` does it by names, as in
PyTorch; `fusion_groups(model)` finds the groups of minicnn's models. For quantization-
aware training `fuse_modules_qat` keeps the BatchNorm (ConvBn2d), which then trains with
its batch statistics and the weight it scales fake-quantized (qat.py).
"""
import copy

import numpy

from ..nn import BatchNorm2d, Conv2d, Identity, Linear, Parameter, ReLU, Sequential


class ConvReLU2d(Sequential):
    """relu(conv(x)): children 0 (Conv2d) and 1 (ReLU)."""


class LinearReLU(Sequential):
    """relu(linear(x)): children 0 (Linear) and 1 (ReLU)."""


class ConvBn2d(Sequential):
    """bn(conv(x)) kept apart for quantization-aware training: children 0 and 1."""


class ConvBnReLU2d(Sequential):
    """relu(bn(conv(x))) kept apart for quantization-aware training: children 0, 1 and 2."""


PATTERNS = ((Conv2d, BatchNorm2d, ReLU), (Conv2d, BatchNorm2d), (Conv2d, ReLU), (Linear, ReLU))
_PATTERN_NAMES = "Conv2d+BatchNorm2d(+ReLU), Conv2d+ReLU, Linear+ReLU"


def folded_weight_and_bias(conv_weight, conv_bias, bn):
    """(W', b') as float arrays: the convolution with the BatchNorm `bn` folded in (formula above)."""
    factor = bn.weight.numpy() / numpy.sqrt(bn.running_var.numpy() + bn.eps)
    weight = conv_weight * factor.reshape(-1, 1, 1, 1).astype(conv_weight.dtype)
    bias = numpy.zeros_like(factor) if conv_bias is None else conv_bias
    return weight, ((bias - bn.running_mean.numpy()) * factor + bn.bias.numpy()).astype(conv_weight.dtype)


def fold_bn(conv, bn):
    """A new Conv2d computing bn(conv(x)) in eval mode, with a bias."""
    folded = copy.deepcopy(conv)
    weight, bias = folded_weight_and_bias(conv.weight.numpy(), None if conv.bias is None
                                          else conv.bias.numpy(), bn)
    folded.weight.data = weight
    folded.bias = Parameter(bias)
    return folded


def fuse_modules(model, groups, inplace=False):
    """Fuse each group of consecutive layers (dotted names, e.g. ["features.0", "features.1"])
    into one: Conv2d+BatchNorm2d(+ReLU) -> a Conv2d with the BN folded (+ ConvReLU2d),
    Conv2d+ReLU -> ConvReLU2d, Linear+ReLU -> LinearReLU. The fused layer takes the first
    name, the others become Identity. BatchNorms are folded with their running statistics,
    so the layers must be in eval mode. Every group is checked before anything changes."""
    return _fuse(model, groups, inplace, qat=False)


def fuse_modules_qat(model, groups, inplace=False):
    """As fuse_modules, for quantization-aware training: Conv2d+BatchNorm2d(+ReLU) become
    ConvBn2d (ConvBnReLU2d), keeping the BatchNorm; the model may be in training mode."""
    return _fuse(model, groups, inplace, qat=True)


def _fuse(model, groups, inplace, qat):
    op = "fuse_modules_qat" if qat else "fuse_modules"
    groups = [groups] if groups and isinstance(groups[0], str) else list(groups)
    if not inplace:
        model = copy.deepcopy(model)
    # Every group is built (and so checked) before the first one replaces anything.
    fused = [(names, _fused_group(op, [_submodule(op, model, name) for name in names], names, qat))
             for names in groups]
    for names, layer in fused:
        _replace(model, names[0], layer)
        for name in names[1:]:
            _replace(model, name, Identity())
    return model


def _fused_group(op, layers, names, qat):
    kinds = tuple(type(layer) for layer in layers)
    if kinds not in PATTERNS:
        raise ValueError(f"{op}: cannot fuse ({', '.join(k.__name__ for k in kinds)}) at {names}; "
                         f"the patterns are {_PATTERN_NAMES}")
    first = layers[0]
    if kinds[:2] == (Conv2d, BatchNorm2d):
        bn = layers[1]
        if bn.num_features != first.out_channels or not bn.track_running_stats or not bn.affine:
            raise ValueError(f"{op}: '{names[1]}' ({bn.describe()}) cannot be folded into "
                             f"'{names[0]}' ({first.describe()}): it needs {first.out_channels} "
                             "features, running statistics and affine=True")
        if qat:
            return (ConvBnReLU2d if len(layers) == 3 else ConvBn2d)(*layers)
        if first.training or bn.training:
            raise ValueError(f"{op}: folding '{names[1]}' into '{names[0]}' uses the running "
                             "statistics, so the model must be in eval mode (model.eval()); "
                             "for quantization-aware training use fuse_modules_qat")
        conv = fold_bn(first, bn)
        return ConvReLU2d(conv, layers[2]) if len(layers) == 3 else conv
    return (ConvReLU2d if kinds[0] is Conv2d else LinearReLU)(*layers)


def fusion_groups(model, prefix=""):
    """The groups fuse_modules should fuse in `model`: consecutive Conv2d, BatchNorm2d, ReLU
    (or Linear, ReLU) children of every Sequential, and the groups that a module lists
    itself with a `fusion_groups()` method (quantizable.py's ResNet blocks do)."""
    groups = []
    if hasattr(model, "fusion_groups") and not isinstance(model, Sequential):
        groups += [[prefix + name for name in group] for group in model.fusion_groups()]
    if isinstance(model, Sequential) and not isinstance(model, (ConvReLU2d, LinearReLU, ConvBn2d, ConvBnReLU2d)):
        names = list(model._modules)
        start = 0
        while start < len(names):
            for pattern in PATTERNS:
                window = names[start:start + len(pattern)]
                if tuple(type(model._modules[name]) for name in window) == pattern:
                    groups.append([prefix + name for name in window])
                    start += len(pattern)
                    break
            else:
                start += 1
    for name, child in model.named_children():
        groups += fusion_groups(child, f"{prefix}{name}.")
    return groups


def _submodule(op, model, name):
    try:
        return model.get_submodule(name)
    except AttributeError as error:
        raise ValueError(f"{op}: {error}") from None


def _replace(model, name, layer):
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent), child, layer)


def is_fused(module):
    return isinstance(module, (ConvReLU2d, LinearReLU, ConvBn2d, ConvBnReLU2d))


__all__ = ["ConvBn2d", "ConvBnReLU2d", "ConvReLU2d", "LinearReLU", "fold_bn", "fuse_modules",
           "fuse_modules_qat", "fusion_groups", "folded_weight_and_bias", "is_fused"]
