"""What every method shares: the checks on images and targets, and a model left exactly as
it was (modes, requires_grad, hooks, the ReLU rule), also when the method fails midway."""
import numpy
import pytest

import minicnn
from minicnn import explain, nn
from minicnn.functional import activation
from tests.explain.twins import digits

METHODS = {
    "Saliency": lambda model: explain.Saliency(model),
    "InputXGradient": lambda model: explain.InputXGradient(model),
    "IntegratedGradients": lambda model: explain.IntegratedGradients(model),
    "GuidedBackprop": lambda model: explain.GuidedBackprop(model),
    "Occlusion": lambda model: explain.Occlusion(model),
    "GradCAM": lambda model: explain.GradCAM(model, "features.0"),
    "GradCAMPlusPlus": lambda model: explain.GradCAMPlusPlus(model),
    "SmoothGrad": lambda model: explain.SmoothGrad(explain.Saliency(model)),
}


def _model():
    """LeNet-5 with dropout, in training mode, one parameter frozen by its owner."""
    model = minicnn.models.LeNet5()
    model.classifier[2] = nn.Sequential(nn.ReLU(), nn.Dropout(0.5))
    model.features[0].bias.requires_grad = False
    return model


def _state(model):
    return ([m.training for m in model.modules()], [p.requires_grad for p in model.parameters()],
            [len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules()],
            [p.grad for p in model.parameters()], activation.ReLU.backward)


@pytest.mark.parametrize("name", METHODS)
def test_a_model_in_training_mode_is_explained_in_eval_mode_and_left_as_it_was(name):
    model = _model()
    before = _state(model)
    minicnn.manual_seed(1)                # SmoothGrad's noise: the same in both calls
    with pytest.warns(UserWarning, match=f"{name}: the model is in training mode"):
        maps = METHODS[name](model)(digits(2), [3, 4])
    assert _state(model) == before
    minicnn.manual_seed(1)
    with pytest.warns(UserWarning):       # dropout is off: the same maps again
        numpy.testing.assert_array_equal(METHODS[name](model)(digits(2), [3, 4]).numpy(),
                                         maps.numpy())


@pytest.mark.parametrize("name", METHODS)
def test_an_error_midway_leaves_the_model_as_it_was(name):
    model = _model().eval()
    before = _state(model)

    def fail(module, args, output):
        raise RuntimeError("stop")

    with model.classifier[3].register_forward_hook(fail):
        with pytest.raises(RuntimeError, match="stop"):
            METHODS[name](model)(digits(1), 3)
    assert _state(model) == before


@pytest.mark.parametrize("name", METHODS)
def test_targets_out_of_range_or_of_the_wrong_kind_are_refused(name):
    method = METHODS[name](minicnn.models.LeNet5().eval())
    with pytest.raises(ValueError, match=rf"{name}: target 10 is out of range for 10 classes "
                                         r"\(target index 1 in the batch\); the model's output "
                                         r"has shape \(2, 10\)"):
        method(digits(2), [3, 10])
    with pytest.raises(ValueError, match=f"{name}: target -1 is out of range"):
        method(digits(2), -1)
    with pytest.raises(ValueError, match=r"target must be one class index or 2 \(one per image\)"):
        method(digits(2), [1, 2, 3])
    with pytest.raises(TypeError, match="target must be a class index or one per image"):
        method(digits(2), 2.5)


@pytest.mark.parametrize("name", METHODS)
def test_images_without_a_batch_dimension_are_refused(name):
    method = METHODS[name](minicnn.models.LeNet5().eval())
    with pytest.raises(ValueError, match=rf"{name}: inputs must be a batch of images \(N, C, H, "
                                         r"W\), got shape \(1, 28, 28\); add the batch "
                                         r"dimension with x\[None\]"):
        method(digits(1)[0], 0)
    with pytest.raises(TypeError, match=f"{name}: inputs must hold floats"):
        method(numpy.zeros((1, 1, 28, 28), dtype=numpy.uint8), 0)


def test_a_tensor_target_and_a_tensor_input_work_like_arrays():
    model = minicnn.models.LeNet5().eval()
    images = digits(2)
    numpy.testing.assert_array_equal(
        explain.Saliency(model)(minicnn.tensor(images), minicnn.tensor([1, 2])).numpy(),
        explain.Saliency(model)(images, [1, 2]).numpy())
