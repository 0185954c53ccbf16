"""Both detectors on small scenes: losses finite and differentiable, an image without objects
(all anchors background), detections in image coordinates, decoding a known output, and the
errors for bad targets."""
import numpy
import pytest

import minicnn
from minicnn.data import detection_collate
from minicnn.data.datasets import ScenesDataset
from minicnn.detection.faster_rcnn import FasterRCNNLite
from minicnn.detection.mask_head import paste_masks
from minicnn.detection.ssd import SSDLite

MODELS = {"ssd": lambda: SSDLite(5), "ssd_focal": lambda: SSDLite(5, loss="focal"),
          "faster_rcnn": lambda: FasterRCNNLite(5)}


def batch(count=3, size=32):
    images, boxes, labels = detection_collate([ScenesDataset(count, image_size=size)[i]
                                               for i in range(count)], ("boxes", "labels"))
    boxes[1], labels[1] = minicnn.zeros(0, 4), minicnn.tensor(numpy.zeros(0, numpy.int64))   # no objects
    return images, boxes, labels


@pytest.mark.parametrize("name", sorted(MODELS))
def test_losses_gradients_and_detections(name):
    minicnn.manual_seed(0)
    model = MODELS[name]()
    images, boxes, labels = batch()
    losses, detections = model.compute_loss(images, boxes, labels)
    total = sum(losses.values(), start=0 * next(iter(losses.values())))
    assert numpy.isfinite(total.item()) and total.item() > 0
    total.backward()
    assert all(p.grad is not None and numpy.isfinite(p.grad.numpy()).all() for p in model.parameters()
               if p.requires_grad and p.grad is not None)
    assert sum(p.grad is not None for p in model.parameters()) > len(list(model.parameters())) // 2
    model.eval()
    for found in (detections, model(images)):
        assert len(found) == 3
        for image in found:
            assert image["boxes"].shape[1] == 4 and len(image["boxes"]) <= 100
            assert (image["boxes"] >= 0).all() and (image["boxes"] <= 32).all()
            assert (numpy.diff(image["scores"]) <= 0).all()
            assert set(image["labels"].tolist()) <= set(range(5))


def test_ssd_decodes_its_default_boxes_in_image_coordinates(monkeypatch):
    model = SSDLite(5).eval()
    images = minicnn.zeros(1, 3, 64, 64)
    logits, codes, anchors = model.heads(images)
    # Zero codes and one confident default box of class 3: the detection is that box.
    chosen = 123
    fake_logits = numpy.full(logits.shape, -10.0, numpy.float32)
    fake_logits[0, :, 0] = 10.0
    fake_logits[0, chosen, 4] = 20.0
    monkeypatch.setattr(SSDLite, "heads", lambda self, images: (
        minicnn.tensor(fake_logits), minicnn.zeros(*codes.shape), anchors))
    found = model(images)[0]
    assert found["labels"].tolist() == [3]
    expected = numpy.clip(anchors[chosen], 0, 64)
    numpy.testing.assert_allclose(found["boxes"][0], expected, atol=1e-4)


@pytest.mark.parametrize("name", ["ssd", "faster_rcnn"])
def test_bad_targets_are_named(name):
    model = MODELS[name]()
    images, boxes, labels = batch(2)
    owner = type(model).__name__
    with pytest.raises(ValueError, match=fr"{owner}: labels\[0\] must be class indices in 0..4"):
        model.compute_loss(images, boxes, [labels[0] + 5, labels[1]])
    with pytest.raises(ValueError, match=fr"{owner}: image 0 has \d+ boxes but 1 labels"):
        model.compute_loss(images, boxes, [labels[0][:1], labels[1]])
    with pytest.raises(ValueError, match=fr"{owner}: boxes\[0\] holds a NaN"):
        model.compute_loss(images, [numpy.array([[0, 0, numpy.nan, 3.0]]), boxes[1]],
                           [numpy.array([0]), labels[1]])
    with pytest.raises(ValueError, match=fr"{owner}: boxes\[0\] must be \(x0, y0, x1, y1\)"):
        model.compute_loss(images, [numpy.array([[5, 0, 2, 3.0]]), boxes[1]], [numpy.array([0]), labels[1]])
    with pytest.raises(ValueError, match=fr"{owner}: boxes\[0\] box 0 has no area"):
        model.compute_loss(images, [numpy.array([[2, 0, 2, 3.0]]), boxes[1]], [numpy.array([0]), labels[1]])
    with pytest.raises(ValueError, match=fr"{owner}: boxes and labels need one entry per image of the batch of 2, got 1 and 2"):
        model.compute_loss(images, boxes[:1], labels)


def test_mask_rcnn_learns_masks_and_returns_them():
    minicnn.manual_seed(0)
    model = FasterRCNNLite(5, masks=True)
    samples = [ScenesDataset(2, image_size=32)[i] for i in range(2)]
    images, boxes, labels, masks = detection_collate(samples)
    losses, detections = model.compute_loss(images, boxes, labels, masks)
    assert set(losses) == {"objectness", "rpn_box_regression", "classification", "box_regression", "mask"}
    losses["mask"].backward()
    assert model.mask_head.logits.weight.grad is not None
    assert all(d["masks"].shape == (len(d["boxes"]), 32, 32) for d in detections)
    with pytest.raises(ValueError, match=r"FasterRCNNLite: masks\[0\] must have shape"):
        model.compute_loss(images, boxes, labels, [masks[0][:, :16], masks[1]])
    with pytest.raises(ValueError, match="FasterRCNNLite: a model with a mask head needs"):
        model.compute_loss(images, boxes, labels)


def test_paste_masks_stretches_the_map_over_its_box():
    grid = numpy.zeros((1, 4, 4))
    grid[0, :, 2:] = 1                                   # right half of the box
    pasted = paste_masks(grid, numpy.array([[2, 1, 10, 5.0]]), (8, 12))[0]
    assert pasted[:1].sum() == 0 and pasted[5:].sum() == 0 and pasted[:, :2].sum() == 0
    assert pasted[:, 10:].sum() == 0                     # outside the box: 0
    numpy.testing.assert_allclose(pasted[1:5, 2:10] >= 0.5, numpy.tile([0, 0, 0, 0, 1, 1, 1, 1], (4, 1)))
