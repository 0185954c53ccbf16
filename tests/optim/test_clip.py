"""clip_grad_norm_ and clip_grad_value_ against torch.nn.utils."""
import math

import numpy
import pytest

import minicnn
from minicnn.optim import clip_grad_norm_, clip_grad_value_

SHAPES = [(3, 4), (5,), (2, 2, 2)]


def with_grads(device, scale):
    rng = numpy.random.default_rng(0)
    grads = [scale * rng.standard_normal(shape) for shape in SHAPES]
    params = []
    for g in grads:
        p = minicnn.zeros(g.shape, dtype="float64", requires_grad=True, device=device)
        p.grad = minicnn.tensor(g, device=device)
        params.append(p)
    return params, grads


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])      # clipped, and left alone
def test_clip_grad_norm_matches_torch(torch, device, norm_type, max_norm):
    params, grads = with_grads(device, scale=2.0)
    total = clip_grad_norm_(params, max_norm, norm_type=norm_type)

    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(theirs, grads):
        p.grad = torch.tensor(g)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type, foreach=False)

    numpy.testing.assert_allclose(total.numpy(), expected.numpy(), rtol=1e-13)
    for ours, reference in zip(params, theirs):
        numpy.testing.assert_allclose(ours.grad.numpy(), reference.grad.numpy(), rtol=1e-13)


def test_clip_grad_norm_skips_missing_grads_and_accepts_one_tensor():
    w = minicnn.tensor([3.0, 4.0], requires_grad=True)
    assert clip_grad_norm_([minicnn.zeros(2, requires_grad=True)], 1.0).item() == 0.0
    w.grad = minicnn.tensor([3.0, 4.0])
    assert clip_grad_norm_(w, 1.0).item() == pytest.approx(5.0)
    numpy.testing.assert_allclose(w.grad.numpy(), [0.6, 0.8], rtol=1e-6)


def test_clip_grad_norm_error_if_nonfinite():
    w = minicnn.tensor([1.0], requires_grad=True)
    w.grad = minicnn.tensor([math.inf])
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: the total norm of order 2.0 .* is inf"):
        clip_grad_norm_([w], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch(torch, device):
    params, grads = with_grads(device, scale=1.0)
    clip_grad_value_(params, 0.5)
    for p, g in zip(params, grads):
        expected = torch.tensor(g)
        numpy.testing.assert_array_equal(p.grad.numpy(), expected.clamp(-0.5, 0.5).numpy())


def test_bad_arguments():
    w = minicnn.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"clip_grad_norm_: norm_type must be positive or inf, got -1.0"):
        clip_grad_norm_([w], 1.0, norm_type=-1)
    with pytest.raises(ValueError, match=r"clip_grad_value_: clip_value must be >= 0, got -1"):
        clip_grad_value_([w], -1)
    with pytest.raises(TypeError, match=r"parameter 0 is a ndarray, expected a minicnn Tensor"):
        clip_grad_value_([numpy.zeros(2)], 1.0)


def test_clip_grad_norm_keeps_float32():
    w = minicnn.zeros(4, dtype="float32", requires_grad=True)
    w.grad = minicnn.full((4,), 2.0, dtype="float32")
    total = clip_grad_norm_([w], 1.0)
    assert total.dtype == numpy.float32 and total.shape == () and total.item() == 4.0
    assert w.grad.dtype == numpy.float32
    numpy.testing.assert_allclose(w.grad.numpy(), 0.5, rtol=1e-6)
