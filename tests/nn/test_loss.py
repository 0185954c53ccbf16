"""Loss modules: PyTorch parity of value and input gradient, gradcheck, weight as a buffer."""
import numpy
import pytest

import minicnn
from minicnn import nn
from tests.helpers import assert_close, leaf

rng = numpy.random.default_rng(0)
LOGITS = rng.standard_normal((4, 3))
CLASSES = numpy.array([0, 2, 1, 2])
PROBABILITIES = rng.uniform(0.1, 0.9, (4, 3))
VALUES = rng.standard_normal((4, 3))
CASES = [  # (name, keyword arguments (arrays become tensors), input, target)
    ("CrossEntropyLoss", dict(weight=numpy.array([1.0, 2.0, 0.5]), label_smoothing=0.1),
     LOGITS, CLASSES),
    ("NLLLoss", dict(reduction="sum"), LOGITS, CLASSES),
    ("BCELoss", {}, PROBABILITIES, PROBABILITIES[::-1].copy()),
    ("BCEWithLogitsLoss", dict(pos_weight=numpy.array([1.0, 3.0, 0.5])), LOGITS,
     PROBABILITIES),
    ("MSELoss", {}, VALUES, LOGITS),
    ("L1Loss", dict(reduction="none"), VALUES, LOGITS),
    ("SmoothL1Loss", dict(beta=0.5), VALUES, LOGITS),
    ("HuberLoss", dict(delta=0.5), VALUES, LOGITS),
    ("KLDivLoss", dict(reduction="batchmean"), numpy.log(PROBABILITIES), PROBABILITIES),
]


def _build(module, arguments, convert):
    return module(**{key: convert(value) if isinstance(value, numpy.ndarray) else value
                     for key, value in arguments.items()})


@pytest.mark.parametrize("name, arguments, input, target", CASES)
def test_parity_with_torch(torch, device, name, arguments, input, target):
    ours = _build(getattr(nn, name), arguments, minicnn.tensor).to(device, minicnn.float64)
    theirs = _build(getattr(torch.nn, name), arguments, torch.tensor)
    x = leaf(input, device)
    x_torch = torch.tensor(input, requires_grad=True)
    loss, loss_torch = ours(x, minicnn.tensor(target, device=device)), theirs(x_torch, torch.tensor(target))
    assert_close(loss, loss_torch)
    grad_output = numpy.random.standard_normal(loss.shape)
    loss.backward(minicnn.tensor(grad_output, device=device))
    loss_torch.backward(torch.tensor(grad_output))
    assert_close(x.grad, x_torch.grad)


@pytest.mark.parametrize("name, arguments, input, target", CASES)
def test_gradcheck(device, name, arguments, input, target):
    loss = _build(getattr(nn, name), arguments, minicnn.tensor).to(device, minicnn.float64)
    target = minicnn.tensor(target, device=device)
    assert minicnn.gradcheck(lambda x: loss(x, target), leaf(input, device))


def test_class_weight_is_a_buffer_that_moves_with_the_module():
    criterion = nn.CrossEntropyLoss(weight=minicnn.ones(3))
    assert [name for name, _ in criterion.named_buffers()] == ["weight"]
    assert criterion.double().weight.dtype == minicnn.float64
    assert repr(criterion) == ("CrossEntropyLoss(ignore_index=-100, reduction='mean', "
                               "label_smoothing=0.0)")
