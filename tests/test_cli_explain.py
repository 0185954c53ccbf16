"""`minicnn explain` and `minicnn robustness` (the explain section of minicnn/cli.py)."""
import json
import os
import shutil

import numpy
import pytest

from minicnn.cli import main


@pytest.fixture(scope="module")
def run_dir(lenet_run, tmp_path_factory):
    """A copy of conftest's tiny run, since these commands write their pictures into it."""
    return str(shutil.copytree(lenet_run, tmp_path_factory.mktemp("explain") / "run"))


@pytest.fixture(scope="module")
def digit(tmp_path_factory):
    from PIL import Image
    from minicnn.data import MNIST5k
    path = tmp_path_factory.mktemp("images") / "seven.png"
    image, _ = MNIST5k(train=False)[0]
    Image.fromarray((image.numpy()[0] * 255).astype(numpy.uint8)).save(path)
    return str(path)


def _png(path):
    with open(path, "rb") as file:
        return file.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("method", ["gradcam", "saliency", "ig", "occlusion"])
def test_explain_writes_a_png_beside_the_run(run_dir, digit, capsys, method):
    main(["explain", run_dir, digit, "--method", method])
    out = os.path.join(run_dir, f"explain-seven-{method}.png")
    assert _png(out)
    assert capsys.readouterr().out.startswith("predicted class: ")


def test_explain_a_chosen_layer_and_class_to_a_chosen_file(run_dir, digit, tmp_path, capsys):
    out = tmp_path / "cam.png"
    main(["explain", run_dir, digit, "--layer", "features.0", "--target", "3", "--out", str(out)])
    assert _png(out) and "gradcam of class 3" in capsys.readouterr().out


@pytest.mark.parametrize("options, message", [
    (["--layer", "features.9"], "GradCAM: the model has no layer 'features.9'; close names: "),
    (["--method", "saliency", "--layer", "features.0"],
     "--layer chooses Grad-CAM's layer; --method saliency has none"),
    (["--target", "10"], "GradCAM: target 10 is out of range for 10 classes"),
])
def test_explain_errors_exit_2_with_one_line(run_dir, digit, capsys, options, message):
    with pytest.raises(SystemExit) as stop:
        main(["explain", run_dir, digit] + options)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


def test_robustness_prints_the_table_and_writes_the_plot_and_numbers(run_dir, capsys):
    main(["robustness", run_dir, "--limit", "40", "--corruptions", "blur", "occlusion"])
    lines = capsys.readouterr().out.splitlines()
    assert "40 images" in lines[0]
    assert [line.split()[0] for line in lines[2:4]] == ["blur", "occlusion"]
    assert lines[4].startswith("clean accuracy ")
    assert _png(os.path.join(run_dir, "robustness.png"))
    with open(os.path.join(run_dir, "robustness.json")) as file:
        saved = json.load(file)
    assert len(saved["table"]["blur"]) == 5 and saved["images"] == 40


def test_robustness_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["robustness", str(tmp_path)])
    assert stop.value.code == 2 and "is not a run directory" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["explain", "robustness"])
def test_an_out_folder_that_does_not_exist_is_refused_before_the_work(run_dir, digit, tmp_path,
                                                                       capsys, command):
    out = tmp_path / "missing" / "picture.png"
    arguments = [run_dir, digit] if command == "explain" else [run_dir]
    with pytest.raises(SystemExit) as stop:
        main([command] + arguments + ["--out", str(out)])
    assert stop.value.code == 2
    assert f"--out {out}: the directory {out.parent} does not exist" in capsys.readouterr().err
    assert not os.path.exists(out.parent)


def test_adversarial_training_reports_clean_and_robust_accuracy(tmp_path, capsys):
    options = ["--adversarial", "pgd", "--eps", "0.3", "--attack-steps", "1", "--epochs", "1",
               "--limit", "128", "--out", str(tmp_path), "--name", "adv", "--quiet"]
    main(["train"] + options)
    line = capsys.readouterr().out.strip()
    assert line.startswith("test accuracy ") and ", under pgd eps 0.3 " in line
    with open(tmp_path / "adv" / "metrics.json") as file:
        metrics = json.load(file)
    assert metrics["final"]["attack"] == {"name": "pgd", "eps": 0.3, "steps": 1, "alpha": None,
                                          "warmup_epochs": 0}      # a third of 1 epoch
    assert len(metrics["history"]["val_robust_accuracy"]) == 1
    with pytest.raises(SystemExit) as stop:        # the radius defines the run
        main(["train", "--resume", "--eps", "0.1"] + options[4:])
    assert stop.value.code == 2 and "--eps 0.1 (the run has 0.3)" in capsys.readouterr().err


@pytest.mark.parametrize("options, message", [
    (["--eps", "0.3"], "--adversarial ATTACK and --eps E go together"),
    (["--adversarial", "pgd"], "--adversarial ATTACK and --eps E go together"),
    (["--adversarial", "pgd", "--eps", "-0.1"], "--eps must be a non-negative number"),
    (["--adversarial", "fgsm", "--eps", "0.1", "--attack-steps", "5"],
     "--attack-steps must be a positive integer, for --adversarial pgd only"),
    (["--adversarial", "fgsm", "--eps", "0.1", "--eps-warmup", "-2"],
     "--eps-warmup must be a number of epochs (0 or more), got -2"),
])
def test_adversarial_options_are_checked_before_anything_is_written(tmp_path, capsys, options,
                                                                     message):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--limit", "64", "--epochs", "1", "--out", str(tmp_path), "--name", "x",
              "--quiet"] + options)
    assert stop.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
