"""Sequential, ModuleList, ModuleDict: registration, indexing, naming."""
from collections import OrderedDict

import numpy
import pytest

import minicnn
from minicnn import nn


def test_sequential_applies_in_order_and_indexes_like_a_list():
    first, second = nn.Linear(3, 4), nn.Linear(4, 2)
    model = nn.Sequential(first, nn.ReLU(), second)
    x = minicnn.randn(5, 3)
    expected = second(minicnn.functional.relu(first(x)))
    numpy.testing.assert_allclose(model(x).numpy(), expected.numpy())
    assert len(model) == 3 and model[0] is first and model[-1] is second
    assert list(model) == [first, model[1], second]
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias",
                                                               "2.weight", "2.bias"]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is first
    with pytest.raises(IndexError, match="index 3 is out of range for 3 modules"):
        model[3]


def test_sequential_append_insert_delete_renumber():
    model = nn.Sequential(nn.ReLU())
    model.append(nn.Tanh()).insert(0, nn.Sigmoid())
    assert [type(m).__name__ for m in model] == ["Sigmoid", "ReLU", "Tanh"]
    del model[0]
    assert list(model._modules) == ["0", "1"]
    assert type(model[0]).__name__ == "ReLU"


def test_sequential_with_names():
    model = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 2, 3)), ("act", nn.ReLU())]))
    assert list(model.state_dict()) == ["conv.weight", "conv.bias"]
    assert model.conv is model[0]


def test_module_list_registers_but_has_no_forward():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Linear(2, 1))
    assert len(list(layers.parameters())) == 8 and len(layers) == 4
    assert isinstance(layers[1:], nn.ModuleList) and len(layers + layers) == 8
    with pytest.raises(NotImplementedError):
        layers(minicnn.zeros(2))


def test_module_dict():
    heads = nn.ModuleDict({"digits": nn.Linear(4, 10), "parity": nn.Linear(4, 2)})
    heads["extra"] = nn.Identity()
    assert list(heads) == ["digits", "parity", "extra"] and "parity" in heads
    assert [name for name, _ in heads.named_parameters()][0] == "digits.weight"
    del heads["extra"]
    assert len(heads) == 2 and heads.pop("parity").out_features == 2
