"""The two ends of a backbone that change with the task: the classification head (a new
number of classes) and the first convolution (a new number of input channels)."""
import numpy

from .. import nn
from .layers import layer, layer_names


def find_head(model):
    """The dotted name of the model's classification head: its last Linear layer."""
    heads = [name for name in layer_names(model)
             if isinstance(model.get_submodule(name), nn.Linear)]
    if not heads:
        raise ValueError(f"find_head: {type(model).__name__} has no Linear layer to serve as "
                         "its classification head; name the head's layer instead")
    return heads[-1]


def _check_positive_integer(function, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)) or value < 1:
        raise ValueError(f"{function}: {name} must be a positive integer, got {value!r}")


def replace_head(model, num_classes, head=None):
    """Replace the head (the Linear layer named `head`, by default the last one) with a new,
    randomly initialised Linear of the same inputs and `num_classes` outputs, on the same
    device and dtype; returns the new head. Its weights come from minicnn's generator."""
    _check_positive_integer("replace_head", "num_classes", num_classes)
    name = find_head(model) if head is None else head
    old = layer(model, name, "replace_head")
    if not isinstance(old, nn.Linear):
        raise ValueError(f"replace_head: the head {name!r} must be a Linear layer, got "
                         f"{old.describe()}")
    new = nn.Linear(old.in_features, int(num_classes), bias=old.bias is not None)
    parent_name, _, child = name.rpartition(".")
    # Module.__setattr__ replaces the old head where it stands (in a Sequential too).
    setattr(model.get_submodule(parent_name), child, new.to(old.weight.device, old.weight.dtype))
    return new


def adapt_input_channels(model, in_channels):
    """Make the first convolution read `in_channels` channels: each new channel of a filter
    is the sum of its old channels divided by `in_channels`. On a gray image repeated into
    every channel the layer then computes what it did on the same gray image repeated into its
    old channels (timm's adapt_input_conv does this for RGB weights on gray images). Returns
    the layer's name. Nothing changes when it already reads `in_channels`."""
    _check_positive_integer("adapt_input_channels", "in_channels", in_channels)
    name = next((name for name in layer_names(model)
                 if isinstance(model.get_submodule(name), nn.Conv2d)), None)
    if name is None:
        raise ValueError(f"adapt_input_channels: {type(model).__name__} has no Conv2d layer")
    conv = model.get_submodule(name)
    if conv.groups != 1:
        raise ValueError(f"adapt_input_channels: the first convolution {name!r} has groups="
                         f"{conv.groups}; only groups=1 can change its input channels")
    if conv.in_channels == in_channels:
        return name
    weight = conv.weight.data
    summed = weight.sum(axis=1, keepdims=True) / in_channels
    conv.weight = nn.Parameter(summed.repeat(in_channels, axis=1).astype(weight.dtype),
                               requires_grad=conv.weight.requires_grad)
    conv.in_channels = int(in_channels)
    return name
