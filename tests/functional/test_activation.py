"""Activations: gradients and second derivatives, PyTorch parity, stability at +-1000, errors."""
import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import minicnn
import minicnn.functional as F
from minicnn.functional.activation import erf_array
from tests.helpers import assert_close, covers, leaf, to_torch

# (name, keyword arguments); softplus with a low threshold so both of its branches occur.
CASES = [("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 1.5}),
         ("gelu", {}), ("sigmoid", {}), ("tanh", {}), ("softplus", {"beta": 2.0, "threshold": 3.0}),
         ("softmax", {"dim": -1}), ("log_softmax", {"dim": 0})]
NAMES = [name for name, _ in CASES]

shapes = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def ours(name, kwargs):
    return lambda x: getattr(F, name)(x, **kwargs)


def theirs(torch, name, kwargs):
    function = getattr(torch, name) if name in ("sigmoid", "tanh") else getattr(torch.nn.functional, name)
    return lambda x: function(x, **kwargs)


def sample(shape, seed, scale=2.0):
    return numpy.random.default_rng(seed).standard_normal(shape) * scale


@covers(*NAMES)
@pytest.mark.parametrize("name,kwargs", CASES, ids=NAMES)
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_gradcheck(device, name, kwargs, shape, seed):
    minicnn.gradcheck(ours(name, kwargs), (leaf(sample(shape, seed), device),))


@pytest.mark.parametrize("name,kwargs", CASES, ids=NAMES)
def test_gradgradcheck(device, name, kwargs):
    minicnn.gradgradcheck(ours(name, kwargs), (leaf(sample((3, 4), 1), device),))


@pytest.mark.parametrize("name,kwargs", CASES, ids=NAMES)
@pytest.mark.parametrize("scale", [2.0, 1000.0], ids=["normal", "huge"])
def test_matches_torch_forward_and_backward(device, torch, name, kwargs, scale):
    """Scale 1000 puts every logit at +-hundreds: values and gradients must stay finite."""
    x = leaf(sample((4, 5), 2, scale), device)
    upstream = sample((4, 5), 3)
    y = ours(name, kwargs)(x)
    y.backward(minicnn.tensor(upstream, device=device))
    x_torch = to_torch(torch, x)
    y_torch = theirs(torch, name, kwargs)(x_torch)
    y_torch.backward(torch.tensor(upstream))
    assert numpy.isfinite(y.numpy()).all() and numpy.isfinite(x.grad.numpy()).all()
    assert_close(y, y_torch, rtol=1e-10, atol=1e-12)
    assert_close(x.grad, x_torch.grad, rtol=1e-10, atol=1e-12)


def test_softmax_of_extreme_logits_is_exact(device):
    x = leaf(numpy.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]]), device)
    numpy.testing.assert_allclose(F.softmax(x, dim=1).numpy(),
                                  [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-300)
    numpy.testing.assert_allclose(F.log_softmax(x, axis=1).numpy()[0], [0, -2000, -1000])


def test_softmax_defaults_to_the_last_axis(device):
    x = leaf(sample((2, 3), 4), device)
    assert_close(F.softmax(x), F.softmax(x, dim=1).numpy())
    numpy.testing.assert_allclose(F.softmax(x).numpy().sum(axis=1), 1.0)


def test_erf_kernel_keeps_float32_and_matches_reference():
    from math import erf
    points = numpy.linspace(-5, 5, 41)
    numpy.testing.assert_allclose(erf_array(points), [erf(p) for p in points], rtol=1e-15)
    assert erf_array(points.astype(numpy.float32)).dtype == numpy.float32


def test_float32_stays_float32(device):
    x = minicnn.randn(3, 4, device=device)
    for name, kwargs in CASES:
        assert ours(name, kwargs)(x).dtype == numpy.float32, name


def test_softmax_rejects_bad_dim():
    x = leaf((2, 3))
    with pytest.raises(IndexError, match=r"softmax: dim 2 is out of range for input of shape \(2, 3\)"):
        F.softmax(x, dim=2)
    with pytest.raises(TypeError, match="log_softmax: pass 'dim' or 'axis', not both"):
        F.log_softmax(x, dim=1, axis=1)
