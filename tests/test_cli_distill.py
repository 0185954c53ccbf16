"""`minicnn distill` (minicnn/cli.py): the loss it trains with, the run directory, a resume,
and the teacher/student checks made before anything is written."""
import json
import os
import re
import shutil

import numpy
import pytest

import minicnn
from minicnn import manual_seed, no_grad
from minicnn.cli import build_model, load_split, load_trained_model, main, read_config
from minicnn.data import DataLoader
from minicnn.distillation import distillation_loss
from minicnn.serialization import load, save
from tests.test_cli import refused

pytest.importorskip("mlxtend")

SMALL = ["--student", "mlp", "--limit", "32", "--batch-size", "32", "--quiet"]


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    """An MLP trained for one epoch on 64 digits: a teacher for the tests to distill from."""
    out = tmp_path_factory.mktemp("teacher")
    main(["train", "--model", "mlp", "--limit", "64", "--epochs", "1", "--out", str(out),
          "--name", "teacher", "--quiet"])
    return out / "teacher"


def distill(teacher, out, *options, name="student"):
    main(["distill", "--teacher", str(teacher), *SMALL, "--out", str(out), "--name", name,
          *options])
    return out / name


def read_json(path):
    with open(path) as f:
        return json.load(f)


def test_the_run_trains_with_distillation_loss_on_its_batch(teacher, tmp_path, capsys):
    """One epoch of one batch (the 32 images, unaugmented): the loss the run records is
    distillation_loss of the untrained student and the teacher on that batch, with the given
    temperature and alpha; the validation loss is the same loss of the trained student."""
    run = distill(teacher, tmp_path, "--epochs", "1", "--augment", "none", "--temperature", "2.5",
                  "--alpha", "0.4")
    config = read_json(run / "config.json")
    assert (config["command"], config["model"], config["dataset"]) == ("distill", "mlp", "mnist5k")
    assert (config["teacher"], config["temperature"], config["alpha"]) == (str(teacher), 2.5, 0.4)
    history = read_json(run / "metrics.json")["history"]

    teacher_model = load_trained_model(str(teacher), read_config(teacher))
    manual_seed(config["seed"])
    student = build_model(config, config["image_shape"], len(config["class_names"]))
    images, labels = next(iter(DataLoader(load_split(config, True), batch_size=32)))
    with no_grad():
        expected = distillation_loss(student(images), teacher_model(images), labels, 2.5, 0.4)
    assert history["train_loss"][0] == pytest.approx(expected.item(), rel=1e-6)

    student.load_state_dict(load(run / "model.npz"))
    test_images, test_labels = next(iter(DataLoader(load_split(config, False), batch_size=32)))
    with no_grad():
        expected = distillation_loss(student.eval()(test_images), teacher_model(test_images),
                                     test_labels, 2.5, 0.4)
    assert history["val_loss"][0] == pytest.approx(expected.item(), rel=1e-6)
    main(["evaluate", str(run)])
    assert "mlp on mnist5k (test split, 32 images)" in capsys.readouterr().out


def test_a_run_continued_with_resume_equals_the_run_trained_straight(teacher, tmp_path):
    straight = distill(teacher, tmp_path, "--epochs", "2", name="straight")
    distill(teacher, tmp_path, "--epochs", "1", name="resumed")
    resumed = distill(teacher, tmp_path, "--epochs", "2", "--resume", name="resumed")
    ours, theirs = load(resumed / "model.npz"), load(straight / "model.npz")
    for name in theirs:
        numpy.testing.assert_array_equal(ours[name].numpy(), theirs[name].numpy(), name)
    histories = [read_json(run / "metrics.json")["history"] for run in (resumed, straight)]
    for history in histories:
        del history["seconds"]
    assert histories[0] == histories[1]
    assert [entry["after_epoch"] for entry in read_json(resumed / "config.json")["resumed"]] == [1]


def files(directory):
    return {name: (directory / name).read_bytes() for name in sorted(os.listdir(directory))}


def test_teacher_and_student_with_different_classes_are_refused_before_anything_is_written(
        teacher, tmp_path, capsys):
    error = refused(capsys, "--teacher", str(teacher), *SMALL, "--dataset", "mnist5k-0to4",
                    "--out", str(tmp_path), "--name", "mismatch", command="distill")
    assert f"--teacher {teacher} was trained on ['0', '1', '2', '3', '4', '5', '6', '7', '8', " \
           "'9'] (classes of mnist5k) but --dataset mnist5k-0to4 has ['0', '1', '2', '3', '4']" \
           in error
    assert not os.path.exists(tmp_path / "mismatch")


def test_a_resume_refuses_a_teacher_whose_weights_changed(teacher, tmp_path, capsys):
    copy = tmp_path / "teacher"
    shutil.copytree(teacher, copy)
    run = distill(copy, tmp_path, "--epochs", "1")
    before = files(run)
    weights = load(copy / "model.npz")
    save({name: minicnn.tensor(value.numpy() * 2) for name, value in weights.items()},
         copy / "model.npz")
    error = refused(capsys, "--teacher", str(copy), *SMALL, "--out", str(tmp_path), "--name",
                    "student", "--epochs", "2", "--resume", command="distill")
    assert "its model.npz changed since this run started" in error
    assert files(run) == before


@pytest.mark.parametrize("options, message", [
    (["--temperature", "0"], "--temperature must be a positive number, got 0.0"),
    (["--alpha", "1.5"], r"--alpha must lie in \[0, 1\], got 1.5")])
def test_bad_options_exit_2_before_anything_is_written(teacher, tmp_path, capsys, options,
                                                       message):
    error = refused(capsys, "--teacher", str(teacher), *SMALL, "--out", str(tmp_path), *options,
                    command="distill")
    assert re.search(message, error), error
    assert os.listdir(tmp_path) == []
