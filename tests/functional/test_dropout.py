"""dropout, dropout2d: masks from the seeded generator, inverted scaling, gradients, errors."""
import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
import minicnn.functional as F
from tests.helpers import covers, leaf


def seeded(function, seed, **kwargs):
    """`function` with the same mask on every call, as gradcheck's repeated evaluations need."""
    def call(x):
        minicnn.manual_seed(seed)
        return function(x, **kwargs)
    return call


@covers("dropout", "dropout2d")
@given(seed=st.integers(0, 2**16), p=st.sampled_from([0.0, 0.3, 0.8]),
       shape=st.sampled_from([(2, 3, 2), (2, 2, 2, 2)]))
def test_gradcheck(device, seed, p, shape):
    x = leaf(numpy.random.default_rng(seed).standard_normal(shape), device)
    minicnn.gradcheck(seeded(F.dropout, seed, p=p), (x,))
    minicnn.gradcheck(seeded(F.dropout2d, seed, p=p), (x,))


@pytest.mark.parametrize("function", [F.dropout, F.dropout2d])
def test_output_and_gradient_are_the_scaled_mask(device, function):
    """y = x * m / (1 - p) and dy/dx = m / (1 - p) with the same mask m, as in PyTorch."""
    x = leaf(numpy.random.default_rng(0).uniform(1, 2, (8, 6, 5, 5)), device)
    minicnn.manual_seed(7)
    y = function(x, p=0.25)
    y.sum().backward()
    kept = y.numpy() != 0
    numpy.testing.assert_allclose(y.numpy(), numpy.where(kept, x.numpy() / 0.75, 0.0))
    numpy.testing.assert_allclose(x.grad.numpy(), kept / 0.75)
    assert 0.65 < kept.mean() < 0.85


def test_dropout2d_drops_whole_channels(device):
    x = leaf(numpy.ones((16, 8, 3, 3)), device)
    y = F.dropout2d(x, p=0.5).numpy().reshape(16, 8, 9)
    assert ((y == 0).all(axis=2) | (y == 2).all(axis=2)).all()
    assert 0 < (y == 0).all(axis=2).sum() < 16 * 8


def test_manual_seed_reproduces_the_mask(device):
    x = leaf((4, 5), device)
    draws = []
    for _ in range(2):
        minicnn.manual_seed(123)
        draws.append(F.dropout(x, p=0.5).numpy())
    numpy.testing.assert_array_equal(draws[0], draws[1])
    assert not numpy.array_equal(draws[0], F.dropout(x, p=0.5).numpy())


def test_identity_when_evaluating_or_p_is_zero_and_zero_when_p_is_one(device):
    x = leaf((3, 4, 2), device)
    assert F.dropout(x, p=0.5, training=False) is x
    assert F.dropout2d(x, p=0.0) is x
    assert (F.dropout(x, p=1.0).numpy() == 0).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"dropout: p must be a probability in \[0, 1\], got 1.5"):
        F.dropout(leaf((2,)), p=1.5)
    with pytest.raises(ValueError, match=r"dropout2d: p must be a probability in \[0, 1\], got -0.1"):
        F.dropout2d(leaf((2, 2, 2)), p=-0.1)
    with pytest.raises(ValueError, match=r"dropout2d: expected input of shape \(N, C, H, W\) or "
                                         r"\(N, C, L\), got shape \(2, 2\)"):
        F.dropout2d(leaf((2, 2)))
