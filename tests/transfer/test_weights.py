"""load_weights and first_mismatch (minicnn/transfer/weights.py)."""
import re

import numpy
import pytest

from minicnn import models
from minicnn.transfer import load_weights


def snapshot(model):
    return {name: tensor.numpy().copy() for name, tensor in model.state_dict().items()}


def test_weights_of_the_same_architecture_load():
    source, target = models.resnet_tiny(num_classes=4), models.resnet_tiny(num_classes=4)
    assert load_weights(target, source.state_dict()) is target
    for name, array in snapshot(source).items():
        numpy.testing.assert_array_equal(target.state_dict()[name].numpy(), array)


@pytest.mark.parametrize("weights, model, message", [
    (lambda: models.resnet20().state_dict(), lambda: models.resnet_tiny(),
     "'conv1.weight', shape (16, 3, 3, 3) in the weights but shape (4, 3, 3, 3) in the model"),
    (lambda: models.resnet_tiny(in_channels=1).state_dict(), lambda: models.resnet_tiny(),
     "'conv1.weight', shape (4, 1, 3, 3) in the weights but shape (4, 3, 3, 3) in the model"),
    (lambda: models.resnet_tiny(num_classes=5).state_dict(), lambda: models.resnet_tiny(),
     "'fc.weight', shape (5, 16) in the weights but shape (10, 16) in the model"),
    (lambda: models.resnet_tiny(shortcut="B").state_dict(), lambda: models.resnet_tiny(),
     "'layer2.0.shortcut.0.weight', shape (8, 4, 1, 1) in the weights but no such key in the "
     "model"),
    (lambda: models.resnet_tiny().state_dict(), lambda: models.resnet_tiny(shortcut="B"),
     "'layer2.0.shortcut.0.weight', no such key in the weights but shape (8, 4, 1, 1) in the "
     "model"),
])
def test_the_wrong_architecture_names_the_first_mismatching_key_and_both_shapes(weights, model,
                                                                                message):
    model = model()
    before = snapshot(model)
    with pytest.raises(ValueError, match=re.escape(
            f"load_weights: run x do not fit this CifarResNet: the first mismatching key is "
            f"{message}; they were trained for another architecture (nothing was loaded)")):
        load_weights(model, weights(), source="run x")
    for name, array in snapshot(model).items():
        numpy.testing.assert_array_equal(array, before[name])
