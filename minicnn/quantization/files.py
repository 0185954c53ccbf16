"""Int8 model files: the converted model's state (int8 weight codes, their scales and zero
points, float biases, each layer's output scale and zero point) in minicnn's .npz format
(serialization.py: no pickle, written atomically).

Loading needs the model's architecture, which the file does not hold: load_quantized
rebuilds the int8 model from the float model it came from (quantizable -> fuse -> prepare
-> convert, with placeholder scales) and then fills in the file's numbers. Nothing of the
model is touched until every entry has been checked against it.
"""
import numpy

from ..autograd import Tensor
from ..serialization import load, save
from .qconfig import get_qconfig
from .workflow import quantized_architecture

FORMAT = "minicnn.int8/1"


def save_quantized(model, path, per_channel=True):
    """Write the converted `model` to `path` (.npz); per_channel records its qconfig."""
    save({"format": FORMAT, "per_channel": per_channel, "state": model.state_dict()}, path)


def load_quantized(path, float_model):
    """The int8 model of the architecture of `float_model` (a minicnn model of the same
    class and sizes as the one quantized), with the numbers of the file at `path`."""
    contents = load(path)
    if not isinstance(contents, dict) or contents.get("format") != FORMAT:
        raise ValueError(f"load_quantized: {path} is not an int8 model file (its format is "
                         f"{contents.get('format') if isinstance(contents, dict) else None!r}, "
                         f"expected {FORMAT!r})")
    model = quantized_architecture(float_model, get_qconfig(per_channel=contents["per_channel"]))
    load_quantized_state(model, contents["state"], path)
    return model


def load_quantized_state(model, state, path="the state"):
    """Copy `state` into the int8 `model`, after checking every key, shape and dtype; the
    first difference raises an error naming the entry and both shapes (or dtypes)."""
    own = model.state_dict()
    for name in own:
        if name not in state:
            raise ValueError(f"load_quantized: {path} has no '{name}', which the model has "
                             f"(shape {own[name].shape}); is it a file of another architecture?")
    for name, value in state.items():
        if name not in own:
            raise ValueError(f"load_quantized: {path} has '{name}' (shape {tuple(value.shape)}), "
                             "which the model does not have; is it a file of another architecture?")
        array = value.data if isinstance(value, Tensor) else numpy.asarray(value)
        if tuple(array.shape) != own[name].shape:
            raise ValueError(f"load_quantized: '{name}' has shape {tuple(array.shape)} in "
                             f"{path} but {own[name].shape} in the model")
        if array.dtype != own[name].dtype:
            raise ValueError(f"load_quantized: '{name}' is {array.dtype} in {path} but "
                             f"{own[name].dtype} in the model")
        if name.endswith("scale") and not (numpy.isfinite(array) & (array > 0)).all():
            raise ValueError(f"load_quantized: '{name}' in {path} holds scales that are not "
                             f"positive and finite: {array.ravel()[:8]}")
    model.load_state_dict(state)
