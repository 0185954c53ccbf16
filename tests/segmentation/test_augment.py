"""Flips and quarter turns of image and masks together (minicnn/segmentation/augment.py)."""
import numpy
import pytest

import minicnn
from minicnn.data import DataLoader, Subset, TensorDataset
from minicnn.segmentation import FlipsAndTurns, JointlyAugmented


def paired_batch(n=64, size=5, seed=0):
    """Images (n, 2, size, size) and masks read off the images, so any misalignment shows."""
    images = numpy.random.default_rng(seed).random((n, 2, size, size)).astype(numpy.float32)
    return images, (images[:, 0] > 0.5).astype(numpy.int64), images[:, 1].copy()


def test_image_and_maps_move_together_through_all_eight_symmetries():
    images, masks, weights = paired_batch()
    moved_images, moved_masks, moved_weights = FlipsAndTurns()(images, masks, weights)
    numpy.testing.assert_array_equal(moved_masks, moved_images[:, 0] > 0.5)
    numpy.testing.assert_array_equal(moved_weights, moved_images[:, 1])
    seen = set()
    for before, after in zip(images, moved_images):
        for mirror in (False, True):
            for turns in range(4):
                candidate = numpy.rot90(before[..., ::-1] if mirror else before, turns, axes=(1, 2))
                if numpy.array_equal(candidate, after):
                    seen.add((mirror, turns))
    assert len(seen) == 8
    assert not numpy.shares_memory(moved_images, images)


def test_oblong_images_are_only_mirrored():
    images = numpy.arange(2 * 3 * 4, dtype=numpy.float32).reshape(2, 1, 3, 4).repeat(16, axis=0)
    moved, = FlipsAndTurns()(images)
    assert moved.shape == images.shape
    for before, after in zip(images, moved):
        assert numpy.array_equal(after, before) or numpy.array_equal(after, before[..., ::-1])


def test_seeded_and_batched_like_the_dataset():
    images, masks, _ = paired_batch(12)
    data = JointlyAugmented(TensorDataset(images, masks), FlipsAndTurns())
    minicnn.manual_seed(3)
    first = [batch[1].numpy() for batch in DataLoader(data, batch_size=5)]
    minicnn.manual_seed(3)
    again = [batch[1].numpy() for batch in DataLoader(data, batch_size=5)]
    for ours, same in zip(first, again):
        numpy.testing.assert_array_equal(ours, same)
    image, mask = data[4]
    assert image.shape == (2, 5, 5) and mask.shape == (5, 5)
    numpy.testing.assert_array_equal(mask.numpy(), image.numpy()[0] > 0.5)
    limited = Subset(data, [0, 1, 2])       # a Subset of it still gathers batches
    batch = DataLoader(limited, batch_size=3).__iter__().__next__()
    numpy.testing.assert_array_equal(batch[1].numpy(), batch[0].numpy()[:, 0] > 0.5)


def test_the_wrapped_datasets_attributes_show_through():
    inner = TensorDataset(*paired_batch(2)[:2])
    inner.classes = ("background", "thing")
    assert JointlyAugmented(inner, FlipsAndTurns()).classes == ("background", "thing")
    with pytest.raises(AttributeError):
        JointlyAugmented(inner, FlipsAndTurns()).instances
