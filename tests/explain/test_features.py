"""first_layer_filters, activation_maps and activation_maximization on LeNet-5."""
import numpy
import pytest

import minicnn
from minicnn.explain.features import (activation_maps, activation_maximization,
                                      first_layer_filters)
from tests.explain.twins import digits, trained_lenet


def test_first_layer_filters_are_the_first_kernels_scaled_to_the_unit_range():
    model = minicnn.models.LeNet5()
    filters = first_layer_filters(model)
    assert filters.shape == (6, 1, 5, 5)
    assert numpy.allclose(filters.min(axis=(1, 2, 3)), 0) and numpy.allclose(
        filters.max(axis=(1, 2, 3)), 1)
    weights = model.features[0].weight.numpy()
    assert numpy.argmax(filters[2]) == numpy.argmax(weights[2])
    with pytest.raises(ValueError, match=r"first_layer_filters: the model \(MLP\) has no Conv2d"):
        first_layer_filters(minicnn.models.MLP())


def test_activation_maps_are_the_layers_output():
    model = minicnn.models.LeNet5().eval()
    image = digits(1)
    maps = activation_maps(model, image, "features.2")
    expected = model.features[:3](minicnn.tensor(image)).numpy()[0]
    numpy.testing.assert_allclose(maps, expected, rtol=1e-6)
    with pytest.raises(ValueError, match="activation_maps: expected one image"):
        activation_maps(model, digits(2), "features.2")
    with pytest.raises(ValueError, match="the model has no layer 'feature.2'; close names"):
        activation_maps(model, image, "feature.2")


@pytest.mark.parametrize("layer, channel", [(None, 3), ("features.3", 5)])
def test_activation_maximization_raises_the_chosen_activation_far_above_a_digits(layer, channel):
    model = trained_lenet()
    image = activation_maximization(model, (1, 28, 28), layer, channel, steps=60)
    assert image.shape == (1, 1, 28, 28) and image.min() >= 0 and image.max() <= 1

    def activation(x):
        if layer is None:
            return model(minicnn.tensor(x)).numpy()[:, channel]
        return model.features[:4](minicnn.tensor(x)).numpy()[:, channel].mean(axis=(1, 2))
    assert activation(image.astype(numpy.float32))[0] > 2 * activation(digits(8)).max()


def test_activation_maximization_checks_its_arguments():
    model = minicnn.models.LeNet5().eval()
    with pytest.raises(ValueError, match="activation_maximization: class 10 is out of range"):
        activation_maximization(model, (1, 28, 28), None, 10, steps=1)
    with pytest.raises(ValueError, match="activation_maximization: channel 16 is out of range"):
        activation_maximization(model, (1, 28, 28), "features.3", 16, steps=1)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        activation_maximization(model, (1, 28, 28), steps=0)
