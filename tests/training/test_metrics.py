"""Accuracy, confusion matrix, and the segmentation scores (minicnn/training/metrics.py)."""
import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicnn.training import (accuracy, confusion_matrix, dice_score, format_confusion_matrix,
                              iou_score, pixel_accuracy, scores_from_confusion)
from minicnn.training.metrics import class_indices


def test_accuracy():
    assert accuracy([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75
    with pytest.raises(ValueError, match="predictions \\(2,\\) and targets \\(3,\\)"):
        accuracy([1, 2], [1, 2, 3])


def test_class_indices_of_soft_labels_are_their_most_probable_class():
    soft = numpy.array([[0.7, 0.3, 0.0], [0.1, 0.2, 0.7]], numpy.float32)
    numpy.testing.assert_array_equal(class_indices(soft), [0, 2])
    numpy.testing.assert_array_equal(class_indices(numpy.array([2, 1])), [2, 1])


def test_confusion_matrix_rows_are_true_classes():
    matrix = confusion_matrix(predictions=[0, 2, 2, 1, 0], targets=[0, 2, 1, 1, 2], num_classes=3)
    numpy.testing.assert_array_equal(matrix, [[1, 0, 0], [0, 1, 1], [1, 0, 1]])
    assert matrix.sum() == 5
    with pytest.raises(ValueError, match="targets must lie in \\[0, 3\\), got values 0..3"):
        confusion_matrix([0, 1], [0, 3], 3)


def test_format_confusion_matrix():
    text = format_confusion_matrix(numpy.array([[12, 0], [3, 9]]), ["cat", "dog"])
    lines = text.splitlines()
    assert "predicted" in lines[0] and lines[1].split() == ["cat", "12", "0"]
    assert lines[2].split() == ["dog", "3", "9"]


@given(seed=st.integers(0, 2**16), shape=st.sampled_from([(5,), (2, 4, 3), (1, 6, 6)]),
       present=st.integers(1, 3), extra=st.integers(0, 2),
       average=st.sampled_from([None, "macro", "micro"]), zero_division=st.sampled_from([0.0, 1.0]))
def test_dice_and_iou_equal_sklearns_f1_and_jaccard(seed, shape, present, extra, average,
                                                     zero_division):
    """On flattened masks; `extra` classes appear nowhere, the 0 / 0 case."""
    metrics = pytest.importorskip("sklearn.metrics")
    generator = numpy.random.default_rng(seed)
    predictions = generator.integers(0, present, shape)
    targets = generator.integers(0, present, shape)
    num_classes = present + extra
    options = dict(labels=list(range(num_classes)), average=average, zero_division=zero_division)
    for ours, theirs in ((dice_score, metrics.f1_score), (iou_score, metrics.jaccard_score)):
        expected = theirs(targets.ravel(), predictions.ravel(), **options)
        numpy.testing.assert_allclose(ours(predictions, targets, num_classes, average,
                                           zero_division), expected, atol=1e-12)


def test_pixel_accuracy_and_micro_dice_agree():
    predictions = numpy.array([[0, 1, 1], [2, 2, 0]])
    targets = numpy.array([[0, 1, 2], [2, 2, 2]])
    assert pixel_accuracy(predictions, targets) == pytest.approx(4 / 6)
    assert dice_score(predictions, targets, 3, "micro") == pytest.approx(4 / 6)
    # class 2: TP 2, FP 0, FN 2 -> Dice 4 / 6, IoU 2 / 4
    assert dice_score(predictions, targets, 3)[2] == pytest.approx(4 / 6)
    assert iou_score(predictions, targets, 3)[2] == pytest.approx(0.5)


def test_empty_foreground_scores_are_defined():
    nothing = numpy.zeros((4, 4), dtype=int)
    assert dice_score(nothing, nothing, 2).tolist() == [1.0, 1.0]
    assert iou_score(nothing, nothing, 2, zero_division=0.0).tolist() == [1.0, 0.0]
    assert scores_from_confusion(numpy.zeros((2, 2)), "dice", "macro") == 1.0


def test_segmentation_scores_bad_input():
    with pytest.raises(ValueError, match=r"dice_score: predictions \(2, 3\) and targets "
                                         r"\(3, 2\) must have the same shape"):
        dice_score(numpy.zeros((2, 3), int), numpy.zeros((3, 2), int), 2)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 2\), got values 0..2"):
        iou_score(numpy.zeros(3, int), numpy.array([0, 1, 2]), 2)
    with pytest.raises(ValueError, match="average must be one of .* got 'weighted'"):
        scores_from_confusion(numpy.eye(2), "dice", "weighted")
