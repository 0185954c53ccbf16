"""The checks every method makes on what it is given, so that a mistake is reported in the
method's own terms before the model runs:

    GradCAM: inputs must be a batch of images (N, C, H, W), got shape (1, 28, 28); add the
        batch dimension with x[None]
    Saliency: target 12 is out of range for 10 classes (the model's output has shape (2, 10))
    GradCAM: the model has no layer 'features.7'; close names: features.5, features.3
"""
import difflib
import numbers

import numpy

from ..autograd import Tensor
from ..backend import array_module, is_floating, to_numpy


def check_images(op, inputs):
    """`inputs` as a Tensor that does not require grad: a batch (N, C, H, W) of floats."""
    if not isinstance(inputs, Tensor):
        if not hasattr(inputs, "shape"):
            raise TypeError(f"{op}: inputs must be a Tensor or an array of images (N, C, H, W), "
                            f"got {type(inputs).__name__}")
        inputs = Tensor(inputs)
    if inputs.ndim != 4:
        hint = "; add the batch dimension with x[None]" if inputs.ndim == 3 else ""
        raise ValueError(f"{op}: inputs must be a batch of images (N, C, H, W), got shape "
                         f"{tuple(inputs.shape)}{hint}")
    if not is_floating(inputs.dtype):
        raise TypeError(f"{op}: inputs must hold floats (images in [0, 1]), got {inputs.dtype}")
    if len(inputs) == 0:
        raise ValueError(f"{op}: inputs hold no image (shape {tuple(inputs.shape)})")
    return inputs.detach()


def check_targets(op, target, outputs):
    """One class index per image, as an int64 array of N, from `target`: None (each image's
    predicted class), an int (the same class for all) or one per image. `outputs` are the
    model's (N, classes) scores, which fix N and the number of classes."""
    if outputs.ndim != 2:
        raise ValueError(f"{op}: the model's output must be class scores (N, classes), got "
                         f"shape {tuple(outputs.shape)}")
    count, classes = outputs.shape
    if target is None:
        return to_numpy(outputs.data).argmax(axis=1)
    values = numpy.asarray(to_numpy(target.data) if isinstance(target, Tensor) else target)
    if values.dtype == bool or not numpy.issubdtype(values.dtype, numpy.integer):
        raise TypeError(f"{op}: target must be a class index or one per image (integers), got "
                        f"{values.dtype} {values.tolist() if values.size < 8 else ''}".rstrip())
    if values.ndim > 1 or (values.ndim == 1 and len(values) != count):
        raise ValueError(f"{op}: target must be one class index or {count} (one per image), "
                         f"got shape {values.shape}")
    one_per_image = values.ndim == 1
    values = numpy.broadcast_to(values, (count,)).astype(numpy.int64)
    wrong = numpy.flatnonzero((values < 0) | (values >= classes))
    if len(wrong):
        where = f" (target index {wrong[0]} in the batch)" if one_per_image else ""
        raise ValueError(f"{op}: target {values[wrong[0]]} is out of range for {classes} "
                         f"classes{where}; the model's output has shape {tuple(outputs.shape)}")
    return values


def one_hot(targets, outputs):
    """A Tensor of the outputs' shape, dtype and device with 1 at [n, targets[n]]: as the
    output gradient, it makes the backward pass compute d y[n, targets[n]] / d(anything)
    for every image n at once (the images of a batch in eval mode do not interact)."""
    xp = array_module(outputs.data)
    onehot = xp.zeros(outputs.shape, dtype=outputs.dtype)
    onehot[xp.arange(len(targets)), xp.asarray(targets)] = 1
    return Tensor(onehot)


def find_layer(op, model, name):
    """The submodule called `name` ("features.3", "layer3.1.conv2")."""
    if not isinstance(name, str):
        raise TypeError(f"{op}: the layer must be given by its name (a str such as "
                        f"'features.3'), got {type(name).__name__}")
    layers = dict(model.named_modules())
    if name in layers and name != "":
        return layers[name]
    names = [layer for layer in layers if layer]
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
    hint = (f"close names: {', '.join(close)}" if close
            else f"its layers are: {', '.join(names[:30])}{', ...' if len(names) > 30 else ''}")
    raise ValueError(f"{op}: the model has no layer {name!r}; {hint}")


def check_number(op, name, value, low=None, integer=False, low_inclusive=True):
    """A real number (an integer if `integer`) of at least `low` (above it if not
    low_inclusive); returns it."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not numpy.isfinite(value):
        raise TypeError(f"{op}: {name} must be {'an integer' if integer else 'a finite number'}, "
                        f"got {value!r}")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        bound = f">= {low}" if low_inclusive else f"> {low}"
        raise ValueError(f"{op}: {name} must be {bound}, got {value}")
    return value


def check_baseline(op, baseline, inputs):
    """The baseline (a number or an array broadcastable to the inputs) as an array of the
    inputs' shape and dtype."""
    xp = array_module(inputs)
    try:
        return xp.broadcast_to(xp.asarray(to_numpy(baseline.data) if isinstance(baseline, Tensor)
                                          else baseline, dtype=inputs.dtype), inputs.shape)
    except ValueError:
        raise ValueError(f"{op}: baseline of shape {numpy.shape(baseline)} does not broadcast to "
                         f"the inputs' shape {inputs.shape}") from None
