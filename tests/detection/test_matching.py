"""Matching: the thresholds of the RPN, RetinaNet and SSD, the best anchor of every box,
no boxes at all, and the errors."""
import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicnn.detection.matching import Matcher, SSDMatcher

# Two boxes (rows) against six anchors (columns).
IOU = numpy.array([[0.80, 0.65, 0.50, 0.20, 0.00, 0.10],
                   [0.10, 0.66, 0.30, 0.35, 0.00, 0.60]])


def test_rpn_thresholds_and_low_quality_matches():
    matches = Matcher(0.7, 0.3, allow_low_quality_matches=True)(IOU)
    # Anchor 0 is positive for box 0 (0.80); anchors 1, 2, 3, 5 lie between 0.3 and 0.7 and
    # anchor 4 below 0.3; anchor 1 holds box 1's best IoU (0.66), so it becomes positive.
    assert matches.tolist() == [0, 1, -2, -2, -1, -2]


def test_retinanet_thresholds():
    matches = Matcher(0.5, 0.4, allow_low_quality_matches=False)(IOU)
    assert matches.tolist() == [0, 1, 0, -1, -1, 1]


def test_low_quality_match_restores_the_anchors_own_argmax():
    iou = numpy.array([[0.30, 0.1], [0.35, 0.2]])
    # Anchor 0 is the best anchor of both boxes; it overlaps box 1 more, so it becomes
    # positive for box 1 (its own argmax, restored as in torchvision) and box 0 has none.
    assert Matcher(0.7, 0.3, True)(iou).tolist() == [1, -1]


def test_box_that_overlaps_no_anchor_adds_nothing():
    iou = numpy.array([[0.0, 0.0, 0.0], [0.9, 0.1, 0.0]])
    assert Matcher(0.7, 0.3, True)(iou).tolist() == [1, -1, -1]


def test_ssd_forces_each_boxs_best_anchor():
    matches = SSDMatcher(0.5)(IOU)
    assert matches.tolist() == [0, 1, 0, -1, -1, 1]
    # A box below the threshold everywhere still gets its best anchor; a later box wins a
    # shared best anchor.
    assert SSDMatcher(0.5)(numpy.array([[0.2, 0.1], [0.3, 0.05]])).tolist() == [1, -1]


@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.integers(1, 30))
def test_every_box_keeps_an_anchor_under_ssd(seed, boxes, anchors):
    iou = numpy.random.default_rng(seed).uniform(0, 1, (boxes, anchors)).round(2)
    matches = SSDMatcher(0.5)(iou)
    best = iou.argmax(axis=1)
    winners = {int(a): b for b, a in enumerate(best)}       # the last box sharing an anchor
    for anchor, box in winners.items():
        assert matches[anchor] == box
    for anchor in set(range(anchors)) - set(winners):
        expected = iou[:, anchor].argmax() if iou[:, anchor].max() >= 0.5 else -1
        assert matches[anchor] == expected


def test_no_boxes_means_all_negative():
    assert Matcher(0.7, 0.3, True)(numpy.zeros((0, 4))).tolist() == [-1] * 4
    assert SSDMatcher()(numpy.zeros((0, 3))).tolist() == [-1] * 3


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="Matcher: low_threshold 0.8 must not exceed high_threshold 0.7"):
        Matcher(0.7, 0.8)
    with pytest.raises(ValueError, match="SSDMatcher: iou holds a NaN"):
        SSDMatcher()(numpy.array([[numpy.nan, 0.2]]))
    with pytest.raises(ValueError, match=r"Matcher: iou must be a \(boxes, anchors\) matrix"):
        Matcher(0.7, 0.3)(numpy.zeros(3))
