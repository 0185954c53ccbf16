"""Masks to instances (minicnn/segmentation/instances.py) and instance matching
(matching.py): components, watershed, the border class, IoU matching against brute force."""
import itertools

import numpy
import pytest

from minicnn.data.datasets import make_cells
from minicnn.segmentation import (border_class_targets, connected_components, instance_scores,
                                  instances_from_border_class, match_instances, overlap_matrix,
                                  watershed_instances)

pytest.importorskip("scipy")


def two_overlapping_discs(size=40, radius=8, apart=13):
    """A mask of two discs whose centres are `apart` pixels apart (they merge), and their
    instance labels (the overlap split down the middle)."""
    y, x = numpy.mgrid[0:size, 0:size]
    centres = [(size // 2, size // 2 - apart // 2), (size // 2, size // 2 + apart - apart // 2)]
    distances = [numpy.hypot(y - cy, x - cx) for cy, cx in centres]
    inside = [d <= radius for d in distances]
    labels = numpy.where(inside[0] | inside[1], 1 + (distances[1] < distances[0]), 0)
    return inside[0] | inside[1], labels


def test_connected_components_count_pieces():
    mask = numpy.zeros((6, 8), int)
    mask[1:3, 1:3] = 1
    mask[4, 4:7] = 1
    mask[3, 3] = 1                     # touches the first piece only diagonally: its own piece
    labels = connected_components(mask)
    assert labels.max() == 3 and labels.dtype == numpy.int32
    assert len(numpy.unique(labels[1:3, 1:3])) == 1


def test_watershed_splits_what_components_merge():
    pytest.importorskip("skimage")
    mask, truth = two_overlapping_discs()
    assert connected_components(mask).max() == 1
    split = watershed_instances(mask)
    assert split.max() == 2
    assert instance_scores([split], [truth])["f1"] == 1.0
    merged = instance_scores([connected_components(mask)], [truth])
    assert merged["fn"] >= 1 and merged["f1"] < 1.0


def test_border_class_round_trip_on_cells():
    """Perfect three-class maps give back nearly every nucleus; the exceptions are a nucleus
    too thin to have an interior, and one whose interior its own border pinches in two."""
    _, _, instances = make_cells(6, seed=2)
    recovered = []
    for labels in instances:
        targets = border_class_targets(labels)
        assert set(numpy.unique(targets)) <= {0, 1, 2}
        numpy.testing.assert_array_equal(targets > 0, labels > 0)
        recovered.append(instances_from_border_class(targets))
    scores = instance_scores(recovered, instances)
    assert scores["f1"] > 0.97 and scores["fn"] + scores["fp"] <= 3


def test_border_pixels_go_to_the_nearest_interior():
    classes = numpy.array([[2, 2, 2, 0, 2, 2],
                           [2, 1, 2, 0, 2, 1],
                           [2, 2, 2, 0, 2, 2]])
    labels = instances_from_border_class(classes)
    assert (labels[:, :3] == labels[1, 1]).all() and (labels[:, 4:] == labels[1, 5]).all()
    assert labels[1, 1] != labels[1, 5] and (labels[:, 3] == 0).all()
    assert not instances_from_border_class(numpy.full((3, 3), 2)).any()


def brute_force_matches(predicted, true):
    """Pairs with IoU >= 0.5 by enumerating every pair of instances."""
    matches = []
    for t, p in itertools.product(numpy.unique(true[true > 0]), numpy.unique(predicted[predicted > 0])):
        a, b = true == t, predicted == p
        if (a & b).sum() / (a | b).sum() >= 0.5:
            matches.append((t, p))
    return matches


@pytest.mark.parametrize("seed", range(4))
def test_matching_equals_brute_force(seed):
    generator = numpy.random.default_rng(seed)
    true = generator.integers(0, 5, (6, 7))
    # A prediction that keeps some instances, shifts others and invents a few.
    predicted = numpy.where(generator.random((6, 7)) < 0.8, true, generator.integers(0, 7, (6, 7)))
    matches = brute_force_matches(predicted, true)
    tp, fp, fn = match_instances(predicted, true)
    assert tp == len(matches)
    assert fp == len(numpy.unique(predicted[predicted > 0])) - tp
    assert fn == len(numpy.unique(true[true > 0])) - tp


def test_a_tie_at_one_half_matches_once():
    true = numpy.array([[1, 1, 1, 1]])
    halves = numpy.array([[1, 1, 2, 2]])
    assert overlap_matrix(halves, true)[1, 1:].tolist() == [0.5, 0.5]
    assert match_instances(halves, true) == (1, 1, 0)


def test_instance_scores_sum_over_images():
    true = [numpy.array([[1, 0, 2]]), numpy.array([[0, 0, 0]])]
    predicted = [numpy.array([[1, 0, 0]]), numpy.array([[0, 3, 0]])]
    scores = instance_scores(predicted, true)
    assert (scores["tp"], scores["fp"], scores["fn"]) == (1, 1, 1)
    assert scores["precision"] == scores["recall"] == scores["f1"] == 0.5
    nothing = numpy.zeros((2, 2), int)
    assert instance_scores([nothing], [nothing])["f1"] == 1.0


def test_matching_bad_input():
    with pytest.raises(ValueError, match=r"overlap_matrix: predicted \(2, 2\) and true \(2, 3\)"):
        match_instances(numpy.zeros((2, 2), int), numpy.zeros((2, 3), int))
    with pytest.raises(ValueError, match="threshold must be >= 0.5, where matches are unique, "
                                         "got 0.3"):
        match_instances(numpy.zeros((2, 2), int), numpy.zeros((2, 2), int), threshold=0.3)
