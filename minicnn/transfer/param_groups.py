"""Discriminative fine-tuning (Howard & Ruder 2018): the pretrained backbone learns with a
smaller learning rate than the new head, so that its features are adjusted, not overwritten,
while the randomly initialised head, which starts far from any good value, moves fast."""
import math

from .head import find_head
from .layers import layer


def discriminative_param_groups(model, lr, backbone_lr, head=None):
    """Two parameter groups for an optimizer: {"name": "head", "lr": lr} with the head's
    parameters (the layer `head`, by default the last Linear), then {"name": "backbone",
    "lr": backbone_lr} with all the others. The head comes first because the Trainer records
    the first group's learning rate. Frozen parameters are included, so that a later
    unfreeze needs no new optimizer; they have no gradient, and step() skips them.

        optimizer = optim.Adam(discriminative_param_groups(model, 1e-2, 1e-3))
    """
    for name, value in (("lr", lr), ("backbone_lr", backbone_lr)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not (math.isfinite(value) and value >= 0):
            raise ValueError(f"discriminative_param_groups: {name} must be a finite number "
                             f">= 0, got {value!r}")
    head_name = find_head(model) if head is None else head
    head_parameters = list(layer(model, head_name, "discriminative_param_groups").parameters())
    in_head = {id(parameter) for parameter in head_parameters}
    backbone = [parameter for parameter in model.parameters() if id(parameter) not in in_head]
    return [{"params": head_parameters, "lr": lr, "name": "head"},
            {"params": backbone, "lr": backbone_lr, "name": "backbone"}]
