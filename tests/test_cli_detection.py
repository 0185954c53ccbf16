"""minicnn train --task detect and the detection runs' evaluate and predict (minicnn/cli.py):
a tiny run, resumed; the options that do not go together; the default runs' targets (slow)."""
import json
import os

import numpy
import pytest

from minicnn.cli import main
from minicnn.data.datasets import ScenesDataset


def train(out, *options):
    main(["train", "--task", "detect", "--dataset", "scenes", "--out", str(out), "--quiet", *options])


def test_a_detection_run_resumes_evaluates_and_predicts(tmp_path, capsys):
    train(tmp_path, "--model", "ssd_lite", "--limit", "8", "--epochs", "1", "--batch-size", "8")
    run = tmp_path / "ssd_lite-scenes"
    train(tmp_path, "--model", "ssd_lite", "--limit", "8", "--epochs", "2", "--batch-size", "8",
          "--resume")
    for name in ("config.json", "model.npz", "checkpoint.npz", "metrics.json", "curves.png",
                 "detections.png"):
        assert (run / name).exists(), name
    config = json.loads((run / "config.json").read_text())
    assert (config["task"], config["image_shape"], config["class_names"][0]) == ("detect", [3, 64, 64], "circle")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["history"]["epoch"] == [1, 2] and "val_map50" in metrics["history"]
    assert set(metrics["final"]["coco"]) >= {"AP", "AP50", "AR100"}
    printed = capsys.readouterr().out
    assert printed.count("test mAP@.5") == 2

    main(["evaluate", str(run)])
    printed = capsys.readouterr().out
    assert "(test split, 8 images" in printed and "AP50" in printed and "VOC mAP@.5" in printed

    from PIL import Image
    image, _ = ScenesDataset(2, image_size=96, seed=9)[1]
    picture = tmp_path / "scene.png"
    Image.fromarray((image.transpose(1, 2, 0) * 255).astype(numpy.uint8)).save(picture)
    main(["predict", str(run), str(picture), "--min-score", "0.0"])
    assert "objects with a score of at least 0.0" in capsys.readouterr().out
    assert Image.open(tmp_path / "scene-detections.png").size[0] > 0


def test_a_mask_rcnn_run_trains_on_masks_and_evaluates_them(tmp_path, capsys):
    train(tmp_path, "--model", "mask_rcnn_lite", "--limit", "4", "--epochs", "1", "--batch-size", "4")
    main(["evaluate", str(tmp_path / "mask_rcnn_lite-scenes")])
    printed = capsys.readouterr().out
    assert "AP and AR of the boxes" in printed and "AP and AR of the masks" in printed


@pytest.mark.parametrize("options, message", [
    (["--task", "detect", "--dataset", "scenes"], "--task detect needs a detection model"),
    (["--task", "detect", "--model", "ssd_lite"], "--task detect needs a detection dataset"),
    (["--dataset", "scenes"], "--dataset scenes is for detection: add --task detect"),
    (["--model", "faster_rcnn_lite"], "--model faster_rcnn_lite is for detection: add --task detect"),
    (["--task", "detect", "--model", "ssd_lite", "--dataset", "scenes", "--mixup", "0.2"],
     "--mixup and --cutmix mix whole images"),
    (["--task", "detect", "--model", "ssd_lite", "--dataset", "scenes", "--augment", "corruptions"],
     "--augment corruptions is a classification policy"),
    (["--task", "detect", "--model", "ssd_lite", "--dataset", "scenes", "--adversarial", "pgd"],
     "--adversarial and --eps attack a classifier's label"),
])
def test_options_that_do_not_go_together_exit_2(tmp_path, capsys, options, message):
    with pytest.raises(SystemExit) as exit:
        main(["train", "--out", str(tmp_path), *options])
    assert exit.value.code == 2 and message in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
@pytest.mark.parametrize("model", ["ssd_lite", "faster_rcnn_lite", "mask_rcnn_lite"])
def test_the_default_runs_reach_map50_of_085_on_held_out_scenes(tmp_path, model):
    train(tmp_path, "--model", model)
    final = json.loads((tmp_path / f"{model}-scenes" / "metrics.json").read_text())["final"]
    assert final["val_map50"] >= 0.85, final
