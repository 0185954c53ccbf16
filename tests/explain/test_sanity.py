"""The cascading-randomization check: Grad-CAM's maps of a trained LeNet-5 decorrelate from
the trained model's (Spearman below 0.5 once the top layer is random, below 0.3 when all
are); the model and minicnn's random generator are left as they were."""
import numpy
import pytest

import minicnn
from minicnn.backend.random import get_rng_state
from minicnn.explain import GradCAM, GuidedBackprop
from minicnn.explain.sanity import cascading_randomization, plot_sanity_check, randomizable_layers
from tests.explain.twins import mnist_test_digits, trained_lenet


def gradcam(model, images, target):
    return GradCAM(model)(images, target).numpy()


def guided_backprop(model, images, target):
    return GuidedBackprop(model)(images, target).numpy()


def test_layers_are_randomized_from_the_top():
    assert randomizable_layers(minicnn.models.LeNet5()) == [
        "classifier.5", "classifier.3", "classifier.1", "features.3", "features.0"]


def test_grad_cam_decorrelates_when_the_trained_weights_are_replaced():
    model = trained_lenet()
    images, labels = mnist_test_digits(64)
    state, weights = get_rng_state(), {k: v.numpy().copy() for k, v in model.state_dict().items()}
    check = cascading_randomization(model, gradcam, images, labels)
    summary = check.summary()
    assert list(summary) == ["trained"] + randomizable_layers(model)
    assert summary["trained"] == (1.0, 1.0)
    assert summary["classifier.5"][0] < 0.5                  # the top layer random
    assert summary["features.0"][0] < 0.3                     # every layer random
    assert get_rng_state() == state
    for name, value in model.state_dict().items():
        numpy.testing.assert_array_equal(value.numpy(), weights[name])


def test_the_same_seed_gives_the_same_cascade_and_the_figure_has_every_step():
    model = trained_lenet()
    images, labels = mnist_test_digits(4)
    first = cascading_randomization(model, gradcam, images, labels, seed=3)
    again = cascading_randomization(model, gradcam, images, labels, seed=3)
    numpy.testing.assert_array_equal(first.spearman, again.spearman)
    figure = plot_sanity_check({"Grad-CAM": first, "Guided Backprop": cascading_randomization(
        model, guided_backprop, images, labels)})
    assert len(figure.axes) == 2 + 2 * len(first.layers)


@pytest.mark.slow
def test_after_ten_epochs_grad_cam_decorrelates_and_guided_backprop_does_not():
    model = trained_lenet(epochs=10)
    images, labels = mnist_test_digits(256)
    gradcam_check = cascading_randomization(model, gradcam, images, labels).summary()
    guided_check = cascading_randomization(model, guided_backprop, images, labels).summary()
    assert gradcam_check["classifier.5"][0] < 0.5 and gradcam_check["features.0"][0] < 0.3
    # Adebayo et al.'s finding: Guided Backprop's maps stay close to the trained model's.
    assert guided_check["classifier.5"][0] > 0.7 and guided_check["classifier.1"][0] > 0.6
