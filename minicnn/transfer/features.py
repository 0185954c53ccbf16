"""What a layer of a trained network computes, read through a forward hook.

A forward hook sees every output of the module it is registered on, so the activations of
any layer can be collected while the model runs as usual, without changing its code: the
features a linear probe is trained on, or the embeddings a 2-D projection shows.
"""
import numpy

from ..autograd import Tensor, no_grad
from ..backend import move_array, to_numpy
from .layers import layer


def extract_features(model, images, layer_name, batch_size=256):
    """The output of layer `layer_name` for every image, flattened per image: a NumPy array
    (N, features) from images (N, C, H, W) (an array or a Tensor). The model runs in
    evaluation mode, without gradients, in batches of `batch_size`; its mode is restored."""
    module = layer(model, layer_name, "extract_features")
    images = images.data if isinstance(images, Tensor) else numpy.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"extract_features: images must be a batch (N, C, H, W), got shape "
                         f"{tuple(images.shape)}")
    outputs = []
    training = model.training
    model.eval()
    try:
        with no_grad(), module.register_forward_hook(
                lambda _, args, output: outputs.append(to_numpy(output.data))):
            for start in range(0, len(images), batch_size):
                model(Tensor(move_array(images[start:start + batch_size], _device_of(model))))
    finally:
        model.train(training)
    return numpy.concatenate([output.reshape(len(output), -1) for output in outputs])


def _device_of(model):
    first = next(iter(model.parameters()), None)
    return first.device if first is not None else "cpu"
