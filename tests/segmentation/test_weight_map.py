"""The U-Net paper's weight map (minicnn/segmentation/weight_map.py), against brute force."""
import numpy
import pytest

from minicnn.data.datasets import CellsDataset, ShapesDataset
from minicnn.segmentation import (balanced_class_weights, nearest_two_distances,
                                  unet_weight_map, weighted_training_set)

pytest.importorskip("scipy")


def three_nuclei():
    """Two squares two pixels apart (touching nuclei after the annotation's gap) and a third
    far away, in a 12 x 16 image."""
    labels = numpy.zeros((12, 16), numpy.int32)
    labels[2:6, 2:6] = 1
    labels[2:6, 8:11] = 2
    labels[8:11, 12:15] = 4          # numbers may skip
    return labels


def brute_force_distances(labels):
    """Sorted distances from every pixel to each instance's nearest pixel, by enumeration."""
    rows, cols = numpy.indices(labels.shape)
    per_instance = []
    for label in numpy.unique(labels[labels > 0]):
        r, c = numpy.nonzero(labels == label)
        gaps = numpy.hypot(rows[..., None] - r, cols[..., None] - c)
        per_instance.append(gaps.min(axis=-1))
    return numpy.sort(numpy.stack(per_instance), axis=0)


def test_distances_to_the_nearest_two_instances():
    labels = three_nuclei()
    d1, d2 = nearest_two_distances(labels)
    expected = brute_force_distances(labels)
    numpy.testing.assert_allclose(d1, expected[0])
    numpy.testing.assert_allclose(d2, expected[1])
    one = numpy.where(labels == 1, 1, 0)
    assert numpy.isinf(nearest_two_distances(one)[1]).all()


def test_weight_map_is_the_papers_formula():
    labels = three_nuclei()
    weights = unet_weight_map(labels, w0=10, sigma=5)
    d = brute_force_distances(labels)
    foreground = labels > 0
    w_c = labels.size / (2 * numpy.bincount(foreground.ravel()))       # balanced classes
    expected = w_c[foreground.astype(int)] + numpy.where(
        foreground, 0, 10 * numpy.exp(-(d[0] + d[1]) ** 2 / (2 * 5 ** 2)))
    numpy.testing.assert_allclose(weights, expected, rtol=1e-6)
    assert weights.dtype == numpy.float32
    # Between nuclei 1 and 2, d1 + d2 = 1 + 2: w0 exp(-9 / 50) = 8.35; a far corner gets little.
    gap, far = weights[3, 7], weights[11, 0]
    assert gap > w_c[0] + 8.3 and far < gap / 3


def test_a_batch_shares_one_class_balance():
    labels = numpy.stack([three_nuclei(), numpy.zeros((12, 16), numpy.int32)])
    weights = unet_weight_map(labels, class_weights=(1.0, 2.0))
    numpy.testing.assert_allclose(weights[1], 1.0)          # no nuclei: w_c only
    numpy.testing.assert_allclose(weights[0], unet_weight_map(labels[0], class_weights=(1, 2)))
    together = unet_weight_map(labels)
    assert together[1, 0, 0] == pytest.approx(labels.size / (2 * (labels == 0).sum()))


def test_balanced_weights_are_sklearns():
    compute_class_weight = pytest.importorskip("sklearn.utils").compute_class_weight
    masks = numpy.random.default_rng(0).integers(0, 3, (4, 5, 5))
    masks[masks == 2] = 1
    numpy.testing.assert_allclose(balanced_class_weights(masks, 2),
                                  compute_class_weight("balanced", classes=numpy.arange(2),
                                                       y=masks.ravel()))
    assert balanced_class_weights(numpy.zeros(4, int), 2).tolist() == [0.5, 0.0]   # 4 / (2 * 4)


def test_weighted_training_set_adds_the_map_as_a_third_field():
    cells = CellsDataset(4, image_size=32, seed=0)
    weighted = weighted_training_set(cells)
    image, mask, weights = weighted[1]
    numpy.testing.assert_array_equal(mask.numpy(), cells.arrays[1][1])
    numpy.testing.assert_allclose(weights.numpy(), unet_weight_map(cells.instances)[1])
    assert weighted.classes == cells.classes and weighted.task == "segment"
    with pytest.raises(ValueError, match="weighted_training_set: the weight map needs instance "
                                         "labels, and ShapesDataset has none"):
        weighted_training_set(ShapesDataset(2, task="segment"))


def test_bad_input_is_explained():
    with pytest.raises(ValueError, match=r"unet_weight_map: instances must be integer labels "
                                         r"\(H, W\) or \(N, H, W\), got dtype float64"):
        unet_weight_map(numpy.zeros((4, 4)))
    with pytest.raises(ValueError, match="sigma must be > 0 and w0 >= 0, got sigma=0"):
        unet_weight_map(numpy.zeros((4, 4), int), sigma=0)
    with pytest.raises(ValueError, match="masks hold class 2, but num_classes is 2"):
        balanced_class_weights(numpy.array([0, 1, 2]), 2)
