"""minicnn.nn: layers and models built from Modules, as in torch.nn.

    module.py         Module: registration of parameters, buffers and children; hooks;
                      train/eval; to(device); printing
    state.py          state_dict / load_state_dict
    parameter.py      Parameter
    containers.py     Sequential, ModuleList, ModuleDict
    linear.py, conv.py, pooling.py, normalization.py, activation.py, dropout.py,
    embedding.py, shape.py    the layers
    loss.py           loss functions as modules (CrossEntropyLoss, MSELoss, ...)
    inspection.py     frozen_eval: a trained model in eval mode with frozen weights, restored after
    init.py           weight initialisation (kaiming, xavier, ...)
    functional.py     an alias of minicnn.functional
"""
from . import functional, init
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .containers import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .dropout import Dropout, Dropout2d
from .embedding import Embedding
from .hooks import RemovableHandle
from .inspection import frozen_eval
from .linear import Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss,
                   MSELoss, NLLLoss, SmoothL1Loss)
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .parameter import Parameter
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d
from .shape import Flatten, Identity, Upsample
from .state import IncompatibleKeys

__all__ = ["AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss",
           "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d", "ConvTranspose2d",
           "CrossEntropyLoss", "Dropout", "Dropout2d", "ELU", "Embedding", "Flatten", "GELU",
           "GroupNorm", "HuberLoss", "Identity", "IncompatibleKeys", "KLDivLoss", "L1Loss",
           "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module",
           "ModuleDict", "ModuleList", "NLLLoss", "Parameter", "ReLU", "RemovableHandle",
           "Sequential", "Sigmoid", "SmoothL1Loss", "Softmax", "Softplus", "Tanh", "Upsample",
           "frozen_eval", "functional", "init"]
