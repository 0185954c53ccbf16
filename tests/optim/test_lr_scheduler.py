"""Learning-rate schedulers against torch.optim.lr_scheduler over 50 steps."""
import numpy
import pytest

import minicnn
from minicnn.optim import SGD, Adagrad
from minicnn.optim import lr_scheduler
from minicnn.serialization import load, save

STEPS = 50

# (scheduler name, arguments, optimizer name): every scheduler and its main options.
CASES = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}, "SGD"),
    ("MultiStepLR", {"milestones": [30, 5, 12, 12], "gamma": 0.3}, "SGD"),
    ("ExponentialLR", {"gamma": 0.93}, "SGD"),
    ("CosineAnnealingLR", {"T_max": 15, "eta_min": 1e-3}, "SGD"),
    ("LinearLR", {"start_factor": 0.25, "total_iters": 8}, "SGD"),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 20}, "SGD"),
    ("OneCycleLR", {"max_lr": [0.5, 0.2], "total_steps": STEPS}, "SGD"),
    ("OneCycleLR", {"max_lr": 0.3, "total_steps": STEPS, "anneal_strategy": "linear",
                    "pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0}, "SGD"),
    ("OneCycleLR", {"max_lr": 0.3, "epochs": 5, "steps_per_epoch": 10, "three_phase": True}, "Adam"),
    ("OneCycleLR", {"max_lr": 0.3, "total_steps": STEPS, "cycle_momentum": False}, "Adagrad"),
]


def make_optimizer(module, name, params):
    groups = [{"params": params[:1], "lr": 0.1}, {"params": params[1:], "lr": 0.02}]
    extra = {"momentum": 0.9} if name == "SGD" else {}
    return getattr(module.optim, name)(groups, **extra)


def schedule(module, make_params, scheduler_name, arguments, optimizer_name, steps=STEPS,
             metrics=None):
    """The lr (and momentum or beta1) of every group after construction and each step."""
    optimizer = make_optimizer(module, optimizer_name, make_params())
    scheduler = getattr(module.optim.lr_scheduler, scheduler_name)(optimizer, **arguments)
    history = [observe(optimizer, scheduler)]
    for t in range(steps):
        optimizer.step()
        scheduler.step() if metrics is None else scheduler.step(metrics[t])
        history.append(observe(optimizer, scheduler))
    return numpy.array(history)


def observe(optimizer, scheduler):
    row = list(scheduler.get_last_lr()) + [group["lr"] for group in optimizer.param_groups]
    for group in optimizer.param_groups:
        row.append(group["betas"][0] if "betas" in group else group.get("momentum", 0.0))
    return row


def ours():
    return [minicnn.zeros(2, requires_grad=True), minicnn.zeros(3, requires_grad=True)]


def torch_params(torch):
    return lambda: [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]


@pytest.mark.parametrize("name, arguments, optimizer_name", CASES)
def test_schedule_matches_torch(torch, name, arguments, optimizer_name):
    expected = schedule(torch, torch_params(torch), name, arguments, optimizer_name)
    numpy.testing.assert_allclose(schedule(minicnn, ours, name, arguments, optimizer_name),
                                  expected, rtol=1e-12, atol=1e-15)


PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.9, 0.91, 0.9, 0.899999, 0.8, 0.8, 0.8, 0.8, 0.7] * 4 + [0.7] * 2


@pytest.mark.parametrize("arguments", [
    {"patience": 2},
    {"patience": 1, "cooldown": 2, "factor": 0.5, "min_lr": [0.01, 0.001]},
    {"patience": 1, "threshold": 0.05, "threshold_mode": "abs"},
    {"mode": "max", "patience": 2, "factor": 0.5},
    {"mode": "max", "patience": 0, "threshold_mode": "abs", "threshold": 0.01, "min_lr": 0.004},
])
def test_reduce_lr_on_plateau_matches_torch(torch, arguments):
    expected = schedule(torch, torch_params(torch), "ReduceLROnPlateau", arguments, "SGD",
                        steps=len(PLATEAU_METRICS), metrics=PLATEAU_METRICS)
    got = schedule(minicnn, ours, "ReduceLROnPlateau", arguments, "SGD",
                   steps=len(PLATEAU_METRICS), metrics=PLATEAU_METRICS)
    assert len(numpy.unique(got[:, 0])) > 2          # the lr really was reduced, repeatedly
    numpy.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("name, arguments, optimizer_name",
                         CASES + [("ReduceLROnPlateau", {"patience": 1}, "SGD")])
def test_state_dict_round_trip_continues_identically(tmp_path, name, arguments, optimizer_name):
    metrics = PLATEAU_METRICS if name == "ReduceLROnPlateau" else None

    def run(optimizer, scheduler, steps):
        for t in steps:
            optimizer.step()
            scheduler.step() if metrics is None else scheduler.step(metrics[t])
            yield observe(optimizer, scheduler)

    optimizer = make_optimizer(minicnn, optimizer_name, ours())
    scheduler = getattr(lr_scheduler, name)(optimizer, **arguments)
    list(run(optimizer, scheduler, range(20)))
    save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
         tmp_path / "checkpoint.npz")
    uninterrupted = list(run(optimizer, scheduler, range(20, 40)))

    checkpoint = load(tmp_path / "checkpoint.npz")
    optimizer = make_optimizer(minicnn, optimizer_name, ours())
    scheduler = getattr(lr_scheduler, name)(optimizer, **arguments)   # before the optimizer's load
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    assert list(run(optimizer, scheduler, range(20, 40))) == uninterrupted


def test_one_cycle_refuses_to_run_past_total_steps():
    optimizer = SGD([minicnn.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=3)
    for _ in range(3):
        scheduler.step()
    with pytest.raises(ValueError, match=r"OneCycleLR: step\(\) called 4 times but total_steps is 3"):
        scheduler.step()


@pytest.mark.parametrize("make, error, message", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), ValueError, r"StepLR: step_size must be a positive integer, got 0"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0.0), ValueError, r"LinearLR: start_factor must be in \(0, 1\]"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError, r"T_max must be positive"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0), ValueError, r"give total_steps, or both epochs and steps_per_epoch"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"), ValueError, r"anneal_strategy must be 'cos' or 'linear', got 'exp'"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=10), ValueError, r"expected one max_lr per parameter group \(1\), got 2"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, r"factor must be < 1.0, got 1.0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="best"), ValueError, r"mode must be 'min' or 'max', got 'best'"),
    (lambda o: lr_scheduler.StepLR(o, step_size=3, last_epoch=5), KeyError, r"has no 'initial_lr'"),
    (lambda o: lr_scheduler.StepLR("sgd", step_size=3), TypeError, r"StepLR: expected a minicnn Optimizer, got str"),
])
def test_bad_arguments(make, error, message):
    optimizer = SGD([minicnn.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(error, match=message):
        make(optimizer)


def test_one_cycle_needs_momentum_or_betas():
    optimizer = Adagrad([minicnn.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match=r"cycle_momentum=True needs an optimizer with momentum or betas"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=10)
