"""batch_norm, layer_norm, group_norm: gradients, running statistics, PyTorch parity, errors."""
import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
import minicnn.functional as F
from tests.helpers import assert_close, covers, leaf, to_torch


def rng(seed):
    return numpy.random.default_rng(seed)


def affine(channels, seed, device):
    generator = rng(seed)
    return (leaf(generator.uniform(0.5, 2, channels), device),
            leaf(generator.standard_normal(channels), device))


spatial = st.sampled_from([(), (3,), (2, 2)])


@covers("batch_norm")
@given(seed=st.integers(0, 2**16), batch=st.integers(2, 3), channels=st.integers(1, 3),
       spatial=spatial, training=st.booleans())
def test_gradcheck_batch_norm(device, seed, batch, channels, spatial, training):
    x = leaf(rng(seed).standard_normal((batch, channels) + spatial) * 3 + 1, device)
    weight, bias = affine(channels, seed, device)
    running_mean = minicnn.tensor(rng(seed).standard_normal(channels), device=device)
    running_var = minicnn.tensor(rng(seed).uniform(0.5, 2, channels), device=device)
    # In training the running statistics are updated on every call but do not affect the output.
    minicnn.gradcheck(lambda x, w, b: F.batch_norm(x, running_mean, running_var, w, b, training),
                      (x, weight, bias))


@covers("layer_norm")
@given(seed=st.integers(0, 2**16), leading=st.sampled_from([(2,), (2, 2), ()]),
       normalized=st.sampled_from([(3,), (2, 2)]), affine_=st.booleans())
def test_gradcheck_layer_norm(device, seed, leading, normalized, affine_):
    x = leaf(rng(seed).standard_normal(leading + normalized), device)
    parameters = (leaf(rng(seed).uniform(0.5, 2, normalized), device),
                  leaf(rng(seed + 1).standard_normal(normalized), device)) if affine_ else ()
    minicnn.gradcheck(lambda x, *wb: F.layer_norm(x, normalized, *wb), (x,) + parameters)


@covers("group_norm")
@given(seed=st.integers(0, 2**16), groups_and_channels=st.sampled_from([(1, 2), (2, 4), (3, 3)]),
       spatial=spatial)
def test_gradcheck_group_norm(device, seed, groups_and_channels, spatial):
    groups, channels = groups_and_channels
    x = leaf(rng(seed).standard_normal((2, channels) + spatial), device)
    weight, bias = affine(channels, seed, device)
    minicnn.gradcheck(lambda x, w, b: F.group_norm(x, groups, w, b), (x, weight, bias))


def test_gradgradcheck_batch_norm_training(device):
    x = leaf(rng(1).standard_normal((3, 2, 2)), device)
    weight, bias = affine(2, 1, device)
    minicnn.gradgradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                          (x, weight, bias))


def test_gradgradcheck_layer_and_group_norm(device):
    x = leaf(rng(2).standard_normal((2, 4, 2)), device)
    weight, bias = affine(4, 2, device)
    minicnn.gradgradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, weight, bias))
    minicnn.gradgradcheck(lambda x: F.layer_norm(x, (4, 2)), (x,))


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5)], ids=["NC", "NCL", "NCHW"])
def test_batch_norm_matches_torch_over_several_steps(device, torch, shape):
    """Three training steps then one eval step: outputs, gradients and running statistics."""
    channels = shape[1]
    weight, bias = affine(channels, 3, device)
    torch_weight, torch_bias = to_torch(torch, weight), to_torch(torch, bias)
    running_mean, running_var = numpy.zeros(channels), numpy.ones(channels)
    running = minicnn.tensor(running_mean, device=device), minicnn.tensor(running_var, device=device)
    torch_running = torch.tensor(running_mean), torch.tensor(running_var)
    for step, training in enumerate([True, True, True, False]):
        x = leaf(rng(step).standard_normal(shape) * (step + 1) + step, device)
        y = F.batch_norm(x, *running, weight, bias, training=training, momentum=0.3, eps=1e-3)
        x_torch = to_torch(torch, x)
        y_torch = torch.nn.functional.batch_norm(x_torch, *torch_running, torch_weight, torch_bias,
                                                 training=training, momentum=0.3, eps=1e-3)
        upstream = rng(10 + step).standard_normal(shape)
        y.backward(minicnn.tensor(upstream, device=device))
        y_torch.backward(torch.tensor(upstream))
        assert_close(y, y_torch)
        assert_close(x.grad, x_torch.grad)
        for ours, theirs in zip(running, torch_running):
            assert_close(ours, theirs)
    assert_close(weight.grad, torch_weight.grad)
    assert_close(bias.grad, torch_bias.grad)


def test_batch_norm_updates_plain_arrays_in_place():
    running_mean, running_var = numpy.zeros(2), numpy.ones(2)
    x = numpy.array([[1.0, 2.0], [3.0, 6.0]])
    F.batch_norm(minicnn.tensor(x), running_mean, running_var, training=True, momentum=0.5)
    numpy.testing.assert_allclose(running_mean, [1.0, 2.0])            # 0.5 * batch mean
    numpy.testing.assert_allclose(running_var, [0.5 + 0.5 * 2.0, 0.5 + 0.5 * 8.0])  # unbiased


@pytest.mark.parametrize("affine_", [False, True])
def test_layer_and_group_norm_match_torch(device, torch, affine_):
    x = leaf(rng(4).standard_normal((2, 4, 3, 2)) * 2 + 1, device)
    cases = [("layer_norm", (3, 2), (3, 2)), ("group_norm", 2, (4,))]
    for name, argument, parameter_shape in cases:
        parameters = [leaf(rng(5).uniform(0.5, 2, parameter_shape), device),
                      leaf(rng(6).standard_normal(parameter_shape), device)] if affine_ else []
        x.grad = None
        y = getattr(F, name)(x, argument, *parameters, eps=1e-4)
        x_torch = to_torch(torch, x)
        torch_parameters = [to_torch(torch, p) for p in parameters]
        y_torch = getattr(torch.nn.functional, name)(x_torch, argument, *torch_parameters, eps=1e-4)
        upstream = rng(7).standard_normal(x.shape)
        y.backward(minicnn.tensor(upstream, device=device))
        y_torch.backward(torch.tensor(upstream))
        assert_close(y, y_torch)
        for ours, theirs in zip([x] + parameters, [x_torch] + torch_parameters):
            assert_close(ours.grad, theirs.grad)


def test_batch_norm_errors_name_the_argument():
    x = leaf((4, 3, 2))
    with pytest.raises(ValueError, match=r"batch_norm: 'weight' must have shape \(3,\), got \(2,\)"):
        F.batch_norm(x, None, None, leaf((2,)), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: 'running_var' must have shape \(3,\) for "
                                         r"input of shape \(4, 3, 2\), got \(4,\)"):
        F.batch_norm(x, numpy.zeros(3), numpy.ones(4))
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel "
                                         r"when training, got input of shape \(1, 3\)"):
        F.batch_norm(leaf((1, 3)), None, None, training=True)
    with pytest.raises(ValueError, match="batch_norm: training=False needs 'running_mean'"):
        F.batch_norm(x, None, None)


def test_layer_and_group_norm_errors():
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(2, 3\) does not end with "
                                         r"normalized_shape \(4,\)"):
        F.layer_norm(leaf((2, 3)), 4)
    with pytest.raises(ValueError, match=r"group_norm: 6 channels cannot be split into 4 groups"):
        F.group_norm(leaf((2, 6, 3)), 4)


def test_float32_stays_float32(device):
    x = minicnn.randn(4, 2, 3, device=device)
    running_mean, running_var = minicnn.zeros(2, device=device), minicnn.ones(2, device=device)
    assert F.batch_norm(x, running_mean, running_var, training=True).dtype == numpy.float32
    assert F.batch_norm(x, running_mean, running_var).dtype == numpy.float32
    assert F.layer_norm(x, 3).dtype == numpy.float32
    assert F.group_norm(x, 2).dtype == numpy.float32
