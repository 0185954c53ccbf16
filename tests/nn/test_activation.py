"""Activation modules: gradcheck, PyTorch parity, printing."""
import pytest

import minicnn
from minicnn import nn
from tests.helpers import leaf
from tests.nn.layer_checks import check_parity, gradcheck_layer

CASES = [  # (name, constructor arguments)
    ("ReLU", {}), ("LeakyReLU", dict(negative_slope=0.2)), ("ELU", dict(alpha=0.7)),
    ("GELU", {}), ("Sigmoid", {}), ("Tanh", {}), ("Softplus", dict(beta=2.0, threshold=3.0)),
    ("Softmax", dict(dim=1)), ("LogSoftmax", dict(dim=-1)),
]


def _away_from_kinks(shape, device):
    """Inputs at least 0.1 away from 0, where ReLU-like functions have no derivative."""
    x = leaf(shape, device)
    x.data[abs(x.data) < 0.1] += 0.2
    return x


@pytest.mark.parametrize("name, arguments", CASES)
def test_gradcheck(device, name, arguments):
    assert gradcheck_layer(getattr(nn, name)(**arguments), _away_from_kinks((2, 3), device))


@pytest.mark.parametrize("name, arguments", CASES)
def test_parity_with_torch(torch, device, name, arguments):
    check_parity(torch, getattr(nn, name)(**arguments), getattr(torch.nn, name)(**arguments),
                 _away_from_kinks((3, 4, 2), device))


def test_repr():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.LeakyReLU(0.1)) == "LeakyReLU(negative_slope=0.1)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"


def test_softmax_defaults_to_the_last_dimension():
    x = minicnn.randn(2, 5)
    assert nn.Softmax()(x).numpy().sum(axis=-1) == pytest.approx([1.0, 1.0])
