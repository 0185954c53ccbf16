"""DetectionTask in the one training loop: losses, COCO mAP as the metric, the final numbers
and pictures, and an interrupted run resumed to the same weights."""
import json

import numpy
import pytest

import minicnn
from minicnn import optim
from minicnn.data import DataLoader, detection_collate, transforms
from minicnn.data.datasets import ScenesDataset
from minicnn.data.datasets.shapes import SHAPES
from minicnn.detection import FasterRCNNLite, SSDLite, coco_evaluate
from minicnn.detection.task import DetectionTask
from minicnn.training import Trainer


def collate(samples):
    return detection_collate(samples, ("boxes", "labels"))


def trainer(out_dir, model_class=SSDLite):
    minicnn.manual_seed(0)
    model = model_class(5)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    train = ScenesDataset(16, image_size=32, seed=0, transform=transforms.RandomHorizontalFlip())
    test = ScenesDataset(4, image_size=32, seed=1)
    return Trainer(model, optimizer, DataLoader(train, batch_size=8, shuffle=True, collate_fn=collate),
                   DataLoader(test, batch_size=8, collate_fn=collate),
                   optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=2), out_dir=str(out_dir),
                   quiet=True, class_names=SHAPES, task=DetectionTask(SHAPES))


def test_loss_is_the_sum_of_the_terms_and_the_tally_is_coco():
    minicnn.manual_seed(0)
    model, task = SSDLite(5), DetectionTask(SHAPES)
    batch = collate([ScenesDataset(4, image_size=32)[i] for i in range(4)])
    loss, detections = task.loss(model, batch)
    minicnn.manual_seed(0)
    terms, _ = SSDLite(5).compute_loss(*batch)
    assert loss.item() == pytest.approx(sum(t.item() for t in terms.values()), rel=1e-6)
    tally = task.tally()
    tally.add(detections, batch)
    truths = [{"boxes": b.numpy(), "labels": l.numpy()} for b, l in zip(batch[1], batch[2])]
    stats = coco_evaluate(detections, truths, classes=list(range(5))).stats
    summary = tally.summary()
    assert (summary["map50"], summary["map"]) == (max(0.0, stats[1]), max(0.0, stats[0]))


def test_a_batch_with_masks_trains_the_mask_head():
    minicnn.manual_seed(0)
    model, task = FasterRCNNLite(5, masks=True), DetectionTask(SHAPES)
    batch = detection_collate([ScenesDataset(2, image_size=32)[i] for i in range(2)])
    loss, detections = task.loss(model, batch)
    loss.backward()
    assert model.mask_head.logits.weight.grad is not None
    assert all("masks" in found for found in detections)


def test_trainer_writes_detection_metrics_and_pictures(tmp_path):
    history = trainer(tmp_path).fit(1)
    assert {"train_map50", "train_map", "val_map50", "val_map"} <= set(history)
    final = json.loads((tmp_path / "metrics.json").read_text())["final"]
    assert set(final["coco"]) >= {"AP", "AP50", "AR100"} and set(final["ap50_per_class"]) == set(SHAPES)
    assert final["val_map50"] == history["val_map50"][-1]
    assert (tmp_path / "detections.png").stat().st_size > 0


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path):
    straight = trainer(tmp_path / "straight")
    straight.fit(2)
    interrupted = trainer(tmp_path / "resumed")
    interrupted.fit(1)
    resumed = trainer(tmp_path / "resumed")
    resumed.fit(2, resume=True)
    for (name, a), (_, b) in zip(straight.model.state_dict().items(), resumed.model.state_dict().items()):
        numpy.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
