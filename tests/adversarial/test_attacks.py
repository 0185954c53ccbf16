"""fgsm and pgd equal torchattacks' FGSM and PGD (random_start=False) bit for bit in
float64, untargeted and targeted; the results stay in [0, 1] and in the eps ball; the model
and inputs are left as they were; bad arguments are named."""
import numpy
import pytest

import minicnn
from minicnn.adversarial import fgsm, pgd
from tests.explain.twins import as_torch, digits, lenet_pair


def _labels(count, seed=1):
    return numpy.random.default_rng(seed).integers(0, 10, count)


def _pair(torch, dtype):
    ours, theirs = lenet_pair(torch)
    if dtype == "float64":
        ours, theirs = ours.double(), theirs.double()
    return ours, theirs


def _check_agreement(got, expected, dtype):
    """float64: bit for bit. float32: the libraries sum the gradient in different orders,
    so where a gradient is within rounding of zero its sign, and then the step, can differ
    (on 256 test digits, 14 of 200,704 pixels for FGSM); nearly every pixel must agree."""
    if dtype == "float64":
        numpy.testing.assert_array_equal(got, expected)
    else:
        assert (got == expected).mean() > 0.99


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("targeted", [False, True])
def test_fgsm_equals_torchattacks(torch, targeted, dtype):
    torchattacks = pytest.importorskip("torchattacks")
    ours, theirs = _pair(torch, dtype)
    images, labels = digits(32).astype(dtype), _labels(32)
    attack = torchattacks.FGSM(theirs, eps=0.1)
    if targeted:
        attack.set_mode_targeted_by_label(quiet=True)
    expected = attack(as_torch(torch, images), torch.tensor(labels)).numpy()
    got = fgsm(ours, images, labels, eps=0.1, targeted=targeted).numpy()
    _check_agreement(got, expected, dtype)


@pytest.mark.parametrize("dtype, targeted", [("float64", False), ("float64", True),
                                             ("float32", False)])
def test_pgd_equals_torchattacks(torch, targeted, dtype):
    torchattacks = pytest.importorskip("torchattacks")
    ours, theirs = _pair(torch, dtype)
    images, labels = digits(16).astype(dtype), _labels(16)
    attack = torchattacks.PGD(theirs, eps=0.2, alpha=0.03, steps=10, random_start=False)
    if targeted:
        attack.set_mode_targeted_by_label(quiet=True)
    expected = attack(as_torch(torch, images), torch.tensor(labels)).numpy()
    got = pgd(ours, images, labels, eps=0.2, alpha=0.03, steps=10, random_start=False,
              targeted=targeted).numpy()
    _check_agreement(got, expected, dtype)


@pytest.mark.parametrize("random_start", [False, True])
def test_results_stay_in_the_ball_and_in_the_unit_range(random_start):
    model = minicnn.models.LeNet5().eval()
    images, labels = digits(8), _labels(8)
    for eps in (0.0, 0.05, 0.3):
        for adversarial in (fgsm(model, images, labels, eps),
                            pgd(model, images, labels, eps, steps=3, random_start=random_start)):
            values = adversarial.numpy()
            assert values.min() >= 0 and values.max() <= 1
            assert numpy.abs(values - images).max() <= eps + 1e-7
            assert values.dtype == images.dtype and values.shape == images.shape


def test_the_attack_raises_the_loss_and_a_targeted_one_lowers_the_targets():
    model = minicnn.models.LeNet5().eval()
    images, labels = digits(8), _labels(8)

    def losses(x, y):
        return minicnn.functional.cross_entropy(model(minicnn.tensor(x)), minicnn.tensor(y),
                                                reduction="none").numpy()
    clean = losses(images, labels)
    assert numpy.all(losses(pgd(model, images, labels, 0.1, steps=5).numpy(), labels) > clean)
    targets = (labels + 1) % 10
    moved = pgd(model, images, targets, 0.1, steps=5, targeted=True).numpy()
    assert numpy.all(losses(moved, targets) < losses(images, targets))


def test_model_and_inputs_are_left_as_they_were():
    model = minicnn.models.LeNet5()          # in training mode: warned, and left so
    images = minicnn.tensor(digits(2))
    before = images.numpy().copy()
    with pytest.warns(UserWarning, match="pgd: the model is in training mode"):
        pgd(model, images, [1, 2], 0.1, steps=2)
    assert model.training and all(p.requires_grad and p.grad is None for p in model.parameters())
    numpy.testing.assert_array_equal(images.numpy(), before)


def test_bad_arguments_are_named():
    model = minicnn.models.LeNet5().eval()
    images = digits(2)
    with pytest.raises(ValueError, match="fgsm: eps must be >= 0, got -0.1"):
        fgsm(model, images, [1, 2], -0.1)
    with pytest.raises(ValueError, match="pgd: alpha must be >= 0, got -0.01"):
        pgd(model, images, [1, 2], 0.1, alpha=-0.01)
    with pytest.raises(ValueError, match="pgd: steps must be >= 1, got 0"):
        pgd(model, images, [1, 2], 0.1, steps=0)
    with pytest.raises(ValueError, match=r"pgd: x must hold images in \[0, 1\]"):
        pgd(model, images * 3 - 1, [1, 2], 0.1)
    with pytest.raises(ValueError, match=r"fgsm: inputs must be a batch of images"):
        fgsm(model, images[0], [1], 0.1)
    with pytest.raises(ValueError, match="fgsm: target 10 is out of range for 10 classes"):
        fgsm(model, images, [1, 10], 0.1)


@pytest.mark.parametrize("attack", [fgsm, pgd])
def test_an_error_midway_leaves_the_model_as_it_was(attack):
    model = minicnn.models.LeNet5()
    model.features[0].bias.requires_grad = False
    before = ([m.training for m in model.modules()], [p.requires_grad for p in model.parameters()])

    def fail(module, args, output):
        raise RuntimeError("stop")

    with model.classifier[3].register_forward_hook(fail):
        with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="stop"):
            attack(model, digits(2), [1, 2], 0.1)
    assert ([m.training for m in model.modules()],
            [p.requires_grad for p in model.parameters()]) == before
    assert all(len(m._forward_hooks) == 0 for m in model.modules())
