"""Accuracy and confusion matrix (minicnn/training/metrics.py)."""
import numpy
import pytest

from minicnn.training import accuracy, confusion_matrix, format_confusion_matrix
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
