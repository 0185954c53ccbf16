"""minicnn.optim optimizers against torch.optim (float64), and the Optimizer base class."""
import re

import numpy
import pytest

import minicnn
from minicnn.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from minicnn.serialization import load, save

SHAPES = [(3, 4), (4,), (2, 3)]

# (name, options): every option of every optimizer, each in at least one case.
CASES = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"momentum": 0.8, "nesterov": True}),
    ("Adam", {}),
    ("Adam", {"amsgrad": True, "betas": (0.8, 0.99)}),
    ("Adam", {"eps": 1e-3}),
    ("AdamW", {}),
    ("AdamW", {"amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"momentum": 0.5, "alpha": 0.9}),
    ("RMSprop", {"momentum": 0.5, "centered": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"eps": 1e-3}),
]
# Two groups with their own lr and weight decay, as when fine-tuning.
CASE_IDS = [f"{name}({', '.join(f'{k}={v}' for k, v in options.items())})" for name, options in CASES]
GROUPS = [{"lr": 0.05, "weight_decay": 0.0}, {"lr": 0.02, "weight_decay": 0.1}]


def gradient_sequence(steps, seed=0):
    """Fixed noise per step and parameter; None marks a parameter without a gradient."""
    rng = numpy.random.default_rng(seed)
    sequence = [[rng.standard_normal(shape) for shape in SHAPES] for _ in range(steps)]
    sequence[3][2] = None        # optimizers must skip a parameter whose grad is None
    return sequence


def gradient(noise, weight):
    # The gradient of 0.25 |w|^2 + noise . w: it depends on w, so differences compound.
    return noise + 0.5 * weight


def make_ours(name, options, initial, device):
    params = [minicnn.tensor(a, requires_grad=True, device=device) for a in initial]
    groups = [{"params": params[:2], **GROUPS[0]}, {"params": params[2:], **GROUPS[1]}]
    return params, getattr(minicnn.optim, name)(groups, **options)


def run_ours(params, optimizer, sequence):
    for noises in sequence:
        optimizer.zero_grad()
        for p, noise in zip(params, noises):
            if noise is not None:
                xp_grad = gradient(noise, p.numpy())
                p.grad = minicnn.tensor(xp_grad, device=p.device)
        optimizer.step()


def initial_values():
    rng = numpy.random.default_rng(1)
    return [rng.standard_normal(shape) for shape in SHAPES]


@pytest.mark.parametrize("name, options", CASES, ids=CASE_IDS)
def test_matches_torch_after_20_steps(torch, device, name, options):
    initial, sequence = initial_values(), gradient_sequence(20)
    params, optimizer = make_ours(name, options, initial, device)
    run_ours(params, optimizer, sequence)

    theirs = [torch.tensor(a, requires_grad=True) for a in initial]
    groups = [{"params": theirs[:2], **GROUPS[0]}, {"params": theirs[2:], **GROUPS[1]}]
    reference = getattr(torch.optim, name)(groups, **options, foreach=False)
    for noises in sequence:
        reference.zero_grad()
        for p, noise in zip(theirs, noises):
            if noise is not None:
                p.grad = torch.tensor(gradient(noise, p.detach().numpy()))
        reference.step()

    for ours, expected in zip(params, theirs):
        numpy.testing.assert_allclose(ours.numpy(), expected.detach().numpy(),
                                      rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name, options", CASES, ids=CASE_IDS)
def test_state_dict_resumes_bit_for_bit(device, tmp_path, name, options):
    initial, sequence = initial_values(), gradient_sequence(20)
    params, optimizer = make_ours(name, options, initial, device)
    run_ours(params, optimizer, sequence[:10])
    save({"params": [p.detach() for p in params], "optimizer": optimizer.state_dict()},
                 tmp_path / "checkpoint.npz")
    run_ours(params, optimizer, sequence[10:])

    checkpoint = load(tmp_path / "checkpoint.npz")
    saved = [p.numpy() for p in checkpoint["params"]]
    resumed, fresh = make_ours(name, options, saved, device)
    fresh.load_state_dict(checkpoint["optimizer"])
    run_ours(resumed, fresh, sequence[10:])
    for a, b in zip(params, resumed):
        numpy.testing.assert_array_equal(a.numpy(), b.numpy())


def test_state_lives_on_the_parameter_device_and_dtype(device):
    w = minicnn.zeros(3, dtype="float32", requires_grad=True, device=device)
    optimizer = Adam([w], amsgrad=True)
    w.grad = minicnn.ones(3, dtype="float32", device=device)
    optimizer.step()
    state = optimizer.state[w]
    assert state["step"] == 1
    for name in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        assert state[name].dtype == numpy.float32
        assert minicnn.backend.device_of(state[name]) == w.device
    assert w.dtype == numpy.float32
    numpy.testing.assert_allclose(w.numpy(), -1e-3, rtol=1e-6)


def test_load_state_dict_copies_arrays_and_settings():
    w = minicnn.tensor([1.0, 2.0], requires_grad=True)
    optimizer = SGD([w], lr=0.1, momentum=0.9)
    w.grad = minicnn.tensor([1.0, 1.0])
    optimizer.step()
    state_dict = optimizer.state_dict()
    assert state_dict["param_groups"][0]["params"] == [0]
    other = SGD([minicnn.tensor([0.0, 0.0], requires_grad=True)], lr=0.5)
    other.load_state_dict(state_dict)
    assert other.param_groups[0]["lr"] == 0.1 and other.param_groups[0]["momentum"] == 0.9
    buffer = next(iter(other.state.values()))["momentum_buffer"]
    assert buffer is not state_dict["state"][0]["momentum_buffer"]
    numpy.testing.assert_array_equal(buffer, [1.0, 1.0])


def test_zero_grad():
    w = minicnn.tensor([1.0, 2.0], requires_grad=True)
    optimizer = SGD([w], lr=0.1)
    w.grad = minicnn.tensor([3.0, 4.0])
    optimizer.zero_grad(set_to_none=False)
    numpy.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])
    optimizer.zero_grad()
    assert w.grad is None


def test_step_calls_the_closure_with_gradients_enabled():
    w = minicnn.tensor([1.0, -2.0], requires_grad=True)
    optimizer = SGD([w], lr=0.25)

    def closure():
        optimizer.zero_grad()
        loss = w * w
        loss.backward(minicnn.ones(2))
        return loss

    with minicnn.no_grad():
        loss = optimizer.step(closure)
    numpy.testing.assert_array_equal(loss.numpy(), [1.0, 4.0])
    numpy.testing.assert_array_equal(w.numpy(), [0.5, -1.0])     # w - 0.25 * 2w


def test_add_param_group_uses_defaults_and_per_group_lr():
    a = minicnn.tensor([1.0], requires_grad=True)
    b = minicnn.tensor([1.0], requires_grad=True)
    optimizer = SGD([a], lr=0.1, momentum=0.5)
    optimizer.add_param_group({"params": b, "lr": 0.01})
    assert optimizer.param_groups[1]["momentum"] == 0.5
    a.grad, b.grad = minicnn.tensor([1.0]), minicnn.tensor([1.0])
    optimizer.step()
    numpy.testing.assert_allclose([a.item(), b.item()], [0.9, 0.99])


@pytest.mark.parametrize("make, message", [
    (lambda w: SGD([w], lr=-0.1), r"SGD: invalid lr -0.1, expected >= 0"),
    (lambda w: SGD([w], lr=0.1, momentum=-1), r"SGD: invalid momentum -1"),
    (lambda w: SGD([w], lr=0.1, nesterov=True), r"nesterov=True only with momentum > 0"),
    (lambda w: Adam([w], betas=(0.9, 1.0)), r"Adam: invalid betas \(0.9, 1.0\), expected two numbers in \[0, 1\)"),
    (lambda w: AdamW([w], betas=(-0.1, 0.9)), r"AdamW: invalid betas"),
    (lambda w: Adam([w], eps=-1e-8), r"Adam: invalid eps"),
    (lambda w: RMSprop([w], alpha=-0.5), r"RMSprop: invalid alpha -0.5"),
    (lambda w: Adagrad([w], lr_decay=-1), r"Adagrad: invalid lr_decay -1"),
    (lambda w: Adam([{"params": [w], "lr": -1.0}]), r"Adam: invalid lr -1.0"),
    (lambda w: SGD([], lr=0.1), r"SGD: got an empty parameter list"),
    (lambda w: SGD([w, w], lr=0.1), r"appears in more than one group"),
    (lambda w: SGD([w * 2], lr=0.1), r"is not a leaf tensor"),
])
def test_bad_settings_raise_value_error(make, message):
    w = minicnn.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=message):
        make(w)


def test_non_tensor_parameters_raise_type_error():
    w = minicnn.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"SGD: parameter 1 of group 0 is a ndarray, expected a minicnn Tensor"):
        SGD([w, numpy.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match=r"got a single Tensor; wrap it in a list"):
        SGD(w, lr=0.1)


def test_load_state_dict_rejects_a_different_layout():
    a = minicnn.tensor([1.0], requires_grad=True)
    b = minicnn.tensor([1.0], requires_grad=True)
    state_dict = SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match=r"group 0 has 2 parameters in the state_dict but 1 in the optimizer"):
        SGD([a], lr=0.1).load_state_dict(state_dict)
    with pytest.raises(ValueError, match=r"state_dict has 1 parameter groups but the optimizer has 2"):
        SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(state_dict)


def test_load_state_dict_with_a_wrong_shape_changes_nothing():
    a = minicnn.tensor([1.0, 2.0], requires_grad=True)
    source = SGD([a], lr=0.1, momentum=0.9)
    a.grad = minicnn.tensor([1.0, 1.0])
    source.step()
    target = SGD([minicnn.tensor([1.0, 2.0, 3.0], requires_grad=True)], lr=0.5, momentum=0.1)
    with pytest.raises(ValueError, match=r"SGD.load_state_dict: state 'momentum_buffer' has "
                                         r"shape \(2,\) but its parameter has shape \(3,\)"):
        target.load_state_dict(source.state_dict())
    assert target.param_groups[0]["lr"] == 0.5 and target.state == {}


# --- step() is an in-place write that autograd sees ---------------------------------------------

def test_every_optimizer_has_a_case():
    def subclasses(cls):
        return {s for c in cls.__subclasses__() for s in {c} | subclasses(c)}
    names = {c.__name__ for c in subclasses(minicnn.optim.Optimizer)
             if c.__module__.startswith("minicnn.optim")}
    assert names - {name for name, _ in CASES} == set()


@pytest.mark.parametrize("name, options", CASES, ids=CASE_IDS)
def test_step_bumps_the_version_of_every_parameter_it_updates(device, name, options):
    """On a GPU, SGD with momentum and Adam take the fused kernels of kernels/optim.cu."""
    params, optimizer = make_ours(name, options, initial_values(), device)
    run_ours(params, optimizer, gradient_sequence(4))
    # gradient_sequence leaves parameter 2 without a gradient at step 3: it is not written.
    assert [p._version for p in params] == [4, 4, 3]


def test_a_step_between_forward_and_backward_makes_backward_raise():
    """Issue 12's example: backward would otherwise give dy/dw = 2 w at the updated w,
    [1, 3, 5], instead of [2, 4, 6] at the w that computed y."""
    w = minicnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (w * w).sum()
    w.grad = minicnn.ones(3)
    SGD([w], lr=0.5).step()
    with pytest.raises(RuntimeError, match=r"^one of the variables needed for gradient computation "
                       r"has been modified by an inplace operation: \[float32 tensor of shape "
                       r"\(3,\)\], which is input [01] of Mul, is at version 1; expected "
                       r"version 0 instead\."):
        y.backward()
    w.grad = None
    (w * w).sum().backward()            # a forward pass after the step is fine
    assert w.grad.numpy().tolist() == [1.0, 3.0, 5.0]


def test_the_message_is_pytorchs(torch):
    def message(library, tensor, optimizer):
        w = tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = (w * w).sum()
        w.grad = library.ones(3)
        optimizer([w], lr=0.5).step()
        with pytest.raises(RuntimeError) as error:
            y.backward()
        return str(error.value)
    ours = message(minicnn, minicnn.tensor, SGD)
    theirs = message(torch, torch.tensor, torch.optim.SGD)
    for part in (r"^(one of the variables needed for gradient computation has been modified by "
                 r"an inplace operation: )\[", r"\](?:, which is [^,]+,)? (is at version 1; "
                 r"expected version 0 instead\. Hint: )"):
        assert re.search(part, ours).groups() == re.search(part, theirs).groups()
