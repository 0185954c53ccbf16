"""embedding: gather forward, scatter-add backward (repeated indices, padding_idx), errors."""
import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
import minicnn.functional as F
from tests.helpers import assert_close, covers, leaf, to_torch


@covers("embedding")
@given(seed=st.integers(0, 2**16), count=st.integers(1, 4), dim=st.integers(1, 3),
       index_shape=st.sampled_from([(3,), (2, 3)]))
def test_gradcheck(device, seed, count, dim, index_shape):
    generator = numpy.random.default_rng(seed)
    indices = minicnn.tensor(generator.integers(0, count, index_shape), device=device)
    weight = leaf(generator.standard_normal((count, dim)), device)
    minicnn.gradcheck(lambda w: F.embedding(indices, w), (weight,))


def test_gradgradcheck_with_padding(device):
    """The scatter-add backward is differentiable too; its own backward is the lookup."""
    indices = minicnn.tensor([[0, 2, 2], [1, 0, 2]], device=device)
    weight = leaf((3, 2), device)
    minicnn.gradgradcheck(lambda w: F.embedding(indices, w, padding_idx=1) ** 2, (weight,))


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_matches_torch_with_repeated_indices(device, torch, padding_idx):
    indices = numpy.array([[0, 2, 2, 4], [2, 1, 0, 2]])
    weight = leaf((5, 3), device)
    y = F.embedding(minicnn.tensor(indices, device=device), weight, padding_idx=padding_idx)
    weight_torch = to_torch(torch, weight)
    y_torch = torch.nn.functional.embedding(torch.tensor(indices), weight_torch, padding_idx=padding_idx)
    upstream = numpy.random.default_rng(1).standard_normal(y.shape)
    y.backward(minicnn.tensor(upstream, device=device))
    y_torch.backward(torch.tensor(upstream))
    assert_close(y, y_torch)
    assert_close(weight.grad, weight_torch.grad)
    if padding_idx is not None:
        assert (weight.grad.numpy()[padding_idx] == 0).all()


def test_repeated_indices_accumulate(device):
    weight = leaf(numpy.zeros((3, 1)), device)
    F.embedding(minicnn.tensor([1, 1, 1, 0], device=device), weight).sum().backward()
    numpy.testing.assert_array_equal(weight.grad.numpy()[:, 0], [1, 3, 0])


def test_bad_indices_are_named():
    weight = leaf((10, 2))
    with pytest.raises(IndexError, match=r"embedding: index 12 is out of range for 10 embeddings "
                                         r"\(at position \(1, 0\) of 'input'\)"):
        F.embedding(minicnn.tensor([[1, 2], [12, 0]]), weight)
    with pytest.raises(IndexError, match="embedding: index -1 is out of range"):
        F.embedding(minicnn.tensor([-1]), weight)
    with pytest.raises(TypeError, match="embedding: 'input' must be an integer tensor of indices, "
                                        "got dtype float32"):
        F.embedding(minicnn.tensor([1.0]), weight)
    with pytest.raises(ValueError, match=r"embedding: 'weight' must be 2-d"):
        F.embedding(minicnn.tensor([1]), leaf((10,)))
    with pytest.raises(ValueError, match="embedding: padding_idx 10 is out of range for 10"):
        F.embedding(minicnn.tensor([1]), weight, padding_idx=10)
