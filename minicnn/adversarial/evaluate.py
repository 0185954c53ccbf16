"""Accuracy of a model on images, clean, corrupted or attacked, in batches.

    accuracy(model, images, labels)                          clean accuracy
    accuracy_under_attack(model, images, labels, pgd, eps=0.3, steps=40)
                                                             accuracy on the attack's images
"""
import numpy

from ..autograd import Tensor, no_grad
from ..backend import device_of, move_array, to_numpy
from ..explain.checks import check_number
from ..nn import frozen_eval


def predictions(model, images, batch_size=256):
    """The predicted class of each image (N, C, H, W) as an int array, batch by batch."""
    check_number("predictions", "batch_size", batch_size, low=1, integer=True)
    device = device_of(next(iter(model.parameters())).data)
    with frozen_eval(model, "predictions"), no_grad():
        return numpy.concatenate([
            to_numpy(model(Tensor(move_array(images[start:start + batch_size], device)))
                     .data.argmax(axis=1)) for start in range(0, len(images), batch_size)])


def accuracy(model, images, labels, batch_size=256):
    return float((predictions(model, images, batch_size) == numpy.asarray(labels)).mean())


def accuracy_under_attack(model, images, labels, attack, batch_size=256, **options):
    """Accuracy on attack(model, x, y, **options) of each batch (e.g. attack=pgd, eps=0.3)."""
    adversarial = numpy.concatenate([
        attack(model, images[start:start + batch_size], labels[start:start + batch_size],
               **options).numpy() for start in range(0, len(images), batch_size)])
    return accuracy(model, adversarial, labels, batch_size)
