"""minicnn.models: documented parameter counts, shapes, the registry, parity of LeNet5 with
PyTorch, gradients through residual blocks."""
import re

import numpy
import pytest

import minicnn
import minicnn.optim
from minicnn import models
from tests.helpers import leaf
from tests.nn.layer_checks import check_parity, gradcheck_layer
from tests.nn.test_state import torch_lenet5


def _documented_count(obj):
    match = re.search(r"Parameters: ([\d,]+)", obj.__doc__)
    assert match, f"{obj.__name__}'s docstring does not state its parameter count"
    return int(match.group(1).replace(",", ""))


def _count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("builder", [models.MLP, models.LeNet5, models.VGGSmall,
                                     models.CifarResNet, models.resnet20, models.resnet_tiny])
def test_docstring_states_the_parameter_count(builder):
    assert _count(builder()) == _documented_count(builder)


def test_resnet20_has_the_papers_size_and_option_b_adds_projections():
    assert _count(models.get_model("resnet20")) == 269_722      # "0.27M" in He et al. 2016
    # Option B: a 1x1 convolution and a BatchNorm (2 parameters per channel) at each of the
    # two downsampling blocks.
    option_b = _count(models.get_model("resnet20", shortcut="B"))
    assert option_b == 269_722 + (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64)


@pytest.mark.parametrize("name, shape", [("mlp", (2, 1, 28, 28)), ("lenet5", (2, 1, 28, 28)),
                                         ("vgg_small", (2, 3, 32, 32)),
                                         ("resnet_tiny", (2, 3, 32, 32))])
def test_output_shapes(device, name, shape):
    model = models.get_model(name, num_classes=7).to(device)
    assert model(minicnn.randn(*shape, device=device)).shape == (2, 7)


def test_registry_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown model 'resnet18'; valid names are .*lenet5.*"
                                         r"mlp.*resnet20.*vgg_small"):
        models.get_model("resnet18")
    assert isinstance(models.get_model("lenet5", in_channels=3), models.LeNet5)


def test_lenet5_matches_its_torch_twin(torch, device):
    check_parity(torch, models.LeNet5().to(device), torch_lenet5(torch), leaf((2, 1, 28, 28), device),
                 rtol=1e-6)


@pytest.mark.parametrize("shortcut", ["A", "B"])
def test_gradcheck_through_a_downsampling_block(device, shortcut):
    block = models.BasicBlock(1, 2, stride=2, shortcut=shortcut).to(device, minicnn.float64)
    assert gradcheck_layer(block, leaf((2, 1, 4, 4), device))


def test_pad_shortcut_subsamples_and_adds_zero_channels():
    x = minicnn.arange(2 * 4 * 4, dtype=minicnn.float32).reshape(1, 2, 4, 4)
    y = models.PadShortcut(stride=2, extra_channels=2)(x).numpy()
    assert y.shape == (1, 4, 2, 2)
    numpy.testing.assert_array_equal(y[0, 1:3], x.numpy()[0, :, ::2, ::2])
    assert not y[0, 0].any() and not y[0, 3].any()


def test_bad_depth_and_shortcut_are_explained():
    with pytest.raises(ValueError, match=r"depth must be 6n \+ 2 .* got 21"):
        models.CifarResNet(depth=21)
    with pytest.raises(ValueError, match="shortcut must be 'A' or 'B', got 'C'"):
        models.BasicBlock(2, 4, stride=2, shortcut="C")


def test_eval_mode_makes_vgg_deterministic():
    model = models.VGGSmall()
    x = minicnn.randn(2, 3, 32, 32)
    model.eval()
    numpy.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
    model.train()
    assert not numpy.array_equal(model(x).numpy(), model(x).numpy())


@pytest.mark.parametrize("name, shape, lr", [("lenet5", (8, 1, 28, 28), 0.005),
                                             ("resnet_tiny", (8, 3, 32, 32), 0.02)])
def test_a_model_can_memorise_a_small_batch(device, name, shape, lr):
    """End to end: gradients through every layer move the loss the right way."""
    model = models.get_model(name).to(device)
    optimizer = minicnn.optim.Adam(model.parameters(), lr=lr)
    x = minicnn.randn(*shape, device=device)
    target = minicnn.randint(0, 10, (shape[0],), device=device)
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        loss = minicnn.functional.cross_entropy(model(x), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0], losses
