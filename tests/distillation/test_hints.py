"""HintLoss (distillation/hints.py): layers found by name through forward hooks, a 1x1
adapter, and the L2 loss between the maps."""
import numpy
import pytest

import minicnn
import minicnn.functional as F
from minicnn import nn, optim
from minicnn.distillation import HintLoss
from minicnn.models import LeNet5, resnet_tiny


def _student():
    return nn.Sequential(nn.Conv2d(1, 3, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3 * 14 * 14, 10))


def test_hint_loss_is_the_mse_through_the_adapter_and_trains_it():
    minicnn.manual_seed(0)
    student, teacher = _student(), LeNet5().eval()
    x = minicnn.rand(4, 1, 28, 28)
    hint = HintLoss(student, teacher, "2", "features.2", x)
    assert (hint.adapter.in_channels, hint.adapter.out_channels) == (3, 6)
    student(x)
    with minicnn.no_grad():
        teacher(x)
    with minicnn.no_grad():
        features_s = student[2](student[1](student[0](x)))
        features_t = teacher.features[2](teacher.features[1](teacher.features[0](x)))
        expected = F.mse_loss(hint.adapter(features_s), features_t).item()
    loss = hint()
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    parameters = list(student.parameters()) + list(hint.parameters())
    optimizer = optim.Adam(parameters, lr=1e-2)
    for _ in range(20):
        optimizer.zero_grad()
        student(x)
        with minicnn.no_grad():
            teacher(x)
        value = hint()
        value.backward()
        optimizer.step()
    assert value.item() < 0.5 * loss.item()
    assert student[0].weight.grad is not None            # the hint reaches the student's layer


def test_remove_takes_the_hooks_away():
    student, teacher = _student(), LeNet5()
    hint = HintLoss(student, teacher, "0", "features.0", minicnn.rand(2, 1, 28, 28))
    hint.remove()
    assert not student[0]._forward_hooks and not teacher.features[0]._forward_hooks


def test_bad_layers_are_named():
    student, teacher = _student(), resnet_tiny(in_channels=1)
    x = minicnn.rand(2, 1, 28, 28)
    with pytest.raises(ValueError, match="HintLoss: the teacher has no layer 'layer9'"):
        HintLoss(student, teacher, "0", "layer9", x)
    with pytest.raises(ValueError, match=r"student's '0' gives \(2, 3, 28, 28\) and the teacher's "
                                         r"'layer2' \(2, 8, 14, 14\); their heights and widths must match"):
        HintLoss(student, teacher, "0", "layer2", x)
    assert not student[0]._forward_hooks                 # a failed construction leaves no hooks
    with pytest.raises(ValueError, match="a hint needs feature maps"):
        HintLoss(student, teacher, "4", "layer2", x)
    with pytest.raises(RuntimeError, match="run the student and the teacher"):
        HintLoss(student, teacher, "2", "layer2", x)()
