"""The scenes dataset: deterministic per (seed, index), boxes that are the boxes of the
visible masks, the rules for hidden objects, read-only caching; detection_collate."""
import numpy
import pytest

from minicnn.data import DataLoader, detection_collate, get_dataset
from minicnn.data.datasets import ScenesDataset
from minicnn.data.datasets.scenes import MIN_VISIBLE_FRACTION, MIN_VISIBLE_PIXELS, make_scene


def test_deterministic_from_seed_and_index():
    first, again = ScenesDataset(6, seed=3)[4], ScenesDataset(6, seed=3)[4]
    numpy.testing.assert_array_equal(first[0], again[0])
    numpy.testing.assert_array_equal(first[1]["boxes"], again[1]["boxes"])
    numpy.testing.assert_array_equal(first[0], make_scene(64, 3, 4)[0])     # no other sample needed
    assert not numpy.array_equal(first[0], ScenesDataset(6, seed=4)[4][0])


def test_annotations_describe_the_visible_objects():
    data = ScenesDataset(60, image_size=64, seed=0)
    counts, occlusions = [], []
    for i in range(len(data)):
        image, target = data[i]
        assert image.shape == (3, 64, 64) and image.dtype == numpy.float32
        assert 0 <= image.min() and image.max() <= 1
        masks = target["masks"].astype(bool)
        k = len(target["labels"])
        assert masks.shape == (k, 64, 64) and target["boxes"].shape == (k, 4)
        assert (masks.sum(axis=0) <= 1).all()                   # visible parts never overlap
        for mask, box in zip(masks, target["boxes"]):
            rows, cols = numpy.flatnonzero(mask.any(1)), numpy.flatnonzero(mask.any(0))
            numpy.testing.assert_array_equal(box, [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1])
            assert mask.sum() >= MIN_VISIBLE_PIXELS
        assert ((0 <= target["occlusion"]) & (target["occlusion"] <= 1 - MIN_VISIBLE_FRACTION)).all()
        assert set(target["labels"].tolist()) <= set(range(5))
        counts.append(k)
        occlusions += target["occlusion"].tolist()
    assert 1 <= min(counts) and max(counts) <= 6 and len(set(counts)) >= 4
    assert numpy.mean(numpy.array(occlusions) > 0.05) > 0.1     # partly hidden objects occur


def test_samples_are_kept_read_only():
    data = ScenesDataset(2)
    image, target = data[0]
    assert data[0][0] is image
    with pytest.raises(ValueError, match="read-only"):
        image[0, 0, 0] = 1
    target["boxes"] = None                                      # the caller's copy of the dict
    assert data[0][1]["boxes"] is not None


def test_registered_splits_and_bad_arguments():
    train, test = get_dataset("scenes"), get_dataset("scenes", train=False)
    assert (len(train), len(test), train.seed, test.seed) == (2000, 500, 0, 1)
    with pytest.raises(ValueError, match="ScenesDataset: n must be positive, image_size at least 32"):
        ScenesDataset(10, image_size=16)
    with pytest.raises(IndexError, match="ScenesDataset: index 5 is out of range for 5 scenes"):
        ScenesDataset(5)[5]


def test_collate_keeps_one_tensor_per_image():
    data = ScenesDataset(5, seed=2)
    images, boxes, labels, masks = next(iter(DataLoader(data, batch_size=5, collate_fn=detection_collate)))
    assert images.shape == (5, 3, 64, 64)
    for i, (b, l, m) in enumerate(zip(boxes, labels, masks)):
        numpy.testing.assert_array_equal(b.numpy(), data[i][1]["boxes"])
        assert len(l) == len(b) == len(m)
    only = detection_collate([data[0], data[1]], fields=("labels",))
    assert len(only) == 2 and len(only[1]) == 2
    with pytest.raises(ValueError, match="detection_collate: a sample's target has no 'scores'"):
        detection_collate([data[0]], fields=("scores",))
