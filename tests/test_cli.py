"""The `minicnn` command (minicnn/cli.py): train, evaluate, predict and their errors."""
import json
import math
import os
import shutil
import subprocess
import sys
import time

import numpy
import pytest

import minicnn.functional as F
from minicnn.cli import augmentation, build_parser, main
from minicnn.cpu_kernels import dispatch
from minicnn.data import transforms
from minicnn.serialization import load
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


def test_the_same_seed_gives_the_same_weights_even_beside_a_busy_neighbour(tmp_path):
    """Two runs in fresh processes, the second while another process keeps a CPU busy, write
    byte-identical weights: the default convolution kernels are chosen by a fixed rule, never
    by timing (resnet_tiny's 3x3 layers are where timing would choose differently)."""
    command = [sys.executable, "-m", "minicnn", "train", "--model", "resnet_tiny", "--limit", "64",
               "--epochs", "1", "--batch-size", "32", "--out", str(tmp_path), "--quiet"]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])}
    subprocess.run(command + ["--name", "alone"], check=True, env=environment, capture_output=True)
    neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        subprocess.run(command + ["--name", "crowded"], check=True, env=environment, capture_output=True)
    finally:
        neighbour.kill()
        neighbour.wait()
    weights = [(tmp_path / name / "model.npz").read_bytes() for name in ("alone", "crowded")]
    assert weights[0] == weights[1]


def interrupt_in_epoch_2(trainer, epoch, train_epoch=Trainer.train_epoch):
    """Trainer.train_epoch, but Ctrl-C at the start of epoch 2."""
    if epoch == 2:
        raise KeyboardInterrupt
    return train_epoch(trainer, epoch)


def test_auto_saves_its_choices_and_a_resume_reuses_them(tmp_path, monkeypatch):
    """--conv-algorithm auto is recorded in config.json, the kernels it chose go to
    conv_choices.json, and a resumed run takes them from there instead of timing again, so
    it ends with the weights of the uninterrupted run."""
    # Timings that make 'auto' choose im2col everywhere, which the default rule never does.
    preference = {dispatch.im2col: 1, dispatch.conv_numba: 2, dispatch.winograd: 3}
    monkeypatch.setattr(dispatch, "_seconds", lambda function, *a, **k: preference[sys.modules[function.__module__]])
    options = ["--model", "resnet_tiny", "--limit", "64", "--conv-algorithm", "auto", "--out", str(tmp_path), "--quiet"]
    monkeypatch.setattr(dispatch, "_fastest", {})
    main(["train", "--epochs", "2", "--name", "whole"] + options)
    monkeypatch.setattr(dispatch, "_fastest", {})
    with monkeypatch.context() as interrupted:
        interrupted.setattr(Trainer, "train_epoch", interrupt_in_epoch_2)
        with pytest.raises(SystemExit):
            main(["train", "--epochs", "2", "--name", "resumed"] + options)
    with open(tmp_path / "resumed" / "config.json") as f:
        assert json.load(f)["conv_algorithm"] == "auto"
    with open(tmp_path / "resumed" / "conv_choices.json") as f:
        choices = json.load(f)
    assert choices and {record["kernel"] for record in choices} == {"im2col"}
    assert F.get_conv_algorithm() == "default"          # the run's algorithm ends with it

    def timed_again(*arguments, **options):
        raise AssertionError("the resumed run timed the kernels instead of reusing its choices")
    monkeypatch.setattr(dispatch, "_seconds", timed_again)
    monkeypatch.setattr(dispatch, "_fastest", {})
    main(["train", "--epochs", "2", "--resume", "--name", "resumed"] + options)
    weights = [(tmp_path / name / "model.npz").read_bytes() for name in ("whole", "resumed")]
    assert weights[0] == weights[1]


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
    assert "--epochs must be a positive integer, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--mixup", "0", "--limit", "8", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "MixUp: 'alpha' must be > 0 (the Beta(alpha, alpha) distribution of lambda), got 0.0" \
        in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--augment", "medium"])
    assert "invalid choice: 'medium'" in capsys.readouterr().err


# --- run directories are never destroyed by accident -----------------------------------------
QUICK = ["--model", "mlp", "--limit", "32", "--batch-size", "16", "--quiet"]


def train(out, *options, name="r"):
    main(["train", *QUICK, "--out", str(out), "--name", name, *options])


def refused(capsys, *argv):
    """The one-line error with which `minicnn train ...argv` exits 2."""
    with pytest.raises(SystemExit) as exit_info:
        main(["train", *argv])
    error = capsys.readouterr().err
    assert exit_info.value.code == 2 and error.count("\n") == 1, error
    return error


def files(directory):
    return {name: (directory / name).read_bytes() for name in sorted(os.listdir(directory))}


def saved(run, name):
    with open(run / name) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """An MLP run of 2 epochs at lr 0.01 (cosine: 0.01, then 0.005); tests copy it."""
    out = tmp_path_factory.mktemp("finished")
    train(out, "--epochs", "2", "--lr", "0.01")
    return out / "r"


@pytest.fixture
def run(finished_run, tmp_path):
    shutil.copytree(finished_run, tmp_path / "r")
    return tmp_path / "r"


def test_an_existing_run_is_kept_unless_resume_or_overwrite(run, capsys):
    before = files(run)
    error = refused(capsys, *QUICK, "--out", str(run.parent), "--name", "r", "--epochs", "1")
    assert f"{run} already holds a run; continue it with --resume, replace it with " \
           "--overwrite, or choose another --name" in error
    assert files(run) == before
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--resume", "--overwrite"])
    assert exit_info.value.code == 2 and "not allowed with" in capsys.readouterr().err

    train(run.parent, "--epochs", "1", "--seed", "1", "--overwrite")
    assert saved(run, "config.json")["seed"] == 1 and saved(run, "config.json")["epochs"] == 1
    assert saved(run, "metrics.json")["history"]["epoch"] == [1]

    notes = run.parent / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("mine")
    error = refused(capsys, *QUICK, "--out", str(run.parent), "--name", "notes", "--overwrite")
    assert "is not empty and holds no minicnn run (no config.json)" in error
    assert (notes / "todo.txt").read_text() == "mine"


def test_a_refused_resume_changes_nothing_and_names_the_options(run, capsys):
    before = files(run)
    error = refused(capsys, "--out", str(run.parent), "--name", "r", "--resume", "--quiet",
                    "--model", "lenet5", "--batch-size", "8", "--epochs", "3", "--lr", "0.5")
    assert ("--resume continues " + str(run) + " as it was configured, so these options cannot "
            "change: --model lenet5 (the run has mlp), --batch-size 8 (the run has 16); ") in error
    error = refused(capsys, *QUICK, "--out", str(run.parent), "--name", "r", "--resume",
                    "--epochs", "1")
    assert f"--epochs 1: {run} has already trained 2 epochs; give --epochs 2 or more" in error
    assert files(run) == before
    error = refused(capsys, *QUICK, "--out", str(run.parent), "--name", "none", "--resume")
    assert "is not a run directory: it has no config.json" in error


def test_resume_extends_the_cosine_and_changes_lr_and_says_so(run):
    # Re-planned as a cosine from 0.02 over 4 epochs: epoch 3 gets 0.02 (1 + cos(pi 2/4)) / 2.
    # (The old schedule had ended at epoch 2, so epoch 3 used to train at lr 0.)
    train(run.parent, "--resume", "--epochs", "4", "--lr", "0.02")
    history = saved(run, "metrics.json")["history"]
    expected = [0.01, 0.005] + [0.02 * (1 + math.cos(math.pi * t / 4)) / 2 for t in (2, 3)]
    assert history["epoch"] == [1, 2, 3, 4]
    assert history["lr"] == pytest.approx(expected, rel=1e-12)
    config = saved(run, "config.json")
    assert config["epochs"] == 4 and config["lr"] == 0.02
    assert config["resumed"] == [{"after_epoch": 2, "changed": {"epochs": [2, 4],
                                                                "lr": [0.01, 0.02]}}]


def test_an_interrupted_run_resumed_twice_equals_the_uninterrupted_one(tmp_path, capsys,
                                                                        monkeypatch):
    train(tmp_path, "--epochs", "3", name="straight")

    from minicnn.training import Trainer
    epoch_of_training, should_stop_early = Trainer.train_epoch, Trainer.should_stop_early

    def interrupted_in_epoch_1(self, epoch):
        raise KeyboardInterrupt

    def interrupted_after_epoch_2(self):
        if self.history["epoch"][-1] == 2:
            raise KeyboardInterrupt
        return should_stop_early(self)

    for interruption in ("train_epoch", "should_stop_early", None):
        monkeypatch.setattr(Trainer, "train_epoch", interrupted_in_epoch_1
                            if interruption == "train_epoch" else epoch_of_training)
        monkeypatch.setattr(Trainer, "should_stop_early", interrupted_after_epoch_2
                            if interruption == "should_stop_early" else should_stop_early)
        resume = [] if interruption == "train_epoch" else ["--resume"]
        try:
            train(tmp_path, "--epochs", "3", *resume)
        except SystemExit as exit_info:
            assert exit_info.code == 130 and "--resume" in capsys.readouterr().err
        if interruption == "train_epoch":      # stopped before its first checkpoint
            assert sorted(os.listdir(tmp_path / "r")) == ["config.json"]
            assert "training has not finished" in refused_evaluate(capsys, tmp_path / "r")

    straight, resumed = load(tmp_path / "straight" / "model.npz"), load(tmp_path / "r" / "model.npz")
    for name in straight:
        numpy.testing.assert_array_equal(resumed[name].numpy(), straight[name].numpy())
    assert saved(tmp_path / "r", "metrics.json")["history"]["lr"] == \
        saved(tmp_path / "straight", "metrics.json")["history"]["lr"]
    assert [entry["after_epoch"] for entry in saved(tmp_path / "r", "config.json")["resumed"]] \
        == [0, 2]


def refused_evaluate(capsys, run):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", str(run)])
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("options, message", [
    (["--limit", "-5"], "--limit must be a positive integer, got -5"),
    (["--limit", "0"], "--limit must be a positive integer, got 0"),
    (["--patience", "-1"], "--patience must be a positive integer, got -1"),
    (["--patience", "0"], "--patience must be a positive integer, got 0"),
    (["--epochs", "-2"], "--epochs must be a positive integer, got -2"),
    (["--batch-size", "0"], "--batch-size must be a positive integer, got 0"),
    (["--lr", "0"], "--lr must be a positive number, got 0.0"),
    (["--lr", "nan"], "--lr must be a positive number, got nan"),
    (["--lr=-inf"], "--lr must be a positive number, got -inf"),
    (["--seed", "-1"], "--seed must be a non-negative integer, got -1"),
    (["--name", "../../x"], "--name '../../x' must name a folder inside --out"),
    (["--name", "a/../.."], "--name 'a/../..' must name a folder inside --out"),
    (["--name", "{tmp}/x"], "--name '{tmp}/x' must name a folder inside --out"),
    (["--name", "."], "--name '.' must name a folder inside --out"),
])
def test_impossible_options_exit_2_with_one_line_before_anything_is_written(
        options, message, tmp_path, capsys):
    out = tmp_path / "runs"
    options = [option.format(tmp=tmp_path) for option in options]
    message = message.format(tmp=tmp_path)
    error = refused(capsys, "--model", "mlp", "--epochs", "1", "--quiet", "--out", str(out),
                    *options)
    assert error == f"minicnn train: error: {message}" + (
        f" {out}, such as --name lenet5-run2\n" if "--name" in message else "\n")
    assert not out.exists() and not (tmp_path / "x").exists()


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "runs").write_text("not a folder")
    for out in ("runs", "runs/deeper"):
        error = refused(capsys, "--out", str(tmp_path / out))
        assert error == (f"minicnn train: error: --out {tmp_path / out}: {tmp_path / 'runs'} "
                         "is a file, not a directory\n")


@pytest.mark.slow
def test_default_training_reaches_97_percent_within_2_minutes(tmp_path):
    began = time.perf_counter()
    main(["train", "--out", str(tmp_path), "--quiet"])
    seconds = time.perf_counter() - began
    with open(tmp_path / "lenet5-mnist5k" / "metrics.json") as f:
        accuracy = json.load(f)["final"]["val_accuracy"]
    print(f"default minicnn train: {100 * accuracy:.2f}% test accuracy in {seconds:.0f} s")
    assert accuracy >= 0.97 and seconds <= 120
