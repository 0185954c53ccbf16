"""select_detections: threshold, per-class NMS, top-k, the cap per image, clipping, order."""
import numpy

from minicnn.detection.postprocess import select_detections


def test_threshold_nms_per_class_and_clipping():
    boxes = numpy.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10], [30, 30, 50, 45.0]])
    scores = numpy.array([[0.9, 0.0], [0.8, 0.0], [0.0, 0.7], [0.04, 0.5]])     # 4 anchors, 2 classes
    found = select_detections(boxes, scores, (40, 40), score_threshold=0.05, nms_threshold=0.5)
    # Anchor 1 is suppressed by anchor 0 (same class); anchor 2 is of class 1 and stays;
    # anchor 3's class-0 score is under the threshold; its box is clipped to the image.
    numpy.testing.assert_array_equal(found["labels"], [0, 1, 1])
    numpy.testing.assert_allclose(found["scores"], [0.9, 0.7, 0.5])
    numpy.testing.assert_array_equal(found["boxes"], [[0, 0, 10, 10], [0, 0, 10, 10], [30, 30, 40, 40]])


def test_at_most_detections_per_image_highest_first():
    rng = numpy.random.default_rng(0)
    corners = rng.uniform(0, 1000, (500, 2))
    boxes = numpy.concatenate([corners, corners + 5], axis=1)     # 500 disjoint-ish boxes
    scores = rng.uniform(0.1, 1, (500, 1))
    found = select_detections(boxes, scores, (2000, 2000), detections_per_image=100,
                              topk_candidates=1000)
    assert len(found["scores"]) == 100
    numpy.testing.assert_allclose(found["scores"], numpy.sort(scores[:, 0])[::-1][:100].astype(numpy.float32))


def test_per_class_boxes_and_nothing_found():
    boxes = numpy.array([[[0, 0, 4, 4], [10, 10, 20, 20.0]]])        # one anchor, a box per class
    found = select_detections(boxes, numpy.array([[0.2, 0.6]]), (32, 32))
    numpy.testing.assert_array_equal(found["boxes"], [[10, 10, 20, 20], [0, 0, 4, 4]])
    nothing = select_detections(boxes, numpy.array([[0.01, 0.02]]), (32, 32))
    assert nothing["boxes"].shape == (0, 4) and nothing["labels"].dtype == numpy.int64
