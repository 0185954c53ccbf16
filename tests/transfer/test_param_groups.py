"""discriminative_param_groups (minicnn/transfer/param_groups.py), stepped beside torch.optim."""
import numpy
import pytest

import minicnn
from minicnn import models, optim
from minicnn.functional import cross_entropy
from minicnn.transfer import discriminative_param_groups, freeze


def test_the_groups_split_backbone_and_head_frozen_parameters_included():
    model = models.resnet_tiny(in_channels=1, num_classes=5)
    freeze(model)
    head, backbone = discriminative_param_groups(model, lr=0.1, backbone_lr=0.01)
    assert (backbone["name"], backbone["lr"], head["name"], head["lr"]) == (
        "backbone", 0.01, "head", 0.1)
    assert head["params"] == [model.fc.weight, model.fc.bias]
    names = {id(parameter): name for name, parameter in model.named_parameters()}
    assert [names[id(p)] for p in backbone["params"]] == list(names.values())[:-2]


@pytest.mark.parametrize("optimizer_name, options", [("SGD", {"momentum": 0.9}), ("Adam", {})])
def test_each_group_steps_with_its_own_learning_rate_as_in_torch(torch, optimizer_name,
                                                                 options):
    """Three steps of a cosine schedule on both groups: minicnn's parameters and learning
    rates equal torch.optim's on the same groups, step by step."""
    model = models.resnet_tiny(in_channels=1, num_classes=3).double()
    groups = discriminative_param_groups(model, lr=0.1, backbone_lr=0.01)
    ours = getattr(optim, optimizer_name)(groups, lr=0.5, **options)
    theirs_params = [[torch.tensor(p.numpy(), requires_grad=True) for p in group["params"]]
                     for group in groups]
    theirs = getattr(torch.optim, optimizer_name)(
        [{"params": params, "lr": group["lr"]} for params, group in zip(theirs_params, groups)],
        lr=0.5, **options)
    our_schedule = optim.lr_scheduler.CosineAnnealingLR(ours, T_max=3)
    their_schedule = torch.optim.lr_scheduler.CosineAnnealingLR(theirs, T_max=3)
    x = minicnn.randn(4, 1, 8, 8, dtype=minicnn.float64)
    target = minicnn.tensor([0, 1, 2, 1])
    for step in range(3):
        ours.zero_grad()
        cross_entropy(model(x), target).backward()
        for group, params in zip(groups, theirs_params):
            for mine, their in zip(group["params"], params):
                their.grad = torch.tensor(mine.grad.numpy())
        ours.step()
        theirs.step()
        our_schedule.step()
        their_schedule.step()
        head_lr, backbone_lr = our_schedule.get_last_lr()
        assert [head_lr, backbone_lr] == pytest.approx(their_schedule.get_last_lr(), rel=1e-15)
        assert backbone_lr == pytest.approx(head_lr / 10, rel=1e-12, abs=1e-18)
        for group, params in zip(groups, theirs_params):
            for mine, their in zip(group["params"], params):
                numpy.testing.assert_allclose(mine.numpy(), their.detach().numpy(),
                                              rtol=1e-12, atol=1e-15,
                                              err_msg=f"{group['name']}, step {step}")


@pytest.mark.parametrize("argument, value", [("lr", -1.0), ("backbone_lr", float("nan")),
                                             ("backbone_lr", "0.1")])
def test_bad_learning_rates_are_refused(argument, value):
    rates = {"lr": 0.1, "backbone_lr": 0.01, argument: value}
    with pytest.raises(ValueError, match=rf"discriminative_param_groups: {argument} must be a "
                                         rf"finite number >= 0, got {value!r}"):
        discriminative_param_groups(models.resnet_tiny(), **rates)
