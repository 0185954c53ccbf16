"""COCO AP equals pycocotools' COCOeval (all 12 numbers and the precision array) on random
scenes: crowded and empty images, crowd boxes, more than 100 detections, every area range;
VOC AP against hand-computed curves; the errors for mismatched input."""
import contextlib
import io

import numpy
import pytest

from minicnn.detection.evaluate import coco_evaluate, detected, voc_ap, voc_evaluate


def random_scenes(seed, images=8, classes=3, crowded=False, with_crowd=False):
    """Ground truth and detections that partly hit it: jittered copies of true boxes with
    high scores, random boxes with low ones, some images empty of one or the other."""
    rng = numpy.random.default_rng(seed)
    detections, truths = [], []
    for i in range(images):
        count = 0 if i % 5 == 3 else int(rng.integers(1, 30 if crowded else 6))
        side = rng.choice([12, 40, 150], size=(count, 1)) * rng.uniform(0.5, 1.5, (count, 2))
        corner = rng.uniform(0, 300, (count, 2))
        boxes = numpy.concatenate([corner, corner + side], axis=1)
        labels = rng.integers(0, classes, count)
        iscrowd = (rng.uniform(size=count) < 0.15) if with_crowd else numpy.zeros(count, bool)
        truths.append({"boxes": boxes, "labels": labels, "iscrowd": iscrowd})
        hits = boxes[rng.uniform(size=count) < 0.8]
        jitter = hits + rng.normal(0, 0.08, hits.shape) * (hits[:, 2:] - hits[:, :2]).repeat(2, axis=1)
        jitter[:, 2:] = numpy.maximum(jitter[:, 2:], jitter[:, :2] + 1)
        extra = int(rng.integers(0, 120 if crowded else 8)) if i % 7 != 5 else 0
        corner = rng.uniform(0, 300, (extra, 2))
        noise = numpy.concatenate([corner, corner + rng.uniform(5, 100, (extra, 2))], axis=1)
        dt_boxes = numpy.concatenate([jitter, noise])
        scores = numpy.concatenate([rng.uniform(0.4, 1, len(jitter)), rng.uniform(0, 0.7, extra)])
        dt_labels = numpy.concatenate([labels[rng.uniform(size=count) < 0.8][:len(jitter)]
                                       if len(jitter) else numpy.zeros(0, int),
                                       rng.integers(0, classes, extra)])
        dt_labels = numpy.resize(dt_labels, len(dt_boxes))
        detections.append({"boxes": dt_boxes, "scores": scores.round(2), "labels": dt_labels})
    return detections, truths, classes


def pycocotools_stats(detections, truths, classes):
    COCO = pytest.importorskip("pycocotools.coco").COCO
    COCOeval = pytest.importorskip("pycocotools.cocoeval").COCOeval
    xywh = lambda b: [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])]
    annotations = [{"image_id": i + 1, "category_id": int(l) + 1, "bbox": xywh(b),
                    "area": float((b[2] - b[0]) * (b[3] - b[1])), "iscrowd": int(c)}
                   for i, t in enumerate(truths) for b, l, c in zip(t["boxes"], t["labels"], t["iscrowd"])]
    for number, annotation in enumerate(annotations):
        annotation["id"] = number + 1           # COCOeval takes id 0 for 'unmatched'
    truth = COCO()
    truth.dataset = {"images": [{"id": i + 1} for i in range(len(truths))], "annotations": annotations,
                     "categories": [{"id": c + 1} for c in range(classes)]}
    with contextlib.redirect_stdout(io.StringIO()):
        truth.createIndex()
        results = truth.loadRes([{"image_id": i + 1, "category_id": int(l) + 1, "bbox": xywh(b),
                                  "score": float(s)} for i, d in enumerate(detections)
                                 for b, s, l in zip(d["boxes"], d["scores"], d["labels"])])
        evaluation = COCOeval(truth, results, "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation


@pytest.mark.parametrize("seed, crowded, with_crowd", [(0, False, False), (1, False, True),
                                                       (2, True, False), (3, True, True),
                                                       (4, False, False)])
def test_coco_equals_pycocotools(seed, crowded, with_crowd):
    detections, truths, classes = random_scenes(seed, crowded=crowded, with_crowd=with_crowd)
    ours = coco_evaluate(detections, truths, classes=list(range(classes)))
    theirs = pycocotools_stats(detections, truths, classes)
    numpy.testing.assert_allclose(ours.stats, theirs.stats, atol=1e-6)
    numpy.testing.assert_allclose(ours.precision, theirs.eval["precision"], atol=1e-12)
    numpy.testing.assert_allclose(ours.recall, theirs.eval["recall"], atol=1e-12)
    assert (ours.stats > 0).sum() >= 6          # the case is not trivially all -1 or 0


def test_perfect_and_missing_detections():
    truths = [{"boxes": numpy.array([[0, 0, 10, 10], [20, 20, 60, 70.0]]), "labels": numpy.array([0, 1])}]
    perfect = [{"boxes": truths[0]["boxes"], "scores": numpy.array([0.9, 0.8]), "labels": numpy.array([0, 1])}]
    stats = coco_evaluate(perfect, truths).stats
    numpy.testing.assert_allclose(stats[[0, 1, 2, 3, 4, 8]], 1)
    assert stats[5] == -1 and stats[11] == -1          # no large boxes
    nothing = [{"boxes": numpy.zeros((0, 4)), "scores": numpy.zeros(0), "labels": numpy.zeros(0, int)}]
    numpy.testing.assert_allclose(coco_evaluate(nothing, truths).stats[[0, 1, 8]], 0)


def test_voc_ap_known_curves():
    # Three detections: hit, miss, hit of two boxes -> recall 0.5, 0.5, 1; precision 1, 0.5, 2/3.
    recall, precision = [0.5, 0.5, 1.0], [1.0, 0.5, 2 / 3]
    assert voc_ap(recall, precision) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    # 11-point: recall >= 0..0.5 (6 points) best precision 1, >= 0.6..1 (5 points) 2/3.
    assert voc_ap(recall, precision, use_07_metric=True) == pytest.approx((6 * 1 + 5 * 2 / 3) / 11)


def test_voc_evaluate_counts_duplicates_and_difficult():
    truths = [{"boxes": numpy.array([[0, 0, 10, 10], [50, 50, 60, 60], [80, 80, 90, 90.0]]),
               "labels": numpy.array([0, 0, 0]), "difficult": numpy.array([False, False, True])}]
    detections = [{"boxes": numpy.array([[0, 0, 10, 10], [0, 0, 10, 10], [30, 30, 40, 40],
                                         [50, 50, 60, 60], [80, 80, 90, 90.0]]),
                   "scores": numpy.array([0.9, 0.8, 0.7, 0.6, 0.95]), "labels": numpy.zeros(5, int)}]
    # Order: difficult (ignored), hit, duplicate (false), miss (false), hit: precision
    # 1, 1/2, 1/3, 2/4 at recall 1/2, 1/2, 1/2, 1 -> all-point AP = 0.5 * 1 + 0.5 * 0.5.
    assert voc_evaluate(detections, truths)["ap"][0] == pytest.approx(0.75)
    # An IoU of exactly 0.5 is not enough for VOC (strictly greater), but is for COCO.
    half = [{"boxes": numpy.array([[0, 0, 10, 20.0]]), "scores": numpy.array([1.0]), "labels": numpy.zeros(1, int)}]
    truth = [{"boxes": numpy.array([[0, 0, 10, 10.0]]), "labels": numpy.zeros(1, int)}]
    assert voc_evaluate(half, truth)["map"] == 0
    assert coco_evaluate(half, truth).stats[1] == pytest.approx(1)


def test_bad_input_is_named():
    truth = [{"boxes": numpy.array([[0, 0, 10, 10.0]]), "labels": numpy.zeros(1, int)}]
    with pytest.raises(ValueError, match="coco_evaluate: detections and ground_truths need one entry per image, got 0 and 1"):
        coco_evaluate([], truth)
    bad = [{"boxes": numpy.array([[0, 0, 10, 10.0]]), "scores": numpy.array([1.0, 0.5]), "labels": numpy.zeros(1, int)}]
    with pytest.raises(ValueError, match="coco_evaluate: detections\\[0\\] has 1 boxes but 2 scores"):
        coco_evaluate(bad, truth)
    reversed_box = [{"boxes": numpy.array([[10, 0, 0, 10.0]]), "labels": numpy.zeros(1, int)}]
    with pytest.raises(ValueError, match=r"voc_evaluate: ground_truths\[0\]\['boxes'\] must be \(x0, y0, x1, y1\)"):
        voc_evaluate(bad[:0] + [{"boxes": numpy.zeros((0, 4)), "scores": numpy.zeros(0), "labels": numpy.zeros(0)}], reversed_box)


def test_iou_ties_go_to_the_later_box_as_in_pycocotools():
    # The first detection overlaps both boxes with IoU 0.5 and takes the later one, B; the
    # second detection is B itself, now taken: a false positive.
    truths = [{"boxes": numpy.array([[0, 0, 10, 10], [10, 0, 20, 10.0]]), "labels": numpy.zeros(2, int),
               "iscrowd": numpy.zeros(2, bool)}]
    detections = [{"boxes": numpy.array([[0, 0, 20, 10], [10, 0, 20, 10.0]]),
                   "scores": numpy.array([0.9, 0.8]), "labels": numpy.zeros(2, int)}]
    ours = coco_evaluate(detections, truths)
    assert ours.recall[0, 0, 0, 2] == 0.5
    numpy.testing.assert_allclose(ours.stats, pycocotools_stats(detections, truths, 1).stats, atol=1e-6)


def test_detected_marks_each_true_box_once():
    truths = [{"boxes": numpy.array([[0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50.0]]),
               "labels": numpy.array([0, 0, 1])}]
    detections = [{"boxes": numpy.array([[0, 0, 10, 11], [0, 0, 10, 10], [40, 40, 50, 50], [20, 20, 24, 24.0]]),
                   "scores": numpy.array([0.9, 0.8, 0.7, 0.95]), "labels": numpy.array([0, 0, 0, 0])}]
    # Box 0 is found (twice over: counted once); box 1 only by a box of IoU 0.16; box 2 by a
    # detection of the wrong class.
    assert detected(detections, truths)[0].tolist() == [True, False, False]
    assert detected(detections, truths, min_score=0.95)[0].tolist() == [False, False, False]
