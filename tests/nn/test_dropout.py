"""Dropout, Dropout2d: what is dropped, the 1/(1-p) scaling, train/eval switching, gradcheck."""
import numpy
import pytest

import minicnn
from minicnn import nn
from tests.helpers import leaf
from tests.nn.layer_checks import gradcheck_layer


@pytest.mark.parametrize("name", ["Dropout", "Dropout2d"])
def test_gradcheck_with_a_fixed_mask(device, name):
    assert gradcheck_layer(getattr(nn, name)(0.4), leaf((2, 3, 2, 2), device), seed=5)


def test_dropout_scales_survivors_and_keeps_the_mean(device):
    x = minicnn.ones(200, 100, device=device)
    y = nn.Dropout(0.25)(x).numpy()
    assert set(numpy.unique(y)) <= {0.0, numpy.float32(1 / 0.75)}
    assert (y == 0).mean() == pytest.approx(0.25, abs=0.02)
    assert y.mean() == pytest.approx(1.0, abs=0.03)


def test_dropout2d_drops_whole_channels(device):
    y = nn.Dropout2d(0.5)(minicnn.ones(50, 8, 3, 3, device=device)).numpy()
    per_channel = y.reshape(50, 8, 9)
    assert (per_channel == per_channel[..., :1]).all()
    assert (per_channel[..., 0] == 0).mean() == pytest.approx(0.5, abs=0.06)


@pytest.mark.parametrize("name", ["Dropout", "Dropout2d"])
def test_eval_is_the_identity_and_train_switches_back(torch, name):
    model = nn.Sequential(getattr(nn, name)(0.5))
    x = minicnn.randn(4, 3, 2, 2)
    model.eval()
    numpy.testing.assert_array_equal(model(x).numpy(), x.numpy())
    reference = getattr(torch.nn, name)(0.5).eval()
    numpy.testing.assert_array_equal(reference(torch.tensor(x.numpy())).numpy(), x.numpy())
    model.train()
    assert (model(x).numpy() == 0).any()


def test_probability_is_checked():
    with pytest.raises(ValueError, match="Dropout: p must be between 0 and 1, got 1.5"):
        nn.Dropout(1.5)
    assert repr(nn.Dropout2d(0.3)) == "Dropout2d(p=0.3)"
