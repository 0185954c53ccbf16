"""SmoothGrad equals Captum's NoiseTunnel when both add the same noise; its own noise is
minicnn's seeded generator; bad arguments are named."""
import numpy
import pytest

import minicnn
from minicnn.explain import IntegratedGradients, Saliency, SmoothGrad
from tests.explain.twins import as_torch, digits, lenet_pair


def _captum_noise(torch, seed, shape, samples, stdev):
    """The noise NoiseTunnel draws after torch.manual_seed(seed), as (N, samples, C, H, W):
    one torch.normal over the inputs repeated sample by sample (repeat_interleave)."""
    torch.manual_seed(seed)
    expanded = (shape[0] * samples,) + shape[1:]
    noise = torch.normal(0, torch.tensor(stdev).repeat(expanded))
    return noise.numpy().reshape((shape[0], samples) + shape[1:])


@pytest.mark.parametrize("kind", ["smoothgrad", "smoothgrad_sq", "vargrad"])
def test_equals_captum_noise_tunnel_with_the_same_noise(torch, kind):
    captum = pytest.importorskip("captum.attr")
    ours, theirs = lenet_pair(torch)
    images, samples, stdev = digits(2), 4, 0.1
    torch.manual_seed(3)
    expected = captum.NoiseTunnel(captum.Saliency(theirs)).attribute(
        as_torch(torch, images, requires_grad=True), nt_type=kind, nt_samples=samples,
        stdevs=stdev, target=torch.tensor([1, 5]))
    noise = _captum_noise(torch, 3, images.shape, samples, stdev)
    got = SmoothGrad(Saliency(ours))(images, [1, 5], samples=samples, kind=kind, noise=noise)
    numpy.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_the_wrapped_method_keeps_its_options_and_the_seed_repeats_the_noise():
    model = minicnn.models.LeNet5().eval()
    smooth = SmoothGrad(IntegratedGradients(model))
    minicnn.manual_seed(1)
    first = smooth(digits(1), 2, samples=2, steps=4, method="riemann_middle").numpy()
    minicnn.manual_seed(1)
    again = smooth(digits(1), 2, samples=2, steps=4, method="riemann_middle").numpy()
    numpy.testing.assert_array_equal(first, again)
    zero_noise = smooth(digits(1), 2, samples=2, stdev=0.0, steps=4, method="riemann_middle")
    numpy.testing.assert_allclose(
        zero_noise.numpy(), IntegratedGradients(model)(digits(1), 2, steps=4,
                                                       method="riemann_middle").numpy(),
        rtol=1e-6, atol=1e-8)


def test_bad_arguments_are_named():
    model = minicnn.models.LeNet5().eval()
    with pytest.raises(TypeError, match="SmoothGrad: wraps an attribution method"):
        SmoothGrad(model)
    with pytest.raises(ValueError, match="kind must be one of smoothgrad"):
        SmoothGrad(Saliency(model))(digits(1), 0, kind="mean")
    with pytest.raises(ValueError, match=r"noise must have shape \(N, samples, C, H, W\)"):
        SmoothGrad(Saliency(model))(digits(1), 0, samples=2, noise=numpy.zeros((2, 1, 28, 28)))
    with pytest.raises(ValueError, match="stdev must be >= 0"):
        SmoothGrad(Saliency(model))(digits(1), 0, stdev=-0.1)
