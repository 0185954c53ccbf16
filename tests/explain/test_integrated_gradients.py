"""IntegratedGradients equals Captum's for every quadrature rule; its attributions add up to
the score difference (completeness); the rules integrate what they should."""
import numpy
import pytest

import minicnn
from minicnn.explain import IntegratedGradients
from minicnn.explain.integrated_gradients import RULES, quadrature
from tests.explain.twins import as_torch, digits, lenet_pair


@pytest.mark.parametrize("method", RULES)
def test_equals_captum(torch, method):
    captum = pytest.importorskip("captum.attr")
    ours, theirs = lenet_pair(torch)
    images, baseline = digits(2), 0.1
    expected = captum.IntegratedGradients(theirs).attribute(
        as_torch(torch, images), baselines=baseline, target=torch.tensor([3, 8]), n_steps=7,
        method=method)
    got = IntegratedGradients(ours)(images, [3, 8], baseline=baseline, steps=7, method=method)
    numpy.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_batches_of_any_size_give_the_same_result():
    model = minicnn.models.LeNet5().eval()
    images = digits(3)
    whole = IntegratedGradients(model)(images, 2, steps=6).numpy()
    pieces = IntegratedGradients(model)(images, 2, steps=6, batch_size=4).numpy()
    numpy.testing.assert_allclose(pieces, whole, rtol=1e-6, atol=1e-7)


def test_attributions_add_up_to_the_score_difference():
    # Completeness (Sundararajan et al., proposition 1), with an image baseline. LeNet-5 is
    # piecewise linear, so the quadrature has an error: a thousandth of the total
    # attribution at 64 points (the scores differ by only about 0.003 here).
    model = minicnn.models.LeNet5().double().eval()
    images = digits(2).astype(numpy.float64)
    baseline = numpy.full((1, 1, 28, 28), 0.3)
    attributions = IntegratedGradients(model)(images, 5, baseline=baseline, steps=64).numpy()
    scores = model(minicnn.tensor(images)).numpy()[:, 5]
    start = model(minicnn.tensor(baseline)).numpy()[0, 5]
    error = numpy.abs(attributions.sum(axis=(1, 2, 3)) - (scores - start))
    assert numpy.all(error < 1e-3 * numpy.abs(attributions).sum(axis=(1, 2, 3)))


@pytest.mark.parametrize("method", RULES)
def test_each_rule_integrates_a_line_exactly_and_gauss_legendre_a_polynomial(method):
    points, weights = quadrature(method, 8)
    assert numpy.all((points >= 0) & (points <= 1))
    if method == "riemann_middle":
        assert weights @ (3 * points) == pytest.approx(1.5)          # the midpoint rule: exact
    if method == "gausslegendre":
        assert weights @ points ** 15 == pytest.approx(1 / 16)        # degree 2n - 1
    if method == "riemann_trapezoid":
        assert weights.sum() == pytest.approx(1 - 1 / 8)              # Captum's 1/n weights


def test_bad_arguments_are_named():
    model = minicnn.models.LeNet5().eval()
    with pytest.raises(ValueError, match="method must be one of riemann_left"):
        IntegratedGradients(model)(digits(1), 0, method="simpson")
    with pytest.raises(ValueError, match="steps must be >= 2"):
        IntegratedGradients(model)(digits(1), 0, steps=1, method="riemann_left")
    with pytest.raises(ValueError, match=r"baseline of shape \(3, 28, 28\) does not broadcast"):
        IntegratedGradients(model)(digits(1), 0, baseline=numpy.zeros((3, 28, 28)))
