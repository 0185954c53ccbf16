"""The `minicnn` command (minicnn/cli.py): train, evaluate, predict and their errors."""
import json
import os
import time

import numpy
import pytest

from minicnn.cli import augmentation, build_parser, main
from minicnn.data import transforms
from minicnn.training import Trainer

pytest.importorskip("mlxtend")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One tiny training run shared by the tests of this module."""
    out = tmp_path_factory.mktemp("runs")
    main(["train", "--limit", "256", "--epochs", "1", "--out", str(out), "--name", "tiny",
          "--quiet"])
    return os.path.join(out, "tiny")


def test_train_writes_the_run_directory(run_dir, capsys):
    for name in ("config.json", "model.npz", "checkpoint.npz", "metrics.json", "curves.png"):
        assert os.path.exists(os.path.join(run_dir, name)), name
    with open(os.path.join(run_dir, "config.json")) as f:
        config = json.load(f)
    assert (config["model"], config["dataset"], config["seed"]) == ("lenet5", "mnist5k", 0)
    assert config["image_shape"] == [1, 28, 28] and len(config["class_names"]) == 10
    with open(os.path.join(run_dir, "metrics.json")) as f:
        metrics = json.load(f)
    assert metrics["history"]["epoch"] == [1]
    assert numpy.array(metrics["final"]["confusion_matrix"]).sum() == 256
    assert 0 <= metrics["final"]["val_accuracy"] <= 1


def test_evaluate_prints_the_saved_accuracy(run_dir, capsys):
    main(["evaluate", run_dir])
    printed = capsys.readouterr().out
    with open(os.path.join(run_dir, "metrics.json")) as f:
        saved = json.load(f)["final"]["val_accuracy"]
    assert f"accuracy {100 * saved:.2f}%" in printed
    assert "256 images" in printed and len(printed.splitlines()) == 2 + 1 + 10


def test_predict_a_png(run_dir, tmp_path, capsys):
    from PIL import Image
    from minicnn.data import MNIST5k
    image, label = MNIST5k(train=False)[0]
    # Written black-on-white and at 56x56: predict must invert and resize it.
    pixels = (255 - image.numpy()[0] * 255).astype(numpy.uint8)
    Image.fromarray(pixels).resize((56, 56)).save(tmp_path / "digit.png")
    main(["predict", run_dir, str(tmp_path / "digit.png")])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("predicted class: ")
    probabilities = [float(line.split()[-1]) for line in lines[1:]]
    assert len(probabilities) == 10 and sum(probabilities) == pytest.approx(1, abs=1e-3)


def test_resume_continues_the_run(tmp_path, capsys):
    options = ["--limit", "128", "--out", str(tmp_path), "--name", "r", "--quiet"]
    main(["train", "--epochs", "1", "--lr", "0.01"] + options)
    main(["train", "--epochs", "2", "--resume"] + options)
    with open(tmp_path / "r" / "metrics.json") as f:
        history = json.load(f)["history"]
    assert history["epoch"] == [1, 2]
    with open(tmp_path / "r" / "config.json") as f:
        config = json.load(f)
    assert config["lr"] == 0.01 and config["epochs"] == 2      # saved settings, new epochs


def test_augmentation_options_are_recorded_and_resume_reproduces_the_run(tmp_path, monkeypatch):
    """--augment, --mixup and --cutmix draw from the global generator, which the checkpoint
    saves: a run interrupted after its first epoch and resumed trains the same weights as
    one that was not interrupted."""
    options = ["train", "--epochs", "2", "--limit", "96", "--batch-size", "32", "--augment",
               "strong", "--mixup", "0.4", "--cutmix", "--out", str(tmp_path), "--quiet"]
    main(options + ["--name", "straight"])
    interrupt = iter([True])
    original = Trainer.should_stop_early

    def interrupted_once(self):
        if next(interrupt, False):
            raise KeyboardInterrupt
        return original(self)
    monkeypatch.setattr(Trainer, "should_stop_early", interrupted_once)
    with pytest.raises(SystemExit):                 # exit 130 after epoch 1's checkpoint
        main(options + ["--name", "resumed"])
    main(["train", "--resume", "--name", "resumed", "--out", str(tmp_path), "--quiet"])
    config = json.loads((tmp_path / "resumed" / "config.json").read_text())
    assert (config["augment"], config["mixup"], config["cutmix"]) == ("strong", 0.4, True)
    straight, resumed = (json.loads((tmp_path / name / "metrics.json").read_text())["history"]
                         for name in ("straight", "resumed"))
    assert resumed["epoch"] == [1, 2]
    assert resumed["train_loss"] == straight["train_loss"]
    assert resumed["val_loss"] == straight["val_loss"]
    weights = [numpy.load(tmp_path / name / "model.npz") for name in ("straight", "resumed")]
    for key in weights[0].files:
        numpy.testing.assert_array_equal(weights[0][key], weights[1][key])


def test_no_augment_and_old_configs_map_to_named_policies():
    assert build_parser().parse_args(["train", "--no-augment"]).augment == "none"
    assert build_parser().parse_args(["train"]).augment is None          # the default: basic
    # Run directories written before the named policies saved "augment": true or false.
    for saved, steps in ((True, [transforms.RandomCrop]), (False, []),
                         ("strong", [transforms.RandomCrop, transforms.RandomAffine,
                                     transforms.ColorJitter, transforms.RandomErasing])):
        policy = augmentation({"augment": saved, "dataset": "mnist5k"}, train=True)
        assert [type(step) for step in policy.transforms] == steps
    assert augmentation({"augment": "strong", "dataset": "mnist5k"}, train=False) is None


def test_unknown_names_exit_2_listing_choices(capsys):
    for option, name, valid in (("--model", "lenet7", "lenet5"), ("--dataset", "mnist6k", "mnist5k")):
        with pytest.raises(SystemExit) as exit_info:
            main(["train", option, name])
        assert exit_info.value.code == 2
        error = capsys.readouterr().err
        assert f"invalid choice: '{name}'" in error and valid in error


def test_errors_name_the_problem(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", str(tmp_path)])
    assert exit_info.value.code == 2 and "has no config.json" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--epochs", "0", "--out", str(tmp_path)])
    assert "--epochs must be positive, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--mixup", "0", "--limit", "8", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "MixUp: 'alpha' must be > 0 (the Beta(alpha, alpha) distribution of lambda), got 0.0" \
        in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--augment", "medium"])
    assert "invalid choice: 'medium'" in capsys.readouterr().err


@pytest.mark.slow
def test_default_training_reaches_97_percent_within_2_minutes(tmp_path):
    began = time.perf_counter()
    main(["train", "--out", str(tmp_path), "--quiet"])
    seconds = time.perf_counter() - began
    with open(tmp_path / "lenet5-mnist5k" / "metrics.json") as f:
        accuracy = json.load(f)["final"]["val_accuracy"]
    print(f"default minicnn train: {100 * accuracy:.2f}% test accuracy in {seconds:.0f} s")
    assert accuracy >= 0.97 and seconds <= 120
