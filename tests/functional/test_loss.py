"""Losses: gradients, PyTorch parity (values and gradients, every reduction), stability, errors."""
import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
import minicnn.functional as F
from tests.helpers import assert_close, covers, leaf, to_torch

REDUCTIONS = ["mean", "sum", "none"]


def rng(seed):
    return numpy.random.default_rng(seed)


def class_problem(seed, shape, ignore_some):
    """Logits of `shape` (N, C, ...) and integer targets, a few set to ignore_index=-100."""
    generator = rng(seed)
    logits = generator.standard_normal(shape) * 2
    target = generator.integers(0, shape[1], size=(shape[0],) + shape[2:])
    if ignore_some:
        target.flat[::3] = -100
    return logits, target


def regression_problem(name, seed, shape=(3, 4)):
    """(input, target) arrays in the domain of loss `name`, away from its kinks."""
    generator = rng(seed)
    if name == "binary_cross_entropy":
        return generator.uniform(0.05, 0.95, shape), generator.uniform(0, 1, shape)
    if name == "kl_div":
        return (numpy.log(generator.dirichlet(numpy.ones(shape[-1]), shape[:-1])),
                generator.dirichlet(numpy.ones(shape[-1]), shape[:-1]))
    return generator.standard_normal(shape) * 2, generator.standard_normal(shape) * 2


ELEMENTWISE = [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {"beta": 0.7}),
               ("huber_loss", {"delta": 1.3}), ("binary_cross_entropy", {}),
               ("binary_cross_entropy_with_logits", {}), ("kl_div", {}),
               ("kl_div", {"log_target": True})]
ELEMENTWISE_IDS = [name + ("_log_target" if kwargs.get("log_target") else "")
                   for name, kwargs in ELEMENTWISE]


# --- gradcheck ---------------------------------------------------------------------------------

@covers("cross_entropy", "nll_loss")
@given(seed=st.integers(0, 2**16), extra=st.sampled_from([(), (2,), (2, 1)]),
       batch=st.integers(1, 3), classes=st.integers(2, 4), weighted=st.booleans(),
       smoothing=st.sampled_from([0.0, 0.2]), reduction=st.sampled_from(REDUCTIONS))
def test_gradcheck_classification(device, seed, extra, batch, classes, weighted, smoothing,
                                  reduction):
    logits, target = class_problem(seed, (batch, classes) + extra, ignore_some=batch > 1)
    weight = rng(seed).uniform(0.5, 2, classes) if weighted else None
    target = minicnn.tensor(target, device=device)
    weight = None if weight is None else minicnn.tensor(weight, device=device)
    x = leaf(logits, device)
    minicnn.gradcheck(lambda x: F.cross_entropy(x, target, weight, reduction=reduction,
                                                label_smoothing=smoothing), (x,))
    minicnn.gradcheck(lambda x: F.nll_loss(x, target, weight, reduction=reduction), (x,))


@covers("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
        "binary_cross_entropy_with_logits", "kl_div")
@pytest.mark.parametrize("name,kwargs", ELEMENTWISE, ids=ELEMENTWISE_IDS)
@given(seed=st.integers(0, 2**16), rows=st.integers(1, 3), columns=st.integers(1, 3),
       reduction=st.sampled_from(REDUCTIONS))
def test_gradcheck_elementwise(device, name, kwargs, seed, rows, columns, reduction):
    input, target = regression_problem(name, seed, (rows, columns))
    minicnn.gradcheck(lambda x, t: getattr(F, name)(x, t, reduction=reduction, **kwargs),
                      (leaf(input, device), leaf(target, device)))


def test_gradcheck_logits_with_weight_and_pos_weight(device):
    input, target = regression_problem("binary_cross_entropy_with_logits", 5)
    weight, pos_weight = leaf(rng(6).uniform(0.5, 2, (3, 4)), device), leaf(rng(7).uniform(0.5, 3, 4), device)
    minicnn.gradcheck(lambda x, t, w, p: F.binary_cross_entropy_with_logits(x, t, w, pos_weight=p),
                      (leaf(input, device), leaf(target, device), weight, pos_weight))


def test_gradgradcheck_cross_entropy_and_mse(device):
    logits, target = class_problem(8, (3, 4), ignore_some=True)
    target = minicnn.tensor(target, device=device)
    weight = minicnn.tensor(rng(8).uniform(0.5, 2, 4), device=device)
    minicnn.gradgradcheck(lambda x: F.cross_entropy(x, target, weight, label_smoothing=0.1),
                          (leaf(logits, device),))
    input, other = regression_problem("mse_loss", 9)
    minicnn.gradgradcheck(F.mse_loss, (leaf(input, device), leaf(other, device)))


# --- PyTorch parity ----------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2, 3), (4,)], ids=["NC", "NCHW", "C"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_and_nll_match_torch(device, torch, shape, reduction, weighted, smoothing):
    batched = len(shape) > 1
    logits, target = class_problem(10, shape if batched else (1,) + shape, ignore_some=batched)
    logits, target = (logits, target) if batched else (logits[0], target[0])
    weight = rng(11).uniform(0.5, 2, shape[1] if batched else shape[0]) if weighted else None
    torch_weight = None if weight is None else torch.tensor(weight)
    for name, extra in (("cross_entropy", {"label_smoothing": smoothing}), ("nll_loss", {})):
        x = leaf(logits, device)
        loss = getattr(F, name)(x, minicnn.tensor(target, device=device),
                                None if weight is None else minicnn.tensor(weight, device=device),
                                reduction=reduction, **extra)
        x_torch = to_torch(torch, x)
        loss_torch = getattr(torch.nn.functional, name)(x_torch, torch.tensor(target), torch_weight,
                                                        reduction=reduction, **extra)
        _compare_backward(torch, loss, loss_torch, [(x, x_torch)])


# --- cross_entropy against class probabilities (soft targets: MixUp, CutMix, distillation) --------

def probability_problem(seed, shape):
    """Logits of `shape` (N, C, ...) and class probabilities of the same shape."""
    generator = rng(seed)
    logits = generator.standard_normal(shape) * 2
    probabilities = generator.dirichlet(numpy.ones(shape[1]), (shape[0],) + shape[2:])
    return logits, numpy.moveaxis(probabilities, -1, 1)


@covers("cross_entropy")
@given(seed=st.integers(0, 2**16), extra=st.sampled_from([(), (2,)]), batch=st.integers(1, 3),
       classes=st.integers(2, 4), weighted=st.booleans(), smoothing=st.sampled_from([0.0, 0.3]),
       reduction=st.sampled_from(REDUCTIONS))
def test_gradcheck_cross_entropy_probabilities(device, seed, extra, batch, classes, weighted,
                                               smoothing, reduction):
    logits, probabilities = probability_problem(seed, (batch, classes) + extra)
    weight = minicnn.tensor(rng(seed).uniform(0.5, 2, classes), device=device) if weighted else None
    fixed_target = minicnn.tensor(probabilities, device=device)
    minicnn.gradcheck(lambda x: F.cross_entropy(x, fixed_target, weight, reduction=reduction,
                                                label_smoothing=smoothing), (leaf(logits, device),))
    # With a target that requires grad, the loss is differentiated in both arguments.
    minicnn.gradcheck(lambda x, t: F.cross_entropy(x, t, weight, reduction=reduction,
                                                   label_smoothing=smoothing),
                      (leaf(logits, device), leaf(probabilities, device)))


@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2, 3), (4,)], ids=["NC", "NCHW", "C"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("target_grad", [False, True], ids=["fused", "target_grad"])
def test_cross_entropy_probabilities_match_torch(device, torch, shape, reduction, weighted,
                                                 smoothing, target_grad):
    """Both paths: the fused softmax cross-entropy for a constant target, and the composed
    one that also differentiates the target."""
    batched = len(shape) > 1
    logits, probabilities = probability_problem(20, shape if batched else (1,) + shape)
    logits, probabilities = (logits, probabilities) if batched else (logits[0], probabilities[0])
    weight = rng(21).uniform(0.5, 2, shape[1] if batched else shape[0]) if weighted else None
    x, t = leaf(logits, device), leaf(probabilities, device, requires_grad=target_grad)
    loss = F.cross_entropy(x, t, None if weight is None else minicnn.tensor(weight, device=device),
                           reduction=reduction, label_smoothing=smoothing)
    x_torch, t_torch = to_torch(torch, x), to_torch(torch, t)
    loss_torch = torch.nn.functional.cross_entropy(
        x_torch, t_torch, None if weight is None else torch.tensor(weight), reduction=reduction,
        label_smoothing=smoothing)
    _compare_backward(torch, loss, loss_torch, [(x, x_torch)] + [(t, t_torch)] * target_grad)


def test_cross_entropy_probabilities_equal_indices_when_one_hot(device):
    logits, target = class_problem(22, (6, 5), ignore_some=False)
    one_hot = numpy.eye(5)[target]
    for smoothing in (0.0, 0.2):
        by_index = F.cross_entropy(leaf(logits, device), minicnn.tensor(target, device=device),
                                   label_smoothing=smoothing)
        by_probability = F.cross_entropy(leaf(logits, device), leaf(one_hot, device),
                                         label_smoothing=smoothing)
        assert by_index.item() == pytest.approx(by_probability.item(), rel=1e-12)


def test_cross_entropy_rejects_bad_probabilities():
    logits = leaf((3, 4))
    good = numpy.full((3, 4), 0.25)
    target = minicnn.tensor(good)
    with pytest.raises(ValueError, match=r"cross_entropy: 'target' must be class indices "
                                         r"\(integers\) of shape \(3,\) or class probabilities "
                                         r"\(floats\) of shape \(3, 4\) like 'input', got "
                                         r"float64 of shape \(3, 5\)"):
        F.cross_entropy(logits, minicnn.tensor(numpy.full((3, 5), 0.2)))
    short = good.copy()
    short[1, 2] = 0.0
    with pytest.raises(ValueError, match=r"cross_entropy: 'target' of class probabilities must be "
                                         r">= 0 and sum to 1 over the 4 classes; sample 1 sums "
                                         r"to 0.75 with smallest value 0$"):
        F.cross_entropy(logits, minicnn.tensor(short))
    negative = good.copy()
    negative[2] = [0.5, 0.75, -0.25, 0.0]
    with pytest.raises(ValueError, match=r"sample 2 sums to 1 with smallest value -0.25"):
        F.cross_entropy(logits, minicnn.tensor(negative))
    spatial = numpy.full((2, 3, 2, 2), 1 / 3)
    spatial[1, :, 0, 1] = 0.5
    with pytest.raises(ValueError, match=r"sample \(1, 0, 1\) sums to 1.5"):
        F.cross_entropy(leaf((2, 3, 2, 2)), minicnn.tensor(spatial))
    assert numpy.array_equal(target.numpy(), good)        # the target is left as it was


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")   # kl_div's deprecation note
@pytest.mark.parametrize("name,kwargs", ELEMENTWISE, ids=ELEMENTWISE_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_elementwise_losses_match_torch(device, torch, name, kwargs, reduction):
    if reduction == "batchmean" and name != "kl_div":
        pytest.skip("batchmean exists only for kl_div")
    input, target = regression_problem(name, 12)
    x, t = leaf(input, device), leaf(target, device)
    loss = getattr(F, name)(x, t, reduction=reduction, **kwargs)
    x_torch, t_torch = to_torch(torch, x), to_torch(torch, t)
    loss_torch = getattr(torch.nn.functional, name)(x_torch, t_torch, reduction=reduction, **kwargs)
    _compare_backward(torch, loss, loss_torch, [(x, x_torch), (t, t_torch)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses_with_weights_match_torch(device, torch, reduction):
    probabilities, target = regression_problem("binary_cross_entropy", 13)
    weight, pos_weight = rng(14).uniform(0.5, 2, (3, 4)), rng(15).uniform(0.5, 3, 4)
    x, t, w, p = (leaf(a, device) for a in (probabilities, target, weight, pos_weight))
    torch_x, torch_t = to_torch(torch, x), to_torch(torch, t)
    # PyTorch gives weight and pos_weight no gradient; ours (plain products) would.
    torch_w, torch_p = (to_torch(torch, a, requires_grad=False) for a in (w, p))
    loss = F.binary_cross_entropy(x, t, w, reduction=reduction)
    loss_torch = torch.nn.functional.binary_cross_entropy(torch_x, torch_t, torch_w, reduction=reduction)
    _compare_backward(torch, loss, loss_torch, [(x, torch_x), (t, torch_t)])
    logits = leaf(numpy.log(probabilities / (1 - probabilities)), device)
    torch_logits = to_torch(torch, logits)
    loss = F.binary_cross_entropy_with_logits(logits, t, w, reduction=reduction, pos_weight=p)
    loss_torch = torch.nn.functional.binary_cross_entropy_with_logits(
        torch_logits, torch_t, torch_w, reduction=reduction, pos_weight=torch_p)
    _compare_backward(torch, loss, loss_torch, [(logits, torch_logits), (t, torch_t)])


def test_binary_cross_entropy_clamps_log_like_torch(device, torch):
    """At probabilities 0 and 1 PyTorch clamps log to -100: finite loss, finite gradient."""
    x, t = leaf([0.0, 1.0, 0.0, 1.0], device), leaf([1.0, 0.0, 0.0, 1.0], device)
    x_torch, t_torch = to_torch(torch, x), to_torch(torch, t)
    loss = F.binary_cross_entropy(x, t, reduction="sum")
    loss_torch = torch.nn.functional.binary_cross_entropy(x_torch, t_torch, reduction="sum")
    assert loss.item() == pytest.approx(200.0)
    # PyTorch's target gradient is +-inf here (unclamped logs); ours is the clamped loss's: +-100.
    _compare_backward(torch, loss, loss_torch, [(x, x_torch)])
    assert numpy.isfinite(t.grad.numpy()).all()


def _compare_backward(torch, loss, loss_torch, pairs):
    """Same loss values; same gradients for each (ours, theirs) leaf pair, for a random upstream."""
    assert_close(loss, loss_torch)
    upstream = rng(99).standard_normal(loss.shape)
    loss.backward(minicnn.tensor(upstream, device=loss.device))
    loss_torch.backward(torch.tensor(upstream))
    for ours, theirs in pairs:
        assert_close(ours.grad, theirs.grad)


# --- stability ---------------------------------------------------------------------------------

def test_logit_losses_are_stable_at_1000(device, torch):
    logits = numpy.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]])
    x = leaf(logits, device)
    loss = F.cross_entropy(x, minicnn.tensor([1, 0], device=device), label_smoothing=0.1)
    x_torch = to_torch(torch, x)
    loss_torch = torch.nn.functional.cross_entropy(x_torch, torch.tensor([1, 0]), label_smoothing=0.1)
    _compare_backward(torch, loss, loss_torch, [(x, x_torch)])
    assert numpy.isfinite(x.grad.numpy()).all()

    x, t = leaf(logits, device), leaf(numpy.array([[0.0, 1.0, 0.5], [1.0, 0.0, 1.0]]), device)
    x_torch, t_torch = to_torch(torch, x), to_torch(torch, t)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="sum")
    loss_torch = torch.nn.functional.binary_cross_entropy_with_logits(x_torch, t_torch, reduction="sum")
    assert loss.item() == pytest.approx(4000.0 + numpy.log(2))   # 1000 per wrong sign, log 2 at 0
    _compare_backward(torch, loss, loss_torch, [(x, x_torch), (t, t_torch)])


def test_weighted_mean_divides_by_the_weight_of_counted_targets(device):
    logits = leaf(numpy.zeros((3, 2)), device)
    target = minicnn.tensor([0, 1, -100], device=device)
    weight = minicnn.tensor([1.0, 3.0], dtype="float64", device=device)
    loss = F.cross_entropy(logits, target, weight)
    assert loss.item() == pytest.approx(numpy.log(2))   # (1 + 3) log 2 / (1 + 3)


# --- bad input ---------------------------------------------------------------------------------

def test_cross_entropy_rejects_float_targets_that_are_not_probabilities():
    with pytest.raises(ValueError, match=r"cross_entropy: 'target' must be class indices "
                                         r"\(integers\) of shape \(2,\) or class probabilities "
                                         r"\(floats\) of shape \(2, 3\) like 'input', got "
                                         r"float32 of shape \(2,\)"):
        F.cross_entropy(leaf((2, 3)), minicnn.tensor([0.0, 1.0]))
    with pytest.raises(TypeError, match="nll_loss: 'target' must be an integer tensor of "
                                        "class indices, got dtype float32"):
        F.nll_loss(leaf((2, 3)), minicnn.tensor([0.0, 1.0]))


def test_cross_entropy_names_the_target_out_of_range():
    target = minicnn.tensor([1, 2, 3, 4, 0, 12, 1])
    with pytest.raises(ValueError, match=r"^cross_entropy: target 12 is out of range for 10 "
                                         r"classes \(target index 5 in the batch\)$"):
        F.cross_entropy(leaf((7, 10)), target)
    with pytest.raises(ValueError, match=r"nll_loss: target -1 is out of range for 3 classes "
                                         r"\(target index \(1, 0\) in the batch\)"):
        F.nll_loss(leaf((2, 3, 2)), minicnn.tensor([[0, 1], [-1, 2]]))


def test_losses_name_both_shapes_on_mismatch():
    with pytest.raises(ValueError, match=r"cross_entropy: 'target' of shape \(3,\) does not match "
                                         r"'input' of shape \(4, 5\)"):
        F.cross_entropy(leaf((4, 5)), minicnn.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"mse_loss: 'input' and 'target' must have the same "
                                         r"shape, got input \(2, 3\) and target \(3,\)"):
        F.mse_loss(leaf((2, 3)), leaf((3,)))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="l1_loss: reduction must be one of 'mean', 'sum', "
                                         "'none', got 'avg'"):
        F.l1_loss(leaf((2,)), leaf((2,)), reduction="avg")
    with pytest.raises(ValueError, match=r"cross_entropy: 'weight' must hold one value per class, "
                                         r"shape \(3,\), got shape \(2,\)"):
        F.cross_entropy(leaf((2, 3)), minicnn.tensor([0, 1]), weight=leaf((2,)))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: 'input' must hold probabilities "
                                         r"in \[0, 1\], got values from -0.5 to 0.5"):
        F.binary_cross_entropy(leaf([-0.5, 0.5]), leaf([0.0, 1.0]))
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be >= 0, got -1"):
        F.smooth_l1_loss(leaf((2,)), leaf((2,)), beta=-1)


def test_float32_stays_float32(device):
    logits, target = minicnn.randn(4, 3, device=device), minicnn.tensor([0, 2, 1, -100], device=device)
    weight = minicnn.tensor(numpy.array([1.0, 2.0, 3.0]), device=device)    # float64 weight
    assert F.cross_entropy(logits, target, weight, label_smoothing=0.1).dtype == numpy.float32
    probabilities = minicnn.rand(4, 3, device=device)
    for name, _ in ELEMENTWISE:
        assert getattr(F, name)(probabilities, probabilities).dtype == numpy.float32, name


# --- dice_loss ---------------------------------------------------------------------------------

def torch_dice_loss(torch, logits, target, smooth, ignore_index=-100):
    """The soft Dice formula written with PyTorch ops, as the reference (PyTorch has no Dice
    loss): per sample and class, 1 - (2 sum p t + s) / (sum p + sum t + s)."""
    kept = (target != ignore_index).unsqueeze(1).to(logits.dtype)
    one_hot = torch.nn.functional.one_hot(target.clamp(min=0), logits.shape[1]).movedim(-1, 1)
    one_hot = one_hot.to(logits.dtype) * kept
    p = torch.softmax(logits, dim=1) * kept
    pixels = tuple(range(2, logits.ndim))
    return 1 - (2 * (p * one_hot).sum(pixels) + smooth) / (p.sum(pixels) + one_hot.sum(pixels) + smooth)


@covers("dice_loss")
@given(seed=st.integers(0, 2**16), extra=st.sampled_from([(), (3,), (2, 3)]),
       batch=st.integers(1, 3), classes=st.integers(1, 4), smooth=st.sampled_from([1e-3, 1.0]),
       reduction=st.sampled_from(REDUCTIONS))
def test_gradcheck_dice_loss(device, seed, extra, batch, classes, smooth, reduction):
    logits, target = class_problem(seed, (batch, classes) + extra, ignore_some=bool(extra))
    target = minicnn.tensor(target, device=device)
    minicnn.gradcheck(lambda x: F.dice_loss(x, target, smooth, reduction=reduction),
                      (leaf(logits, device),))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore_some", [False, True], ids=["all", "ignore"])
def test_dice_loss_matches_the_formula_in_torch(device, torch, reduction, ignore_some):
    logits, target = class_problem(16, (3, 4, 5, 6), ignore_some=ignore_some)
    x = leaf(logits, device)
    loss = F.dice_loss(x, minicnn.tensor(target, device=device), smooth=0.5, reduction=reduction)
    x_torch = to_torch(torch, x)
    losses = torch_dice_loss(torch, x_torch, torch.tensor(target), 0.5)
    loss_torch = {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]
    _compare_backward(torch, loss, loss_torch, [(x, x_torch)])


def test_dice_loss_at_hard_predictions_is_one_minus_sklearns_f1(device):
    f1_score = pytest.importorskip("sklearn.metrics").f1_score
    generator = rng(17)
    predicted, target = generator.integers(0, 3, (2, 6, 7)), generator.integers(0, 3, (2, 6, 7))
    predicted[1][predicted[1] == 2] = 0       # class 2 absent from sample 1's prediction ...
    target[1][target[1] == 2] = 1             # ... and from its target: Dice 1 by convention
    logits = 60.0 * (predicted[:, None] == numpy.arange(3)[None, :, None, None])
    losses = F.dice_loss(leaf(logits, device), minicnn.tensor(target, device=device),
                         smooth=1e-9, reduction="none").numpy()
    for sample in range(2):
        expected = f1_score(target[sample].ravel(), predicted[sample].ravel(), labels=[0, 1, 2],
                            average=None, zero_division=1.0)
        numpy.testing.assert_allclose(1 - losses[sample], expected, atol=1e-7)


def test_dice_loss_of_an_empty_foreground_is_defined(device):
    """All background, predicted as such: the foreground's Dice is s / (sum p + s), close to 1,
    and the loss and its gradient are finite (a plain 0 / 0 would be NaN)."""
    logits = leaf(numpy.stack([numpy.full((4, 4), 8.0), numpy.zeros((4, 4))])[None], device)
    loss = F.dice_loss(logits, minicnn.zeros(1, 4, 4, dtype="int64", device=device),
                       reduction="none")
    loss.sum().backward()
    background, foreground = loss.numpy()[0]
    foreground_mass = 16 / (1 + numpy.exp(8.0))
    assert foreground == pytest.approx(1 - 1 / (foreground_mass + 1))
    assert background < 1e-3 and numpy.isfinite(logits.grad.numpy()).all()


def test_dice_loss_bad_input():
    with pytest.raises(ValueError, match="dice_loss: smooth must be > 0 .* got 0"):
        F.dice_loss(leaf((1, 2, 3)), minicnn.tensor([[0, 1, 1]]), smooth=0)
    with pytest.raises(ValueError, match=r"dice_loss: target 2 is out of range for 2 classes "
                                         r"\(target index \(0, 2\) in the batch\)"):
        F.dice_loss(leaf((1, 2, 3)), minicnn.tensor([[0, 1, 2]]))
    with pytest.raises(ValueError, match=r"dice_loss: 'target' of shape \(1, 4\) does not match "
                                         r"'input' of shape \(1, 2, 3\)"):
        F.dice_loss(leaf((1, 2, 3)), minicnn.tensor([[0, 1, 1, 0]]))
