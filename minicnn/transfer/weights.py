"""Loading pretrained weights into a model, with a clear refusal when they do not fit.

Weights saved from one architecture do not fit another: a ResNet-20 state_dict has 16
filters where resnet_tiny has 4, a 3-channel backbone's first convolution reads 3 channels.
load_weights names the first key where model and weights disagree, with both shapes, which
says at once which layer differs; the model is left as it was.
"""
from ..autograd import Tensor


def _shape(value):
    return tuple((value.data if isinstance(value, Tensor) else value).shape)


def _described(shape):
    return "no such key" if shape is None else f"shape {shape}"


def first_mismatch(model, state):
    """(key, shape in the model, shape in the weights) of the first key, in the model's
    state_dict order and then the weights', whose shapes differ; None for a key one side
    lacks; None when everything fits."""
    own = model.state_dict()
    for key, tensor in own.items():
        if key not in state or _shape(state[key]) != tuple(tensor.shape):
            return key, tuple(tensor.shape), _shape(state[key]) if key in state else None
    extra = next((key for key in state if key not in own), None)
    return None if extra is None else (extra, None, _shape(state[extra]))


def load_weights(model, state, source="the weights"):
    """Copy `state` (a state_dict, e.g. minicnn.load("runs/x/model.npz")) into `model` after
    checking that it fits; `source` says where the weights came from in the error."""
    mismatch = first_mismatch(model, state)
    if mismatch is not None:
        key, in_model, in_weights = mismatch
        raise ValueError(f"load_weights: {source} do not fit this {type(model).__name__}: the "
                         f"first mismatching key is {key!r}, {_described(in_weights)} in the "
                         f"weights but {_described(in_model)} in the model; they were trained "
                         "for another architecture (nothing was loaded)")
    model.load_state_dict(state)
    return model
