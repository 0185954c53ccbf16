"""Grad-CAM equals Captum's LayerGradCam + LayerAttribution.interpolate; Grad-CAM++ equals
the paper's formula computed with PyTorch's gradients; CAM is Grad-CAM times h w on a
global-average-pooling model; layers are found by name, with clear errors otherwise."""
import numpy
import pytest

import minicnn
from minicnn import nn
from minicnn.explain import CAM, GradCAM, GradCAMPlusPlus
from tests.explain.twins import as_torch, digits, gap_net, lenet_pair

TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


@pytest.mark.parametrize("layer", ["features.3", "features.4", "features.0"])
@pytest.mark.parametrize("relu", [True, False])
def test_equals_captum(torch, layer, relu):
    captum = pytest.importorskip("captum.attr")
    ours, theirs = lenet_pair(torch)
    images, targets = digits(3), [2, 7, 1]
    gradcam = captum.LayerGradCam(theirs, theirs.get_submodule(layer))
    coarse = gradcam.attribute(as_torch(torch, images), target=torch.tensor(targets),
                               relu_attributions=relu)
    expected = captum.LayerAttribution.interpolate(coarse, (28, 28), interpolate_mode="bilinear")
    got = GradCAM(ours, layer)(images, targets, relu=relu)
    numpy.testing.assert_allclose(got.numpy(), expected.detach().numpy(), **TOLERANCE)
    small = GradCAM(ours, layer)(images, targets, relu=relu, upsample_to_input=False)
    numpy.testing.assert_allclose(small.numpy(), coarse.detach().numpy(), **TOLERANCE)


def test_default_layer_is_the_last_convolution():
    assert GradCAM(minicnn.models.LeNet5()).layer == "features.3"
    assert GradCAM(minicnn.models.resnet_tiny()).layer == "layer3.0.conv2"


def test_grad_cam_plus_plus_equals_the_formula_on_torch_gradients(torch):
    ours, theirs = lenet_pair(torch)
    images, targets = digits(2), [3, 8]
    activations = {}
    layer = theirs.get_submodule("features.4")
    handle = layer.register_forward_hook(lambda m, i, o: activations.update(A=o))
    scores = theirs(as_torch(torch, images))
    handle.remove()
    A = activations["A"]
    g, = torch.autograd.grad(scores[[0, 1], targets].sum(), A)
    denominator = 2 * g ** 2 + A.sum(dim=(2, 3), keepdim=True) * g ** 3
    a = torch.where(g != 0, g ** 2 / torch.where(denominator != 0, denominator, 1.0), 0.0)
    weights = (a * torch.relu(g)).sum(dim=(2, 3), keepdim=True)
    expected = torch.relu((weights * A).sum(dim=1, keepdim=True))
    expected = torch.nn.functional.interpolate(expected, (28, 28), mode="bilinear")
    got = GradCAMPlusPlus(ours, "features.4")(images, targets)
    numpy.testing.assert_allclose(got.numpy(), expected.detach().numpy(), **TOLERANCE)


def test_cam_is_grad_cam_times_the_map_size_on_a_gap_model():
    model = gap_net().eval()
    images = digits(2)
    cam = CAM(model)(images, [1, 4], upsample_to_input=False).numpy()
    gradcam = GradCAM(model, "3")(images, [1, 4], relu=False, upsample_to_input=False).numpy()
    assert cam.shape == (2, 1, 26, 26)
    numpy.testing.assert_allclose(cam, gradcam * 26 * 26, rtol=1e-4, atol=1e-5)


def test_cam_refuses_a_model_without_global_average_pooling():
    with pytest.raises(ValueError, match="CAM: the model .LeNet5. has no AdaptiveAvgPool2d layer"):
        CAM(minicnn.models.LeNet5())
    # A pooling layer that is not global: the output is not linear in the map's average.
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                          nn.Linear(12, 5)).eval()
    with pytest.raises(ValueError, match="CAM: the model's output is not the linear layer"):
        CAM(model)(digits(1), 0)


def test_errors_name_the_method_and_what_was_wrong():
    model = minicnn.models.LeNet5()
    with pytest.raises(ValueError, match=r"GradCAM: the model has no layer 'features\.33'; "
                                         r"close names: features\.3"):
        GradCAM(model, "features.33")
    with pytest.raises(ValueError, match=r"GradCAM: the model \(MLP\) has no Conv2d layer"):
        GradCAM(minicnn.models.MLP())
    with pytest.raises(ValueError, match=r"layer 'classifier.1' outputs shape \(1, 120\), not a "
                                         r"feature map"):
        GradCAM(model.eval(), "classifier.1")(digits(1), 0)
    with pytest.raises(TypeError, match="the layer must be given by its name"):
        GradCAM(model, model.features)
