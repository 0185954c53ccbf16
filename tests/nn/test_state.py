"""state_dict / load_state_dict: PyTorch's keys and order, strictness, and all-or-nothing loads."""
from collections import OrderedDict

import numpy
import pytest

import minicnn
from minicnn import nn
from minicnn.models import LeNet5


def conv_block():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4),
                         nn.ReLU(), nn.Flatten(), nn.Linear(4 * 2 * 2, 2))


def torch_conv_block(torch):
    tnn = torch.nn
    return tnn.Sequential(tnn.Conv2d(3, 4, 3, padding=1, bias=False), tnn.BatchNorm2d(4),
                          tnn.ReLU(), tnn.Flatten(), tnn.Linear(4 * 2 * 2, 2))


def torch_lenet5(torch):
    tnn = torch.nn
    features = tnn.Sequential(
        tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2))
    classifier = tnn.Sequential(
        tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
        tnn.Linear(84, 10))
    return tnn.Sequential(OrderedDict(features=features, classifier=classifier))


@pytest.mark.parametrize("ours, theirs", [(conv_block, torch_conv_block), (LeNet5, torch_lenet5)])
def test_state_dict_keys_and_shapes_equal_torch(torch, ours, theirs):
    mine, reference = ours().state_dict(), theirs(torch).state_dict()
    assert list(mine) == list(reference)
    for name, value in reference.items():
        assert mine[name].shape == tuple(value.shape), name


def test_batch_norm_counter_is_an_int64_scalar():
    state = nn.BatchNorm2d(4).state_dict()
    assert state["num_batches_tracked"].shape == () and state["num_batches_tracked"].dtype == numpy.int64
    assert "running_mean" in state and "running_var" in state


def test_non_persistent_buffers_are_not_saved():
    model = nn.Linear(2, 2)
    model.register_buffer("cache", minicnn.zeros(2), persistent=False)
    assert list(model.state_dict()) == ["weight", "bias"]
    assert [name for name, _ in model.named_buffers()] == ["cache"]


def test_state_dict_shares_memory_and_keep_vars_returns_parameters():
    model = nn.Linear(2, 2)
    state = model.state_dict()
    model.weight.data[...] = 7
    numpy.testing.assert_array_equal(state["weight"].numpy(), numpy.full((2, 2), 7.0))
    assert not state["weight"].requires_grad
    assert model.state_dict(keep_vars=True)["weight"] is model.weight


def test_round_trip_copies_values_into_the_same_objects():
    source, target = conv_block(), conv_block()
    source.get_submodule("1").running_mean.data[...] = 3
    weight = target[0].weight
    assert target.load_state_dict(source.state_dict()) == ([], [])
    assert target[0].weight is weight
    for name, value in source.state_dict().items():
        numpy.testing.assert_array_equal(target.state_dict()[name].numpy(), value.numpy())


def test_load_accepts_numpy_arrays_and_casts_dtype():
    model = nn.Linear(2, 1)
    model.load_state_dict({"weight": numpy.array([[1.0, 2.0]]), "bias": numpy.array([3.0])})
    assert model.weight.dtype == minicnn.float32
    numpy.testing.assert_array_equal(model.weight.numpy(), [[1, 2]])


def _snapshot(model):
    return {name: value.numpy().copy() for name, value in model.state_dict().items()}


def test_load_a_torch_state_dict_directly(torch):
    """Transfer learning from PyTorch weights needs no conversion step."""
    reference = torch_lenet5(torch)
    model = LeNet5()
    model.load_state_dict(reference.state_dict())
    numpy.testing.assert_array_equal(model.classifier[5].bias.numpy(),
                                     reference.classifier[5].bias.detach().numpy())


def test_errors_list_every_problem_and_change_nothing():
    model = conv_block()
    before = _snapshot(model)
    state = {name: value.numpy() + 1 for name, value in model.state_dict().items()}
    del state["1.running_var"]
    state["extra.weight"] = numpy.zeros(1)
    state["4.weight"] = numpy.zeros((3, 16))
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert "nothing was changed" in message
    assert "missing keys: 1.running_var" in message
    assert "unexpected keys: extra.weight" in message
    assert "size mismatch for 4.weight: expected shape (2, 16), got (3, 16)" in message
    for name, value in _snapshot(model).items():
        numpy.testing.assert_array_equal(value, before[name])


def test_state_that_is_not_a_dict_names_what_was_given():
    model = nn.Linear(2, 1)
    for state in ([numpy.ones((1, 2)), numpy.ones(1)], list(model.state_dict().items())):
        with pytest.raises(TypeError, match=r"^load_state_dict: state must be a dict from names "
                                            r"to tensors, .*got list$"):
            model.load_state_dict(state)


def test_non_strict_load_reports_and_still_rejects_shape_mismatches():
    model = nn.Linear(2, 1)
    result = model.load_state_dict({"weight": numpy.ones((1, 2)), "other": numpy.ones(1)},
                                   strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    numpy.testing.assert_array_equal(model.weight.numpy(), [[1, 1]])
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: expected shape \(1, 2\)"):
        model.load_state_dict({"weight": numpy.ones((2, 2))}, strict=False)


def test_load_onto_device(device):
    model = conv_block().to(device)
    state = {name: value.numpy() * 0 + 2 for name, value in conv_block().state_dict().items()}
    model.load_state_dict(state)
    assert model[0].weight.device == minicnn.device(device)
    numpy.testing.assert_array_equal(model[0].weight.numpy(), numpy.full((4, 3, 3, 3), 2.0))
