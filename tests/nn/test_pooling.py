"""MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d: gradcheck, parity, errors."""
import numpy
import pytest

import minicnn
from minicnn import nn
from tests.helpers import leaf
from tests.nn.layer_checks import check_parity, gradcheck_layer

CASES = [
    ("MaxPool2d", dict(kernel_size=2)),
    ("MaxPool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("AvgPool2d", dict(kernel_size=2, stride=1)),
    ("AvgPool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("AdaptiveAvgPool2d", dict(output_size=(2, 3))),
    ("AdaptiveMaxPool2d", dict(output_size=2)),
]


def _distinct(shape, device):
    """Inputs without ties, so the max is unique and finite differences are valid."""
    values = numpy.random.permutation(numpy.prod(shape)).reshape(shape) / 10.0
    return leaf(values, device)


@pytest.mark.parametrize("name, arguments", CASES)
def test_gradcheck(device, name, arguments):
    assert gradcheck_layer(getattr(nn, name)(**arguments), _distinct((1, 2, 4, 5), device))


@pytest.mark.parametrize("name, arguments", CASES)
def test_parity_with_torch(torch, device, name, arguments):
    check_parity(torch, getattr(nn, name)(**arguments), getattr(torch.nn, name)(**arguments),
                 _distinct((2, 3, 6, 7), device))


def test_wrong_rank_names_the_layer():
    with pytest.raises(ValueError, match=r"^MaxPool2d\(kernel_size=2\): expected input of "
                                         r"shape \(N, C, H, W\), got \(3, 8, 8\)$"):
        nn.MaxPool2d(2)(minicnn.zeros(3, 8, 8))


def test_repr():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2)"
    assert repr(nn.AvgPool2d(3, stride=1, padding=1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(nn.AdaptiveAvgPool2d(1)) == "AdaptiveAvgPool2d(output_size=1)"
