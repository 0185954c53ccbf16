"""Embedding: gradcheck of the table, PyTorch parity (padding row gets no gradient), errors."""
import numpy
import pytest

import minicnn
from minicnn import nn
from tests.nn.layer_checks import check_parity, gradcheck_layer


def _indices(values, device):
    return minicnn.tensor(numpy.array(values, dtype=numpy.int64), device=device)


def test_gradcheck(device):
    layer = nn.Embedding(4, 2).to(device, minicnn.float64)
    assert gradcheck_layer(layer, _indices([[0, 3], [3, 1]], device))


@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_parity_with_torch(torch, device, padding_idx):
    ours = nn.Embedding(5, 3, padding_idx=padding_idx).to(device)
    theirs = torch.nn.Embedding(5, 3, padding_idx=padding_idx)
    check_parity(torch, ours, theirs, _indices([[1, 4, 1], [0, 1, 2]], device))


def test_padding_row_starts_at_zero_and_indices_must_be_integers():
    layer = nn.Embedding(4, 3, padding_idx=-1)
    assert layer.padding_idx == 3
    numpy.testing.assert_array_equal(layer.weight.numpy()[3], numpy.zeros(3))
    with pytest.raises(TypeError, match=r"Embedding\(4, 3, padding_idx=3\): expected integer "
                                        r"indices, got dtype float32"):
        layer(minicnn.zeros(2))
    with pytest.raises(ValueError, match="padding_idx=4 is out of range for num_embeddings=4"):
        nn.Embedding(4, 3, padding_idx=4)
