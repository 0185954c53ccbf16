"""Which layers of a pretrained model learn: freeze a prefix of the backbone, unfreeze it.

A frozen layer keeps its weights: requires_grad_(False), so no gradient is computed for them
and an optimizer skips them. A BatchNorm layer also holds running statistics, which every
forward pass in training mode would move towards the new data's; a frozen BatchNorm is
therefore kept in evaluation mode by a forward pre-hook, so that model.train() (which the
Trainer calls every epoch) neither changes its statistics nor makes it normalise with the
batch's. This is what torchvision's FrozenBatchNorm2d achieves for detection backbones.

Layers are named and ordered as in model.named_modules(): freeze(model, "layer2") freezes
every layer registered up to the end of layer2 (conv1, bn1, layer1, layer2 of a ResNet) and
unfreezes the ones after it.
"""
from .. import nn
from .head import find_head
from .layers import layer, layer_names

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def _hold_statistics(batch_norm, args):
    """Forward pre-hook of a frozen BatchNorm: evaluation mode, whatever model.train() said."""
    batch_norm.training = False


def _freeze_first(model, count):
    """Freeze the first `count` layers of layer_names(model), except the ancestors of the
    ones after them (a container is not frozen by freezing its first part); unfreeze the rest.
    Returns the names of the frozen parameters."""
    names = layer_names(model)
    later = names[count:]
    frozen_layers = {name for name in names[:count]
                     if not any(after.startswith(name + ".") for after in later)}
    frozen = []
    for name, module in [("", model)] + [(name, model.get_submodule(name)) for name in names]:
        is_frozen = name in frozen_layers
        for parameter_name, parameter in module.named_parameters(recurse=False):
            parameter.requires_grad = not is_frozen
            if is_frozen:
                frozen.append(f"{name}.{parameter_name}" if name else parameter_name)
        if isinstance(module, BATCH_NORMS):
            _set_statistics_held(module, is_frozen, model.training)
    return frozen


def _set_statistics_held(batch_norm, held, training):
    handle = batch_norm.__dict__.pop("statistics_hold", None)
    if handle is not None:
        handle.remove()
    if held:
        batch_norm.statistics_hold = batch_norm.register_forward_pre_hook(_hold_statistics)
    batch_norm.training = training and not held


def freeze(model, up_to=None):
    """Freeze every layer up to and including `up_to` (a dotted layer name; by default every
    layer before the head, so that only the head learns: feature extraction) and unfreeze the
    layers after it. Returns the names of the frozen parameters."""
    names = layer_names(model)
    if up_to is None:
        return _freeze_first(model, names.index(find_head(model)))
    layer(model, up_to, "freeze")
    end = max(position for position, name in enumerate(names)
              if name == up_to or name.startswith(up_to + "."))
    return _freeze_first(model, end + 1)


def unfreeze(model, from_layer=None):
    """Let the layers from `from_layer` on learn (by default all of them) and freeze the ones
    before it. Returns the names of the parameters that stay frozen."""
    if from_layer is None:
        return _freeze_first(model, 0)
    layer(model, from_layer, "unfreeze")
    return _freeze_first(model, layer_names(model).index(from_layer))


def gradual_unfreezing(model, epoch, stages):
    """Unfreeze the backbone one stage per epoch, from the head towards the input (ULMFiT,
    Howard & Ruder 2018): at epoch 0 (counting from 0) only the head learns, at epoch k the
    layers from stages[k - 1] on learn too, e.g. stages = ["layer3", "layer2", "layer1",
    "conv1"]. Call it at the start of every epoch; a function of the epoch alone, so a resumed
    run finds the same layers frozen. Returns the names of the frozen parameters."""
    if epoch == 0:
        return freeze(model)
    return unfreeze(model, stages[min(epoch, len(stages)) - 1])
