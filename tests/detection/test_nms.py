"""NMS: the strict threshold and stable ties, equality with a brute-force greedy loop over
the full IoU matrix, per-class independence, and the errors."""
import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn.detection.boxes import box_iou
from minicnn.detection.nms import _greedy, batched_nms, nms


def brute_force_nms(boxes, scores, threshold):
    """The definition: visit boxes by descending score (input order on ties); keep a box
    unless its IoU with an already kept box is strictly greater than the threshold."""
    iou = box_iou(boxes, boxes)
    kept = []
    for i in sorted(range(len(boxes)), key=lambda i: (-scores[i], i)):
        if all(not iou[i, k] > threshold for k in kept):
            kept.append(i)
    return kept


@st.composite
def detections(draw, count=30):
    n = draw(st.integers(0, count))
    rng = numpy.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    corners = rng.integers(0, 20, (n, 2)).astype(numpy.float64)
    boxes = numpy.concatenate([corners, corners + rng.integers(1, 10, (n, 2))], axis=1)
    scores = rng.integers(0, 5, n) / 4           # few distinct values: many ties
    return boxes, scores, rng.integers(0, 3, n)


def test_equal_iou_is_not_suppressed():
    boxes = numpy.array([[0, 0, 3, 1], [1, 0, 4, 1.]])     # IoU exactly 2 / 4
    assert nms(boxes, numpy.array([0.9, 0.8]), 0.5).tolist() == [0, 1]
    assert nms(boxes, numpy.array([0.9, 0.8]), 0.49).tolist() == [0]


def test_ties_keep_input_order():
    boxes = numpy.array([[0, 0, 2, 2], [10, 10, 12, 12], [0, 0, 2, 2.1], [20, 20, 21, 21]])
    assert nms(boxes, numpy.array([0.5, 0.5, 0.5, 0.7]), 0.5).tolist() == [3, 0, 1]


@given(detections(), st.sampled_from([0.0, 0.3, 0.5, 0.7, 1.0]))
def test_nms_equals_the_greedy_definition(detection, threshold):
    boxes, scores, _ = detection
    assert nms(boxes, scores, threshold).tolist() == brute_force_nms(boxes, scores, threshold)


@given(detections(), st.sampled_from([0.0, 0.5]), st.integers(1, 5))
def test_blocks_of_any_size_give_the_same_answer(detection, threshold, block):
    boxes, scores, _ = detection
    assert _greedy(boxes, scores, threshold, block).tolist() == brute_force_nms(boxes, scores, threshold)


@given(detections(), st.sampled_from([0.3, 0.5]))
def test_batched_nms_is_nms_within_each_class(detection, threshold):
    boxes, scores, classes = detection
    expected = []
    for c in numpy.unique(classes):
        members = numpy.flatnonzero(classes == c)
        expected += members[brute_force_nms(boxes[members], scores[members], threshold)].tolist()
    expected.sort(key=lambda i: (-scores[i], i))
    assert batched_nms(boxes, scores, classes, threshold).tolist() == expected


def test_classes_do_not_suppress_each_other():
    boxes = numpy.array([[0, 0, 2, 2], [0, 0, 2, 2.]])
    scores = numpy.array([0.9, 0.8])
    assert batched_nms(boxes, scores, numpy.array([0, 1]), 0.5).tolist() == [0, 1]
    assert batched_nms(boxes, scores, numpy.array([1, 1]), 0.5).tolist() == [0]


def test_tensors_and_empty_input():
    boxes = minicnn.tensor([[0., 0, 2, 2], [0, 0, 2, 2]])
    assert nms(boxes, minicnn.tensor([0.1, 0.2]), 0.5).tolist() == [1]
    empty = nms(numpy.zeros((0, 4)), numpy.zeros(0), 0.5)
    assert empty.dtype == numpy.int64 and empty.size == 0
    assert batched_nms(numpy.zeros((0, 4)), numpy.zeros(0), numpy.zeros(0, int), 0.5).size == 0


def test_bad_input_is_named():
    boxes = numpy.array([[0, 0, 2, 2], [0, 0, 2, 2.]])
    with pytest.raises(ValueError, match=r"nms: scores must have one entry per box, got scores of shape \(3,\) for 2 boxes"):
        nms(boxes, numpy.ones(3), 0.5)
    with pytest.raises(ValueError, match=r"nms: scores holds a NaN \(score 1\)"):
        nms(boxes, numpy.array([1, numpy.nan]), 0.5)
    with pytest.raises(ValueError, match="nms: boxes holds a NaN"):
        nms(numpy.array([[0, 0, numpy.nan, 2.]]), numpy.ones(1), 0.5)
    with pytest.raises(ValueError, match="batched_nms: idxs must have one category per box"):
        batched_nms(boxes, numpy.ones(2), numpy.ones(3), 0.5)
