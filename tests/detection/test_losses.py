"""The focal loss: gradcheck, equal to torchvision's formula in PyTorch (forward and
backward), what alpha and gamma do; the prior bias."""
import math

import numpy
import pytest

import minicnn
from minicnn.detection.losses import prior_probability_bias, sigmoid_focal_loss
from tests.helpers import assert_close, leaf, to_torch


def torchvision_focal_loss(torch, inputs, targets, alpha, gamma, reduction):
    """torchvision.ops.sigmoid_focal_loss, line for line."""
    p = torch.sigmoid(inputs)
    ce_loss = torch.nn.functional.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def test_gradcheck_in_logits_and_soft_targets():
    rng = numpy.random.default_rng(0)
    logits, targets = leaf(rng.normal(0, 2, (3, 4))), leaf(rng.uniform(0, 1, (3, 4)))
    assert minicnn.gradcheck(lambda x, t: sigmoid_focal_loss(x, t), (logits, targets))
    assert minicnn.gradcheck(lambda x, t: sigmoid_focal_loss(x, t, alpha=-1, gamma=1.5,
                                                             reduction="sum"), (logits, targets))


@pytest.mark.parametrize("alpha, gamma, reduction", [(0.25, 2, "none"), (0.25, 2, "mean"),
                                                     (-1, 0, "sum"), (0.6, 1.5, "mean")])
def test_equals_torchvision(torch, alpha, gamma, reduction):
    rng = numpy.random.default_rng(1)
    logits = leaf(rng.normal(0, 3, (5, 6)))
    targets = leaf((rng.uniform(size=(5, 6)) < 0.3).astype(float), requires_grad=False)
    ours = sigmoid_focal_loss(logits, targets, alpha, gamma, reduction)
    torch_logits = to_torch(torch, logits)
    theirs = torchvision_focal_loss(torch, torch_logits, to_torch(torch, targets), alpha, gamma, reduction)
    assert_close(ours, theirs)
    ours.sum().backward()
    theirs.sum().backward()
    assert_close(logits.grad, torch_logits.grad)


def test_easy_negatives_weigh_little():
    logits = minicnn.tensor([-5.0, 5.0], dtype="float64")
    targets = minicnn.tensor([0.0, 0.0], dtype="float64")
    focal = sigmoid_focal_loss(logits, targets, alpha=-1).numpy()
    cross_entropy = -numpy.log(1 - 1 / (1 + numpy.exp(-numpy.array([-5.0, 5.0]))))
    # The easy negative keeps (sigmoid(-5))^2 = 4.5e-5 of its cross-entropy, the hard one
    # (sigmoid(5))^2 = 0.987 of it.
    numpy.testing.assert_allclose(focal / cross_entropy, [1 / (1 + math.exp(5)) ** 2,
                                                          1 / (1 + math.exp(-5)) ** 2])


def test_prior_bias():
    assert prior_probability_bias(0.01) == pytest.approx(-4.59511985)
    assert 1 / (1 + math.exp(-prior_probability_bias(0.2))) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="prior_probability_bias: pi must lie in"):
        prior_probability_bias(1.0)
    with pytest.raises(ValueError, match="sigmoid_focal_loss: reduction must be"):
        sigmoid_focal_loss(minicnn.tensor([0.0]), minicnn.tensor([1.0]), reduction="max")
