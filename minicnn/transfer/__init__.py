"""minicnn.transfer: reuse a trained network for a new task (transfer learning).

A network trained on one task has learned features (edges, strokes, parts) that another task
can reuse, which pays most when the new task has few labels. The steps, one module each:

    weights.py       load_weights: copy a state_dict into a model, refusing the wrong
                     architecture with the first key that does not fit
    head.py          replace_head: a new classification layer for the new classes;
                     adapt_input_channels: a first convolution for another number of channels
    freeze.py        freeze / unfreeze / gradual_unfreezing: which layers learn; a frozen
                     BatchNorm keeps its running statistics even in model.train()
    param_groups.py  discriminative_param_groups: a smaller learning rate for the backbone
    features.py      extract_features: any named layer's output, through a forward hook
                     (for a linear probe, or to look at what the backbone has learned)

    model = minicnn.models.resnet_tiny(weights="mnist5k-0to4")
    replace_head(model, num_classes=5)
    freeze(model)                                   # features: only the new head learns
    optimizer = optim.Adam(model.parameters(), lr=2e-3)

`minicnn finetune` runs these steps from the shell; notebooks/07_transfer_learning.ipynb
measures when they help.
"""
from .features import extract_features
from .freeze import freeze, gradual_unfreezing, unfreeze
from .head import adapt_input_channels, find_head, replace_head
from .param_groups import discriminative_param_groups
from .weights import load_weights

__all__ = ["adapt_input_channels", "discriminative_param_groups", "extract_features",
           "find_head", "freeze", "gradual_unfreezing", "load_weights", "replace_head",
           "unfreeze"]
