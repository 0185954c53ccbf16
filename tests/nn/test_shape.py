"""Identity, Flatten, Upsample: gradcheck, PyTorch parity."""
import pytest

import minicnn
from minicnn import nn
from tests.helpers import leaf
from tests.nn.layer_checks import check_parity, gradcheck_layer

CASES = [  # (name, constructor arguments, input shape)
    ("Identity", {}, (2, 3)),
    ("Flatten", {}, (2, 3, 2, 2)),
    ("Flatten", dict(start_dim=2), (2, 3, 2, 2)),
    ("Upsample", dict(scale_factor=2), (1, 2, 2, 3)),
    ("Upsample", dict(size=(3, 5), mode="bilinear", align_corners=False), (1, 2, 2, 3)),
]


@pytest.mark.parametrize("name, arguments, shape", CASES)
def test_gradcheck(device, name, arguments, shape):
    assert gradcheck_layer(getattr(nn, name)(**arguments), leaf(shape, device))


@pytest.mark.parametrize("name, arguments, shape", CASES)
def test_parity_with_torch(torch, device, name, arguments, shape):
    check_parity(torch, getattr(nn, name)(**arguments), getattr(torch.nn, name)(**arguments),
                 leaf(shape, device))


def test_flatten_shape_and_repr():
    assert nn.Flatten()(minicnn.zeros(8, 16, 5, 5)).shape == (8, 400)
    assert repr(nn.Flatten(start_dim=0)) == "Flatten(start_dim=0)"
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(mode='nearest', scale_factor=2)"
