"""The `minicnn` command (minicnn/cli.py): train, evaluate, predict and their errors."""
import json
import os
import subprocess
import sys
import time

import numpy
import pytest

import minicnn.functional as F
from minicnn.cli import main
from minicnn.cpu_kernels import dispatch
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


@pytest.mark.slow
def test_default_training_reaches_97_percent_within_2_minutes(tmp_path):
    began = time.perf_counter()
    main(["train", "--out", str(tmp_path), "--quiet"])
    seconds = time.perf_counter() - began
    with open(tmp_path / "lenet5-mnist5k" / "metrics.json") as f:
        accuracy = json.load(f)["final"]["val_accuracy"]
    print(f"default minicnn train: {100 * accuracy:.2f}% test accuracy in {seconds:.0f} s")
    assert accuracy >= 0.97 and seconds <= 120
