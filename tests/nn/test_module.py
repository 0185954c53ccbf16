"""Module: registration, traversal, modes, freezing, hooks, devices and printing."""
import copy

import numpy
import pytest

import minicnn
from minicnn import nn


class Scale(nn.Module):
    """y = x * weight + bias, with a buffer: enough to exercise every registry."""

    def __init__(self, size=3):
        super().__init__()
        self.weight = nn.Parameter(numpy.arange(1.0, size + 1))
        self.bias = nn.Parameter(numpy.zeros(size))
        self.register_buffer("calls", minicnn.zeros(1))
        self.register_buffer("scratch", minicnn.zeros(1), persistent=False)

    def forward(self, x):
        return x * self.weight + self.bias


class Pair(nn.Module):
    def __init__(self, shared=False):
        super().__init__()
        self.first = Scale()
        self.second = self.first if shared else Scale()

    def forward(self, x):
        return self.second(self.first(x))


def _ones():
    return minicnn.ones(3, dtype=minicnn.float64)


def test_parameter_defaults_to_requires_grad():
    p = nn.Parameter(numpy.ones(2))
    assert p.requires_grad and p.is_leaf
    assert not nn.Parameter(numpy.ones(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_attributes_are_registered_by_kind():
    model = Pair()
    assert [name for name, _ in model.named_parameters()] == [
        "first.weight", "first.bias", "second.weight", "second.bias"]
    assert [name for name, _ in model.named_buffers()] == [
        "first.calls", "first.scratch", "second.calls", "second.scratch"]
    assert [name for name, _ in model.named_children()] == ["first", "second"]
    assert [name for name, _ in model.named_modules()] == ["", "first", "second"]
    assert list(model.parameters(recurse=False)) == []
    model.plain = 3
    assert model.plain == 3 and "plain" not in model._parameters


def test_shared_modules_and_parameters_are_listed_once():
    model = Pair(shared=True)
    assert len(list(model.parameters())) == 2
    assert len(list(model.modules())) == 2
    # state_dict keeps every name, as PyTorch does, so both paths load.
    assert list(model.state_dict()) == ["first.weight", "first.bias", "first.calls",
                                        "second.weight", "second.bias", "second.calls"]


def test_reassigning_and_deleting_attributes():
    model = Scale()
    model.weight = None
    assert "weight" in model._parameters and model.weight is None
    with pytest.raises(TypeError, match="cannot assign Tensor to 'bias' of Scale: expected a Parameter or None"):
        model.bias = minicnn.zeros(3)
    model.bias = Scale()            # a name can change kind
    assert "bias" in model._modules and "bias" not in model._parameters
    del model.bias
    with pytest.raises(AttributeError, match="'Scale' object has no attribute 'bias'"):
        model.bias


def test_a_replaced_layer_or_weight_keeps_its_place():
    """As in PyTorch: replacing the first layer of a Sequential must not move it to the end
    (the forward order), nor a new weight after the bias (the state_dict order)."""
    model = nn.Sequential(Scale(), Scale(size=2))
    model[0] = Scale(size=2)
    model[1].weight = nn.Parameter(numpy.full(2, 3.0))
    model[1].bias = nn.Parameter(numpy.ones(2))
    assert list(model.state_dict()) == ["0.weight", "0.bias", "0.calls",
                                        "1.weight", "1.bias", "1.calls"]
    # x * [1, 2] * 3 + 1 in this order; [1, 2] * (x * 3 + 1) in the other
    assert model(minicnn.ones(2, dtype=minicnn.float64)).tolist() == [4.0, 7.0]
    model[1].register_buffer("calls", minicnn.zeros(1), persistent=False)
    assert list(model.state_dict())[-1] == "1.bias"


def test_assigning_before_init_explains_the_fix():
    class Forgetful(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(numpy.ones(1))

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first"):
        Forgetful()


def test_get_submodule():
    model = nn.Sequential(Pair(), Scale())
    assert model.get_submodule("0.second") is model[0].second
    with pytest.raises(AttributeError, match="Pair has no child 'third'"):
        model.get_submodule("0.third")


def test_train_eval_propagate_to_children():
    model = Pair()
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_apply_visits_children_before_parents():
    visited = []
    Pair().apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Scale", "Scale", "Pair"]


def test_requires_grad_freezes_and_unfreezes():
    model = Pair()
    model.first.requires_grad_(False)
    model(_ones()).backward(_ones())
    assert model.first.weight.grad is None
    numpy.testing.assert_allclose(model.second.weight.grad.numpy(), [1, 2, 3])
    model.requires_grad_(True)
    assert all(p.requires_grad for p in model.parameters())


def test_zero_grad():
    model = Scale()
    model(_ones()).backward(_ones())
    model.zero_grad(set_to_none=False)
    numpy.testing.assert_array_equal(model.weight.grad.numpy(), numpy.zeros(3))
    model.zero_grad()
    assert model.weight.grad is None


def test_forward_hooks_see_and_replace_values():
    model = Pair()
    seen = []
    handle = model.first.register_forward_hook(lambda m, args, out: seen.append(out.numpy()))
    pre = model.second.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    x = minicnn.tensor([1.0, 1.0, 1.0], dtype=minicnn.float64)
    numpy.testing.assert_array_equal(model(x).numpy(), numpy.zeros(3))
    numpy.testing.assert_array_equal(seen[0], [1, 2, 3])
    handle.remove()
    pre.remove()
    model(x)
    assert len(seen) == 1
    with model.register_forward_hook(lambda m, args, out: out * 10):
        numpy.testing.assert_array_equal(model(x).numpy(), [10, 40, 90])
    numpy.testing.assert_array_equal(model(x).numpy(), [1, 4, 9])


def test_forward_hook_and_tensor_hook_give_activation_and_its_gradient():
    """What Grad-CAM does: keep a layer's output and the gradient flowing into it."""
    model = Pair()
    saved = {}

    def keep(module, args, output):
        saved["activation"] = output
        output.register_hook(lambda g: saved.setdefault("gradient", g))

    model.first.register_forward_hook(keep)
    x = minicnn.tensor([1.0, 2.0, 3.0], dtype=minicnn.float64, requires_grad=True)
    model(x).backward(_ones())
    numpy.testing.assert_array_equal(saved["activation"].numpy(), [1, 4, 9])
    numpy.testing.assert_array_equal(saved["gradient"].numpy(), [1, 2, 3])


def test_to_moves_and_casts_in_place(device):
    model = Pair()
    weight = model.first.weight
    model.to(device, minicnn.float32)
    assert model.first.weight is weight
    assert weight.dtype == minicnn.float32 and weight.device == minicnn.device(device)
    assert model.first.calls.device == minicnn.device(device)
    model.double().cpu()
    assert weight.dtype == minicnn.float64 and weight.device == minicnn.device("cpu")
    with pytest.raises(TypeError, match="only floating dtypes"):
        model.to(minicnn.int64)


def test_repr_nests_children():
    model = nn.Sequential(nn.Identity(), Pair())
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Identity()\n"
        "  (1): Pair(\n"
        "    (first): Scale()\n"
        "    (second): Scale()\n"
        "  )\n"
        ")")


def test_forward_must_be_implemented():
    with pytest.raises(NotImplementedError, match="Empty must implement forward"):
        type("Empty", (nn.Module,), {})()(1)


def test_deepcopy_gives_an_independent_model():
    """How a training loop keeps its best weights."""
    model = Pair()
    snapshot = copy.deepcopy(model)
    model.first.weight.data[...] = 0
    numpy.testing.assert_array_equal(snapshot.first.weight.numpy(), [1, 2, 3])
    assert isinstance(snapshot.first.weight, nn.Parameter)


def test_a_replaced_child_keeps_its_place_so_sequential_runs_in_order():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    model[0] = nn.Linear(2, 3)          # through __setitem__
    setattr(model, "1", nn.Tanh())      # through __setattr__, as PyTorch's _modules[name] = m
    assert [type(child).__name__ for child in model.children()] == ["Linear", "Tanh", "Linear"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
