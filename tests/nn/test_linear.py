"""Linear: gradcheck, PyTorch parity, shape errors."""
import pytest

import minicnn
from minicnn import nn
from tests.helpers import leaf
from tests.nn.layer_checks import check_parity, gradcheck_layer


@pytest.mark.parametrize("bias", [True, False])
def test_gradcheck(device, bias):
    layer = nn.Linear(3, 2, bias=bias).to(device, minicnn.float64)
    assert gradcheck_layer(layer, leaf((2, 3), device))


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,)])
def test_parity_with_torch(torch, device, shape):
    check_parity(torch, nn.Linear(5, 3).to(device), torch.nn.Linear(5, 3), leaf(shape, device))


def test_wrong_input_names_the_layer():
    with pytest.raises(ValueError, match=r"^Linear\(784, 10\): expected input with last "
                                         r"dimension 784, got shape \(8, 100\)$"):
        nn.Linear(784, 10)(minicnn.zeros(8, 100))


def test_repr_and_parameter_shapes():
    layer = nn.Linear(4, 2, bias=False)
    assert repr(layer) == "Linear(4, 2, bias=False)"
    assert layer.weight.shape == (2, 4) and layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
