"""replace_head, find_head and adapt_input_channels (minicnn/transfer/head.py)."""
import numpy
import pytest

import minicnn
from minicnn import models
from minicnn.functional import cross_entropy
from minicnn.transfer import adapt_input_channels, find_head, freeze, replace_head


def test_replace_head_keeps_the_inputs_the_place_and_everything_else():
    model = models.LeNet5().double()
    before = {name: tensor.numpy().copy() for name, tensor in model.state_dict().items()}
    head = replace_head(model, 3)
    assert model.classifier[5] is head and (head.in_features, head.out_features) == (84, 3)
    assert head.weight.dtype == minicnn.float64
    state = model.state_dict()
    assert list(state) == list(before)
    for name in before:
        if not name.startswith("classifier.5."):
            numpy.testing.assert_array_equal(state[name].numpy(), before[name])
    assert model(minicnn.randn(2, 1, 28, 28, dtype=minicnn.float64)).shape == (2, 3)


def test_find_head_is_the_last_linear_layer():
    assert find_head(models.resnet_tiny()) == "fc"
    assert find_head(models.MLP()) == "layers.5"
    with pytest.raises(ValueError, match="find_head: Sequential has no Linear layer"):
        find_head(minicnn.nn.Sequential(minicnn.nn.Conv2d(1, 2, 3)))


@pytest.mark.parametrize("num_classes", [0, -2, 2.5, True])
def test_replace_head_refuses_a_number_of_classes_that_is_not_a_positive_integer(num_classes):
    model = models.resnet_tiny()
    with pytest.raises(ValueError, match=f"replace_head: num_classes must be a positive "
                                         f"integer, got {num_classes!r}"):
        replace_head(model, num_classes)
    assert model.fc.out_features == 10


def test_replace_head_refuses_a_head_that_is_not_linear():
    with pytest.raises(ValueError, match=r"replace_head: the head 'pool' must be a Linear layer, "
                                         r"got AdaptiveAvgPool2d\(output_size=1\)"):
        replace_head(models.resnet_tiny(), 3, head="pool")


def test_the_new_heads_gradients_match_finite_differences():
    """Feature extraction in float64 and in training mode: the gradient that reaches the head
    through the frozen backbone (whose BatchNorms stay in evaluation mode) is the derivative
    of the loss, element by element; the backbone gets none."""
    model = models.resnet_tiny(in_channels=1, num_classes=5).double()
    model(minicnn.randn(8, 1, 10, 10, dtype=minicnn.float64))     # non-trivial statistics
    head = replace_head(model, 3)
    freeze(model)
    model.train()
    x = minicnn.randn(4, 1, 10, 10, dtype=minicnn.float64)
    target = minicnn.tensor([0, 2, 1, 2])
    assert minicnn.gradcheck(lambda weight, bias: cross_entropy(model(x), target),
                             (head.weight, head.bias))
    cross_entropy(model(x), target).backward()
    assert all(parameter.grad is None for name, parameter in model.named_parameters()
               if not name.startswith("fc."))


def test_adapt_input_channels_computes_on_gray_images_what_the_old_layer_did():
    colour = models.resnet_tiny(in_channels=3, num_classes=4).double().eval()
    gray = minicnn.randn(2, 1, 12, 12, dtype=minicnn.float64)
    expected = colour(minicnn.cat([gray] * 3, dim=1)).numpy()
    assert adapt_input_channels(colour, 1) == "conv1"
    assert colour.conv1.weight.shape == (4, 1, 3, 3) and colour.conv1.in_channels == 1
    numpy.testing.assert_allclose(colour(gray).numpy(), expected, rtol=1e-12)
    assert list(colour.state_dict())[0] == "conv1.weight"
    adapt_input_channels(colour, 2)
    numpy.testing.assert_allclose(colour(minicnn.cat([gray] * 2, dim=1)).numpy(), expected,
                                  rtol=1e-12)


def test_adapt_input_channels_refuses_bad_channels():
    with pytest.raises(ValueError, match="adapt_input_channels: in_channels must be a positive "
                                         "integer, got 0"):
        adapt_input_channels(models.resnet_tiny(), 0)
    with pytest.raises(ValueError, match="adapt_input_channels: MLP has no Conv2d layer"):
        adapt_input_channels(models.MLP(), 1)
