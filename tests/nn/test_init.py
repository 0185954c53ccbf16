"""Initialisation: PyTorch's gains, fans and bounds, checked statistically, and seeding."""
import math

import numpy
import pytest

import minicnn
from minicnn import nn
from minicnn.nn import init


def _uniform_bound(values):
    """Check `values` look like U(-b, b) and return b, estimated from the spread."""
    values = numpy.asarray(values, dtype=numpy.float64).ravel()
    bound = numpy.abs(values).max()
    assert abs(values.mean()) < 0.05 * bound
    # The std of U(-b, b) is b / sqrt(3); with >= 10^4 samples it is within a few percent.
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    return bound


@pytest.mark.parametrize("layer, torch_layer, fan_in", [
    (lambda: nn.Linear(400, 300), lambda t: t.nn.Linear(400, 300), 400),
    (lambda: nn.Conv2d(16, 64, 3), lambda t: t.nn.Conv2d(16, 64, 3), 144),
    (lambda: nn.Conv1d(8, 128, 5), lambda t: t.nn.Conv1d(8, 128, 5), 40),
    # PyTorch computes ConvTranspose's fan_in from weight.shape[1] = out_channels / groups.
    (lambda: nn.ConvTranspose2d(64, 16, 4), lambda t: t.nn.ConvTranspose2d(64, 16, 4), 256),
])
def test_default_init_matches_torch_bounds(torch, layer, torch_layer, fan_in):
    ours, theirs = layer(), torch_layer(torch)
    expected = 1 / math.sqrt(fan_in)
    for values in (ours.weight.numpy(), theirs.weight.detach().numpy()):
        assert _uniform_bound(values) == pytest.approx(expected, rel=0.01)
    assert numpy.abs(ours.bias.numpy()).max() <= expected
    assert ours.weight.shape == tuple(theirs.weight.shape)


def test_norm_and_embedding_defaults():
    bn = nn.BatchNorm2d(3)
    numpy.testing.assert_array_equal(bn.weight.numpy(), numpy.ones(3))
    numpy.testing.assert_array_equal(bn.bias.numpy(), numpy.zeros(3))
    numpy.testing.assert_array_equal(bn.running_var.numpy(), numpy.ones(3))
    embedding = nn.Embedding(1000, 64, padding_idx=0).weight.numpy()
    assert embedding[1:].std() == pytest.approx(1.0, rel=0.03)
    numpy.testing.assert_array_equal(embedding[0], numpy.zeros(64))


def test_manual_seed_reproduces_the_weights():
    minicnn.manual_seed(123)
    first = nn.Conv2d(3, 8, 3).weight.numpy()
    minicnn.manual_seed(123)
    numpy.testing.assert_array_equal(nn.Conv2d(3, 8, 3).weight.numpy(), first)


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(torch, nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param))


def test_calculate_gain_rejects_unknown_names():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming(mode):
    weight = minicnn.zeros(200, 100, 3, 3)
    fan = 100 * 9 if mode == "fan_in" else 200 * 9
    init.kaiming_normal_(weight, mode=mode, nonlinearity="relu")
    assert weight.numpy().std() == pytest.approx(math.sqrt(2 / fan), rel=0.02)
    assert init.kaiming_uniform_(weight, mode=mode, nonlinearity="relu") is weight
    assert _uniform_bound(weight.numpy()) == pytest.approx(math.sqrt(6 / fan), rel=0.01)


def test_xavier():
    weight = minicnn.zeros(300, 200, dtype=minicnn.float64)
    init.xavier_uniform_(weight, gain=2.0)
    assert _uniform_bound(weight.numpy()) == pytest.approx(2 * math.sqrt(6 / 500), rel=0.01)
    init.xavier_normal_(weight)
    assert weight.numpy().std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    assert weight.dtype == minicnn.float64


def test_simple_fills(device):
    weight = minicnn.zeros(100, 100, device=device)
    init.normal_(weight, mean=3.0, std=0.5)
    assert weight.numpy().mean() == pytest.approx(3.0, abs=0.02)
    assert weight.device == minicnn.device(device)
    init.uniform_(weight, -2.0, -1.0)
    assert -2 <= weight.numpy().min() and weight.numpy().max() < -1
    numpy.testing.assert_array_equal(init.constant_(weight, 0.25).numpy(), 0.25)
    numpy.testing.assert_array_equal(init.ones_(weight).numpy(), 1)
    numpy.testing.assert_array_equal(init.zeros_(weight).numpy(), 0)


def test_fan_needs_two_dimensions_and_a_known_mode():
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        init.xavier_uniform_(minicnn.zeros(5))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan_avg'"):
        init.kaiming_uniform_(minicnn.zeros(5, 5), mode="fan_avg")
