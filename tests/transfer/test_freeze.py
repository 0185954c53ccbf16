"""freeze, unfreeze and gradual_unfreezing (minicnn/transfer/freeze.py)."""
import numpy
import pytest

import minicnn
from minicnn import models, optim
from minicnn.data import DataLoader, TensorDataset
from minicnn.functional import cross_entropy
from minicnn.training import Trainer
from minicnn.transfer import freeze, gradual_unfreezing, replace_head, unfreeze


def tiny_resnet():
    return models.resnet_tiny(in_channels=1, num_classes=5)


def trainable(model):
    return [name for name, parameter in model.named_parameters() if parameter.requires_grad]


def snapshot(model):
    return {name: tensor.numpy().copy() for name, tensor in model.state_dict().items()}


def test_feature_extraction_leaves_every_frozen_parameter_and_batch_norm_buffer_bit_identical():
    """Two epochs of the Trainer (which calls model.train() every epoch) with a large
    learning rate: the backbone, its BatchNorm statistics and their batch counters stay
    exactly as they were; only the new head learns."""
    model = models.resnet_tiny(weights="mnist5k-0to4")
    replace_head(model, 3)
    frozen = freeze(model)
    before = snapshot(model)
    images = numpy.random.default_rng(0).random((24, 1, 12, 12), dtype=numpy.float32)
    data = TensorDataset(images, numpy.arange(24) % 3)
    optimizer = optim.Adam(model.parameters(), lr=0.1)
    Trainer(model, optimizer, DataLoader(data, batch_size=8, shuffle=True), quiet=True).fit(2)
    after = snapshot(model)
    assert frozen == [name for name in before if not name.startswith("fc.")
                      and "running" not in name and "num_batches" not in name]
    for name in before:
        if name.startswith("fc."):
            assert not numpy.array_equal(after[name], before[name]), f"{name} did not learn"
        else:
            numpy.testing.assert_array_equal(after[name], before[name], err_msg=name)


def test_a_frozen_batch_norm_normalises_with_its_running_statistics_even_in_train_mode():
    model = tiny_resnet()
    x = minicnn.randn(6, 1, 12, 12)
    model(x)                                   # training mode: running statistics move
    model.eval()
    evaluation = model(x).numpy()
    freeze(model, "layer3")
    model.train()
    assert model.bn1.training, "model.train() reaches a frozen BatchNorm: the hook holds it"
    numpy.testing.assert_array_equal(model(x).numpy(), evaluation)
    assert not model.bn1.training and not model.layer3[0].bn2.training
    unfreeze(model)
    assert model.bn1.training
    assert not numpy.array_equal(model(x).numpy(), evaluation), "still normalising as in eval"


def test_freeze_up_to_a_layer_freezes_what_comes_before_and_unfreezes_what_follows():
    model = tiny_resnet()
    frozen = freeze(model, "layer2")
    assert frozen[0] == "conv1.weight" and frozen[-1] == "layer2.0.bn2.bias"
    assert trainable(model) == [name for name, _ in model.named_parameters()
                                if name.startswith(("layer3.", "fc."))]
    x = minicnn.randn(2, 1, 12, 12)
    cross_entropy(model(x), minicnn.tensor([0, 1])).backward()
    assert all((parameter.grad is None) == (name in frozen)
               for name, parameter in model.named_parameters())
    freeze(model, "layer1.0.bn1")
    assert trainable(model)[0] == "layer1.0.conv2.weight"
    assert unfreeze(model, "layer3") == [name for name, _ in model.named_parameters()
                                         if name.startswith(("conv1", "bn1", "layer1", "layer2"))]
    assert unfreeze(model) == [] and len(trainable(model)) == len(list(model.parameters()))


def test_freeze_without_a_layer_leaves_only_the_head_of_a_sequential_model_learning():
    model = models.LeNet5()
    freeze(model)
    assert trainable(model) == ["classifier.5.weight", "classifier.5.bias"]


def test_gradual_unfreezing_adds_one_stage_per_epoch_from_the_head_down():
    model = tiny_resnet()
    stages = ["layer3", "layer2", "layer1", "conv1"]
    first_trainable = []
    for epoch in range(6):
        gradual_unfreezing(model, epoch, stages)
        first_trainable.append(trainable(model)[0])
    assert first_trainable == ["fc.weight", "layer3.0.conv1.weight", "layer2.0.conv1.weight",
                               "layer1.0.conv1.weight", "conv1.weight", "conv1.weight"]


@pytest.mark.parametrize("function", [freeze, unfreeze])
def test_an_unknown_layer_is_refused_with_the_valid_names(function):
    model = tiny_resnet()
    with pytest.raises(ValueError, match=rf"{function.__name__}: CifarResNet has no layer "
                                         r"'layer4'; its layers are conv1, bn1, layer1, layer2, "
                                         r"layer3, pool, fc \(and their parts, named like "
                                         r"'layer1.0'\)"):
        function(model, "layer4")
    assert len(trainable(model)) == len(list(model.parameters()))
