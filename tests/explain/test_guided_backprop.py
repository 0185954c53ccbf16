"""GuidedBackprop equals Captum's; the plain ReLU rule is back after it, even after an error;
it reaches F.relu inside a forward (a ResNet block), not only nn.ReLU modules."""
import numpy
import pytest

import minicnn
from minicnn.explain import GuidedBackprop, Saliency, guided_relu_backward
from minicnn.functional import activation
from tests.explain.twins import as_torch, digits, lenet_pair


@pytest.mark.filterwarnings("ignore:Setting backward hooks on ReLU")
def test_equals_captum(torch):
    captum = pytest.importorskip("captum.attr")
    ours, theirs = lenet_pair(torch)
    images = digits(3)
    expected = captum.GuidedBackprop(theirs).attribute(as_torch(torch, images, requires_grad=True),
                                                       target=torch.tensor([0, 6, 9]))
    numpy.testing.assert_allclose(GuidedBackprop(ours)(images, [0, 6, 9]).numpy(),
                                  expected.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_the_rule_passes_only_positive_gradients_where_the_input_was_positive():
    x = minicnn.tensor([-1.0, 2.0, 3.0, 0.5], requires_grad=True)
    with guided_relu_backward():
        minicnn.relu(x).backward(minicnn.tensor([5.0, -4.0, 3.0, 0.0]))
    numpy.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 3.0, 0.0])


def test_the_plain_rule_is_restored_after_the_explanation_and_after_an_error():
    plain = activation.ReLU.backward
    model = minicnn.models.LeNet5().eval()
    GuidedBackprop(model)(digits(1), 0)
    assert activation.ReLU.backward is plain
    with pytest.raises(ValueError, match="out of range"):
        GuidedBackprop(model)(digits(1), 10)
    assert activation.ReLU.backward is plain
    x = minicnn.tensor([-1.0, 2.0], requires_grad=True)
    minicnn.relu(x).backward(minicnn.tensor([3.0, -4.0]))
    numpy.testing.assert_array_equal(x.grad.numpy(), [0.0, -4.0])


def test_it_reaches_the_functional_relus_of_a_resnet():
    model = minicnn.models.resnet_tiny(in_channels=1).eval()
    images = digits(1)
    guided = GuidedBackprop(model)(images, 1).numpy()
    plain = Saliency(model)(images, 1, abs=False).numpy()
    assert not numpy.allclose(guided, plain)
