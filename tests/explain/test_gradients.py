"""Saliency and InputXGradient equal Captum's on LeNet-5 with the same weights."""
import numpy
import pytest

import minicnn
from minicnn.explain import InputXGradient, Saliency
from tests.explain.twins import as_torch, digits, lenet_pair

TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


@pytest.mark.parametrize("signed", [False, True])
def test_saliency_equals_captum(torch, signed):
    captum = pytest.importorskip("captum.attr")
    ours, theirs = lenet_pair(torch)
    images, targets = digits(3), [1, 7, 3]
    expected = captum.Saliency(theirs).attribute(
        as_torch(torch, images, requires_grad=True), target=torch.tensor(targets),
        abs=not signed)
    got = Saliency(ours)(images, targets, abs=not signed)
    numpy.testing.assert_allclose(got.numpy(), expected.detach().numpy(), **TOLERANCE)


def test_input_x_gradient_equals_captum(torch):
    captum = pytest.importorskip("captum.attr")
    ours, theirs = lenet_pair(torch)
    images = digits(3)
    expected = captum.InputXGradient(theirs).attribute(
        as_torch(torch, images, requires_grad=True), target=4)
    numpy.testing.assert_allclose(InputXGradient(ours)(images, 4).numpy(),
                                  expected.detach().numpy(), **TOLERANCE)


def test_saliency_is_the_gradient_of_the_score_of_each_image_alone():
    model = minicnn.models.LeNet5().eval()
    images = digits(2)
    both = Saliency(model)(images, [2, 5], abs=False).numpy()
    for n, target in enumerate([2, 5]):
        x = minicnn.tensor(images[n:n + 1], requires_grad=True)
        model(x)[0, target].backward()
        numpy.testing.assert_allclose(both[n:n + 1], x.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_no_target_explains_the_predicted_class():
    model = minicnn.models.LeNet5().eval()
    images = digits(2)
    predicted = model(minicnn.tensor(images)).numpy().argmax(axis=1)
    numpy.testing.assert_array_equal(Saliency(model)(images).numpy(),
                                     Saliency(model)(images, predicted).numpy())
