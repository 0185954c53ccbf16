"""What the layers of a CNN respond to (feature visualization).

    first_layer_filters(model)          the first convolution's kernels (O, C, kh, kw), each
                                        scaled to [0, 1]: the edge and blob detectors that
                                        training found (Krizhevsky et al. 2012, figure 3)
    activation_maps(model, image, layer)
                                        the (K, h, w) feature maps a layer computes for one image
    activation_maximization(model, layer, channel)
                                        an input that makes one feature map (or one class
                                        score) large (Erhan et al. 2009): gradient ascent on
                                        the input, with the regularizers of Yosinski et al.
                                        2015 that keep it image-like:

        g = d/dx [mean(A_channel(jitter(x))) - l2 * ||x - 0.5||^2]
        x <- clip(x + lr * g / max|g|, 0, 1)       (lr: the largest change of a pixel)

    jitter(x) shifts the image by a random number of pixels (at most `jitter`) in each
    direction before every step, so that the image cannot rely on one exact pixel grid; the L2
    penalty keeps the pixels near grey where nothing is gained by moving them.
"""
import numpy

from ..autograd import Tensor, grad, no_grad
from ..backend import array_module, to_numpy
from ..nn import Conv2d, frozen_eval
from .checks import check_images, check_number, find_layer
from .layers import LayerOutput


def first_layer_filters(model):
    """The kernels of the model's first Conv2d, (O, C, kh, kw), each scaled to [0, 1]."""
    convolutions = [module for module in model.modules() if isinstance(module, Conv2d)]
    if not convolutions:
        raise ValueError(f"first_layer_filters: the model ({type(model).__name__}) has no "
                         "Conv2d layer")
    weights = to_numpy(convolutions[0].weight.data).astype(numpy.float64)
    low = weights.min(axis=(1, 2, 3), keepdims=True)
    spread = weights.max(axis=(1, 2, 3), keepdims=True) - low
    return (weights - low) / numpy.where(spread > 0, spread, 1)


def activation_maps(model, image, layer):
    """The output of layer `layer` (a name) for one image (1, C, H, W): an array (K, h, w)."""
    images = check_images("activation_maps", image)
    if len(images) != 1:
        raise ValueError(f"activation_maps: expected one image (1, C, H, W), got "
                         f"{len(images)} images")
    with frozen_eval(model, "activation_maps"), no_grad(), \
            LayerOutput("activation_maps", model, layer) as captured:
        model(images)
    return to_numpy(captured.result().data[0])


def activation_maximization(model, image_shape, layer=None, channel=0, steps=200, lr=0.05,
                            l2=0.01, jitter=2, seed=0):
    """An image (1, *image_shape) in [0, 1] that maximizes the mean of feature map `channel`
    of layer `layer` (a name), or with layer=None the model's score of class `channel`.
    Starts from grey plus a little noise drawn with `seed`. Returns an array."""
    op = "activation_maximization"
    for name, value, low in (("steps", steps, 1), ("jitter", jitter, 0)):
        check_number(op, name, value, low=low, integer=True)
    for name, value in (("lr", lr), ("l2", l2)):
        check_number(op, name, value, low=0)
    if layer is not None:
        find_layer(op, model, layer)
    rng = numpy.random.default_rng(seed)
    first = next(iter(model.parameters()))
    xp = array_module(first.data)
    image = xp.asarray(0.5 + 0.01 * rng.standard_normal((1,) + tuple(image_shape)),
                       dtype=first.dtype)
    with frozen_eval(model, op):
        for _ in range(steps):
            shift = tuple(int(s) for s in rng.integers(-jitter, jitter + 1, size=2))
            x = Tensor(xp.roll(image, shift, axis=(2, 3)), requires_grad=True)
            objective = _mean_activation(op, model, x, layer, channel) \
                - l2 * ((x - 0.5) * (x - 0.5)).sum()
            (gradient,) = grad(objective, x)
            step = xp.roll(gradient.data, tuple(-s for s in shift), axis=(2, 3))
            image = xp.clip(image + lr * step / (xp.abs(step).max() + 1e-12), 0, 1)
    return to_numpy(image)


def _mean_activation(op, model, x, layer, channel):
    if layer is None:
        scores = model(x)
        _check_channel(op, "class", channel, scores.shape[1])
        return scores[0, channel]
    with LayerOutput(op, model, layer, stop_gradient=False) as captured:
        model(x)
    maps = captured.result()
    _check_channel(op, "channel", channel, maps.shape[1])
    return maps[0, channel].mean()


def _check_channel(op, what, channel, count):
    check_number(op, what, channel, low=0, integer=True)
    if channel >= count:
        raise ValueError(f"{op}: {what} {channel} is out of range; the output has {count}")
