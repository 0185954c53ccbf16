"""COCO JSON: RLE masks equal pycocotools', a written file loads in pycocotools and back here
unchanged, results evaluate the same in both, images and boxes read from a folder, writes are
atomic, and malformed files are named."""
import contextlib
import io
import json
import os

import numpy
import pytest

from minicnn.data.datasets import ScenesDataset
from minicnn.detection.coco import (CocoDetection, coco_results, decode_rle, encode_rle,
                                    load_coco, save_coco)
from minicnn.detection.evaluate import coco_evaluate
from minicnn.data.datasets.shapes import SHAPES


def scenes(count=4, size=48):
    data = ScenesDataset(count, image_size=size, seed=3)
    return [data[i] for i in range(count)]


def test_rle_round_trip_equals_pycocotools():
    mask_api = pytest.importorskip("pycocotools.mask")
    rng = numpy.random.default_rng(0)
    for mask in [rng.uniform(size=(7, 5)) < 0.4, numpy.ones((3, 4), bool), numpy.zeros((2, 2), bool)]:
        rle = encode_rle(mask)
        numpy.testing.assert_array_equal(decode_rle(rle), mask)
        theirs = mask_api.frPyObjects(rle, *mask.shape)
        numpy.testing.assert_array_equal(mask_api.decode(theirs), mask)
        assert mask_api.area(theirs) == mask.sum()


def test_written_file_loads_in_pycocotools_and_back(tmp_path):
    COCO = pytest.importorskip("pycocotools.coco").COCO
    samples = scenes()
    path = tmp_path / "scenes.json"
    save_coco(path, [t for _, t in samples], SHAPES, [(48, 48)] * len(samples))
    with contextlib.redirect_stdout(io.StringIO()):
        theirs = COCO(str(path))
    for i, (_, target) in enumerate(samples):
        annotations = theirs.loadAnns(theirs.getAnnIds(imgIds=[i + 1]))
        assert len(annotations) == len(target["boxes"])
        for annotation, mask in zip(annotations, target["masks"]):
            numpy.testing.assert_array_equal(theirs.annToMask(annotation), mask)
    images, targets, names = load_coco(path, masks=True)
    assert names == list(SHAPES) and len(images) == len(samples)
    for (_, target), loaded in zip(samples, targets):
        numpy.testing.assert_array_equal(loaded["boxes"], target["boxes"])
        numpy.testing.assert_array_equal(loaded["labels"], target["labels"])
        numpy.testing.assert_array_equal(loaded["masks"], target["masks"])


def test_results_evaluate_alike_here_and_in_pycocotools(tmp_path):
    COCO = pytest.importorskip("pycocotools.coco").COCO
    COCOeval = pytest.importorskip("pycocotools.cocoeval").COCOeval
    samples = scenes(6)
    rng = numpy.random.default_rng(1)
    detections = [{"boxes": t["boxes"] + rng.normal(0, 1.5, t["boxes"].shape).astype(numpy.float32),
                   "scores": rng.uniform(0.2, 1, len(t["boxes"])).astype(numpy.float32),
                   "labels": (t["labels"] + (rng.uniform(size=len(t["labels"])) < 0.2)) % 5}
                  for _, t in samples]
    for d in detections:
        d["boxes"][:, 2:] = numpy.maximum(d["boxes"][:, 2:], d["boxes"][:, :2] + 1)
    path = tmp_path / "truth.json"
    save_coco(path, [t for _, t in samples], SHAPES, [(48, 48)] * len(samples))
    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO(str(path))
        evaluation = COCOeval(truth, truth.loadRes(coco_results(detections)), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    _, targets, _ = load_coco(path)
    ours = coco_evaluate(detections, targets, classes=list(range(5)))
    numpy.testing.assert_allclose(ours.stats, evaluation.stats, atol=1e-6)


def test_dataset_from_a_folder(tmp_path):
    from PIL import Image
    samples = scenes(3)
    for i, (image, _) in enumerate(samples):
        Image.fromarray((image.transpose(1, 2, 0) * 255).round().astype(numpy.uint8)).save(tmp_path / f"{i:06d}.png")
    save_coco(tmp_path / "a.json", [t for _, t in samples], SHAPES, [(48, 48)] * 3)
    data = CocoDetection(str(tmp_path), str(tmp_path / "a.json"))
    image, target = data[1]
    assert image.shape == (3, 48, 48) and abs(image - samples[1][0]).max() <= 1 / 255
    numpy.testing.assert_array_equal(target["boxes"], samples[1][1]["boxes"])
    _, resized = CocoDetection(str(tmp_path), str(tmp_path / "a.json"), image_size=96)[1]
    numpy.testing.assert_allclose(resized["boxes"], samples[1][1]["boxes"] * 2)


def test_polygons_are_filled(tmp_path):
    document = {"images": [{"id": 7, "file_name": "x.png", "width": 10, "height": 8}],
                "annotations": [{"id": 1, "image_id": 7, "category_id": 3, "bbox": [2, 1, 4, 4],
                                 "segmentation": [[2, 1, 6, 1, 6, 5, 2, 5]]}],
                "categories": [{"id": 3, "name": "thing"}]}
    path = tmp_path / "polygon.json"
    path.write_text(json.dumps(document))
    _, targets, names = load_coco(path, masks=True)
    assert names == ["thing"] and targets[0]["labels"].tolist() == [0]
    assert 16 <= targets[0]["masks"][0].sum() <= 25          # 4 x 4, give or take the edge


def test_failed_save_leaves_the_old_file(tmp_path):
    path = tmp_path / "a.json"
    save_coco(path, [{"boxes": numpy.array([[0, 0, 2, 2.0]]), "labels": numpy.array([1])}], SHAPES, [(4, 4)])
    before = path.read_bytes()
    with pytest.raises(ValueError, match="save_coco: image 0 box 0 has label 9, outside 0..4"):
        save_coco(path, [{"boxes": numpy.array([[0, 0, 2, 2.0]]), "labels": numpy.array([9])}], SHAPES, [(4, 4)])
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["a.json"]


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("categories"), "has no list 'categories'"),
    (lambda d: d["annotations"][0].update(image_id=99), r"annotation 0 \(id 1\) refers to image 99"),
    (lambda d: d["annotations"][0].update(category_id=42), "has category 42, which is not in 'categories'"),
    (lambda d: d["annotations"][0].update(bbox=[0, 0, -1, 2]), r"has bbox \[0, 0, -1, 2\]"),
])
def test_malformed_files_are_named(tmp_path, change, message):
    path = tmp_path / "a.json"
    save_coco(path, [{"boxes": numpy.array([[0, 0, 2, 2.0]]), "labels": numpy.array([1])}], SHAPES, [(4, 4)])
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=message):
        load_coco(path)


def test_mask_ap_equals_pycocotools_segm(tmp_path):
    COCO = pytest.importorskip("pycocotools.coco").COCO
    COCOeval = pytest.importorskip("pycocotools.cocoeval").COCOeval
    mask_api = pytest.importorskip("pycocotools.mask")
    samples = scenes(8)
    rng = numpy.random.default_rng(2)
    targets = [dict(t, iscrowd=rng.uniform(size=len(t["labels"])) < 0.15) for _, t in samples]
    detections = []
    for t in targets:
        # Each true mask shifted by up to 2 pixels, a few of them labelled wrongly, plus a
        # random blob: IoUs spread over the thresholds.
        shifted = [numpy.roll(m, tuple(rng.integers(-2, 3, 2)), axis=(0, 1)) for m in t["masks"]]
        # Half of each crowd region: IoU about 0.5, but intersection / own area 1.
        halves = [m * (numpy.arange(48) < numpy.flatnonzero(m.any(0)).mean())[None, :]
                  for m, crowd in zip(t["masks"], t["iscrowd"]) if crowd]
        shifted = numpy.stack(shifted + halves + [numpy.pad(numpy.ones((6, 6), numpy.uint8), ((5, 37), (30, 12)))])
        labels = numpy.concatenate([(t["labels"] + (rng.uniform(size=len(t["labels"])) < 0.15)) % 5,
                                    t["labels"][t["iscrowd"]], [2]])
        detections.append({"boxes": numpy.tile([[0, 0, 48, 48.0]], (len(shifted), 1)), "masks": shifted,
                           "scores": rng.uniform(0.1, 1, len(shifted)).round(2), "labels": labels})
    path = tmp_path / "truth.json"
    save_coco(path, targets, SHAPES, [(48, 48)] * len(targets))
    results = [{"image_id": i + 1, "category_id": int(l) + 1, "score": float(s),
                "segmentation": mask_api.encode(numpy.asfortranarray(m))}
               for i, d in enumerate(detections) for m, s, l in zip(d["masks"], d["scores"], d["labels"])]
    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO(str(path))
        evaluation = COCOeval(truth, truth.loadRes(results), "segm")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    ours = coco_evaluate(detections, targets, classes=list(range(5)), iou_type="segm")
    numpy.testing.assert_allclose(ours.stats, evaluation.stats, atol=1e-6)
    assert (ours.stats > 0).sum() >= 5
