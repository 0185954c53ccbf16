"""BatchNorm1d/2d, LayerNorm, GroupNorm: gradcheck, parity (outputs, gradients, running
statistics), train/eval behaviour, errors."""
import numpy
import pytest

import minicnn
from minicnn import nn
from tests.helpers import assert_close, leaf
from tests.nn.layer_checks import check_parity, copy_torch_weights, gradcheck_layer

CASES = [  # (name, constructor arguments, input shape)
    ("BatchNorm1d", dict(num_features=3), (4, 3)),
    ("BatchNorm1d", dict(num_features=2, affine=False), (3, 2, 2)),
    ("BatchNorm2d", dict(num_features=2), (2, 2, 2, 3)),
    ("BatchNorm2d", dict(num_features=2, momentum=None), (2, 2, 2, 2)),
    ("BatchNorm2d", dict(num_features=2, track_running_stats=False), (2, 2, 2, 2)),
    ("LayerNorm", dict(normalized_shape=(2, 3)), (2, 2, 3)),
    ("LayerNorm", dict(normalized_shape=4, elementwise_affine=False), (3, 4)),
    ("GroupNorm", dict(num_groups=2, num_channels=4), (2, 4, 2, 2)),
]


def _randomise_affine(layer):
    """Non-trivial gamma and beta, so their gradients are tested too."""
    for param in layer.parameters():
        param.data[...] = numpy.random.uniform(0.5, 1.5, param.shape)
    return layer


@pytest.mark.parametrize("name, arguments, shape", CASES)
def test_gradcheck(device, name, arguments, shape):
    layer = _randomise_affine(getattr(nn, name)(**arguments).to(device, minicnn.float64))
    assert gradcheck_layer(layer, leaf(shape, device))


@pytest.mark.parametrize("name, arguments, shape", CASES)
@pytest.mark.parametrize("training", [True, False])
def test_parity_with_torch(torch, device, name, arguments, shape, training):
    theirs = getattr(torch.nn, name)(**arguments).double()
    with torch.no_grad():
        for param in theirs.parameters():
            param.uniform_(0.5, 1.5)
        for buffer_name, buffer in theirs.named_buffers():
            if buffer_name != "num_batches_tracked":
                buffer.uniform_(0.5, 1.5)
    ours = getattr(nn, name)(**arguments).to(device).train(training)
    check_parity(torch, ours, theirs.train(training), leaf(shape, device))


def test_running_statistics_follow_torch_over_several_batches(torch, device):
    ours = nn.BatchNorm2d(3, momentum=0.3).to(device).double()
    theirs = torch.nn.BatchNorm2d(3, momentum=0.3).double()
    for _ in range(3):
        x = leaf((4, 3, 2, 2), device, requires_grad=False)
        ours(x)
        theirs(torch.tensor(x.numpy()))
    for name, buffer in theirs.named_buffers():
        assert_close(ours.state_dict()[name], buffer)
    assert int(ours.num_batches_tracked.item()) == 3


def test_eval_uses_running_statistics_and_train_uses_the_batch(device):
    layer = nn.BatchNorm1d(2).to(device).double()
    layer.running_mean.data[...] = 10.0
    x = leaf(numpy.array([[0.0, 1.0], [2.0, 3.0]]), device, requires_grad=False)
    numpy.testing.assert_allclose(layer.eval()(x).numpy(), (x.numpy() - 10) / numpy.sqrt(1 + 1e-5))
    assert int(layer.num_batches_tracked.item()) == 0
    numpy.testing.assert_allclose(layer.train()(x).numpy(), [[-1, -1], [1, 1]], atol=1e-4)
    assert int(layer.num_batches_tracked.item()) == 1


def test_track_running_stats_false_has_no_buffers():
    layer = nn.BatchNorm2d(4, track_running_stats=False)
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert layer.running_mean is None


@pytest.mark.parametrize("layer, shape, expected", [
    (nn.BatchNorm2d(16), (8, 3, 4, 4), r"\(N, 16, H, W\)"),
    (nn.BatchNorm1d(5), (8, 4), r"\(N, 5\) or \(N, 5, L\)"),
    (nn.LayerNorm(6), (2, 5), r"\(\*, 6\)"),
    (nn.GroupNorm(2, 4), (2, 3, 5), r"\(N, 4, \*\)"),
])
def test_wrong_shape_names_the_layer(layer, shape, expected):
    with pytest.raises(ValueError, match=rf"^{type(layer).__name__}\(.*\): expected input of "
                                         rf"shape {expected}, got"):
        layer(minicnn.zeros(*shape))


def test_group_norm_needs_divisible_channels():
    with pytest.raises(ValueError, match="num_channels=6 must be divisible by num_groups=4"):
        nn.GroupNorm(4, 6)


def test_repr():
    assert repr(nn.BatchNorm2d(16)) == "BatchNorm2d(16)"
    assert repr(nn.BatchNorm1d(4, momentum=None)) == "BatchNorm1d(4, momentum=None)"
    assert repr(nn.LayerNorm(8)) == "LayerNorm((8,), eps=1e-05)"
    assert repr(nn.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05)"


def test_copy_from_torch_keeps_counter_dtype(torch):
    ours = nn.BatchNorm2d(2)
    copy_torch_weights(torch, ours, torch.nn.BatchNorm2d(2))
    assert ours.num_batches_tracked.dtype == numpy.int64
