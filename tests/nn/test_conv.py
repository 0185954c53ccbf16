"""Conv1d, Conv2d, ConvTranspose2d: gradcheck, PyTorch parity, shape errors, printing."""
import pytest

import minicnn
from minicnn import nn
from tests.helpers import leaf
from tests.nn.layer_checks import check_parity, gradcheck_layer

CASES = [  # (layer class name, constructor arguments, input shape)
    ("Conv2d", dict(in_channels=2, out_channels=3, kernel_size=2), (2, 2, 3, 3)),
    ("Conv2d", dict(in_channels=2, out_channels=2, kernel_size=(3, 2), stride=2, padding=1,
                    groups=2, bias=False), (1, 2, 4, 5)),
    ("Conv2d", dict(in_channels=1, out_channels=2, kernel_size=2, dilation=2), (1, 1, 4, 4)),
    ("Conv1d", dict(in_channels=2, out_channels=3, kernel_size=3, padding=1), (2, 2, 5)),
    ("ConvTranspose2d", dict(in_channels=2, out_channels=3, kernel_size=3, stride=2, padding=1,
                             output_padding=1), (1, 2, 2, 3)),
    ("Conv2d", dict(in_channels=1, out_channels=2, kernel_size=3, padding=(1, 2),
                    padding_mode="reflect"), (1, 1, 3, 4)),
    ("Conv2d", dict(in_channels=1, out_channels=1, kernel_size=2, padding=1,
                    padding_mode="circular"), (2, 1, 3, 3)),
    ("Conv1d", dict(in_channels=1, out_channels=2, kernel_size=3, padding=2,
                    padding_mode="replicate"), (1, 1, 4)),
]


@pytest.mark.parametrize("name, arguments, shape", CASES)
def test_gradcheck(device, name, arguments, shape):
    layer = getattr(nn, name)(**arguments).to(device, minicnn.float64)
    assert gradcheck_layer(layer, leaf(shape, device))


@pytest.mark.parametrize("name, arguments, shape", CASES + [
    ("Conv2d", dict(in_channels=3, out_channels=8, kernel_size=3, padding=1), (2, 3, 8, 8))])
def test_parity_with_torch(torch, device, name, arguments, shape):
    ours = getattr(nn, name)(**arguments).to(device)
    check_parity(torch, ours, getattr(torch.nn, name)(**arguments), leaf(shape, device))


def test_wrong_channels_name_the_layer_and_expected_shape():
    message = (r"^Conv2d\(1, 6, kernel_size=5\): expected input of shape \(N, 1, H, W\), "
               r"got \(8, 3, 28, 28\)$")
    with pytest.raises(ValueError, match=message):
        nn.Conv2d(1, 6, kernel_size=5)(minicnn.zeros(8, 3, 28, 28))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 2, L\), got \(2, 5\)"):
        nn.Conv1d(2, 4, 3)(minicnn.zeros(2, 5))


def test_padding_mode_is_checked():
    with pytest.raises(ValueError, match="padding_mode must be one of zeros, reflect, "
                                         "replicate, circular, got 'mirror'"):
        nn.Conv2d(1, 1, 3, padding=1, padding_mode="mirror")
    assert repr(nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect")) == (
        "Conv2d(1, 1, kernel_size=3, padding=1, padding_mode='reflect')")


def test_groups_must_divide_channels():
    with pytest.raises(ValueError, match="Conv2d: in_channels=3 must be divisible by groups=2"):
        nn.Conv2d(3, 4, 3, groups=2)


def test_repr_shows_what_differs_from_the_defaults():
    assert repr(nn.Conv2d(1, 6, 5)) == "Conv2d(1, 6, kernel_size=5)"
    assert repr(nn.Conv2d(3, 16, (3, 1), stride=2, padding=1, bias=False)) == (
        "Conv2d(3, 16, kernel_size=(3, 1), stride=2, padding=1, bias=False)")
    assert nn.ConvTranspose2d(4, 2, 3, groups=2).weight.shape == (4, 1, 3, 3)
