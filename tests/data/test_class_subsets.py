"""select_classes and sample_per_class (minicnn/data/class_subsets.py)."""
import re

import numpy
import pytest

from minicnn.data import Subset, TensorDataset
from minicnn.data.class_subsets import sample_per_class, select_classes


def labelled(counts):
    """A TensorDataset whose images are their own index, with counts[c] samples of class c."""
    labels = numpy.repeat(numpy.arange(len(counts)), counts)
    numpy.random.default_rng(0).shuffle(labels)
    images = numpy.arange(len(labels), dtype=numpy.float32).reshape(-1, 1, 1, 1)
    data = TensorDataset(images, labels, transform=lambda x: x + 1000)
    data.classes = tuple("abcd"[:len(counts)])
    return data


def test_select_classes_relabels_in_the_order_given_and_keeps_the_transform():
    data = labelled([3, 4, 5, 6])
    subset = select_classes(data, [3, 1])
    assert subset.classes == ("d", "b") and len(subset) == 10
    kept = numpy.flatnonzero(numpy.isin(data.arrays[1], [3, 1]))
    numpy.testing.assert_array_equal(subset.arrays[0], data.arrays[0][kept])
    numpy.testing.assert_array_equal(subset.arrays[1], (data.arrays[1][kept] == 1).astype(int))
    image, label = subset[0]
    assert image.item() == kept[0] + 1000 and label.item() == (data.arrays[1][kept[0]] == 1)


@pytest.mark.parametrize("classes", [[4], [], [1, 1], [-1]])
def test_select_classes_refuses_what_is_not_a_class(classes):
    with pytest.raises(ValueError, match=re.escape("select_classes: classes must be distinct "
                                                   f"class indices in [0, 4), got {classes}")):
        select_classes(labelled([3, 4, 5, 6]), classes)


def test_sample_per_class_draws_k_of_each_class_by_its_seed():
    data = labelled([3, 4, 5, 6])
    subset = sample_per_class(data, 2, seed=7)
    assert isinstance(subset, Subset)
    assert numpy.bincount(data.arrays[1][subset.indices]).tolist() == [2, 2, 2, 2]
    assert (numpy.diff(subset.indices) > 0).all()
    numpy.testing.assert_array_equal(sample_per_class(data, 2, seed=7).indices, subset.indices)
    drawn = {tuple(sample_per_class(data, 2, seed=seed).indices) for seed in range(5)}
    assert len(drawn) > 1, "the seed does not change the samples"


@pytest.mark.parametrize("k", [0, -1, 4, 2.0, True])
def test_sample_per_class_refuses_k_outside_one_to_the_smallest_class(k):
    with pytest.raises(ValueError, match=rf"sample_per_class: k must be an integer from 1 to 3 "
                                         rf"\(the samples of the smallest class, 'a'\), got {k!r}"):
        sample_per_class(labelled([3, 4, 5, 6]), k, seed=0)


def test_a_dataset_without_labels_is_refused():
    with pytest.raises(TypeError, match="sample_per_class: dataset must be a TensorDataset of "
                                        r"\(image, label\), got list"):
        sample_per_class([1, 2], 1, seed=0)
