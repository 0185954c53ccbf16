"""Image, mask and weight map augmented together (minicnn/segmentation/augment.py)."""
import numpy
import pytest

import minicnn
from minicnn.data import DataLoader, Subset, TensorDataset
from minicnn.data.transforms import Compose, RandomHorizontalFlip, RandomQuarterTurn
from minicnn.segmentation import (JointlyAugmented, move_together, segmentation_augmentation,
                                  segmentation_transform)


def paired_batch(n=64, size=5, seed=0):
    """Images (n, 2, size, size), masks read off the first channel and weight maps equal to
    the second, so any misalignment shows."""
    images = numpy.random.default_rng(seed).random((n, 2, size, size)).astype(numpy.float32)
    return images, (images[:, 0] > 0.5).astype(numpy.int64), images[:, 1].copy()


def symmetries():
    return Compose([RandomHorizontalFlip(), RandomQuarterTurn()])


def test_image_and_maps_move_together_through_all_eight_symmetries():
    images, masks, weights = paired_batch()
    minicnn.manual_seed(0)
    moved_images, moved_masks, moved_weights = move_together(symmetries(), images, masks, weights)
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


def test_each_pixel_keeps_the_label_and_weight_of_one_input_pixel():
    """Under the training transform (affine, elastic: resampled, not permuted), every output
    pixel shows one input pixel's (label, weight) pair, or a point outside (0, 0)."""
    rng = numpy.random.default_rng(1)
    weights = rng.uniform(1, 2, (8, 32, 32)).astype(numpy.float32)     # all distinct
    masks = (weights > 1.5).astype(numpy.int64)
    images = rng.random((8, 1, 32, 32)).astype(numpy.float32)
    minicnn.manual_seed(0)
    _, moved_masks, moved_weights = move_together(segmentation_transform(32), images, masks,
                                                  weights)
    outside = moved_weights == 0
    assert 0 < outside.mean() < 0.2            # the filled-in corners, and only they
    assert (moved_masks[outside] == 0).all()
    numpy.testing.assert_array_equal(moved_masks[~outside], moved_weights[~outside] > 1.5)
    for n in range(8):
        assert numpy.isin(moved_weights[n][~outside[n]], weights[n]).all()
    assert not numpy.array_equal(moved_weights, weights)


def test_masks_stay_on_their_objects_under_the_training_transform():
    """Images of flat 8x8 blocks, the mask their block number: away from the blocks' edges
    (where bilinear pixels blend two blocks) the moved image still shows the moved label."""
    blocks = numpy.kron(numpy.arange(16).reshape(4, 4), numpy.ones((8, 8), numpy.int64))
    masks = numpy.stack([blocks] * 16)
    images = (masks[:, None] / 16).astype(numpy.float32)
    minicnn.manual_seed(2)
    moved_images, moved_masks = move_together(segmentation_transform(32), images, masks)
    agree = numpy.abs(moved_images[:, 0] - moved_masks / 16) < 1e-5
    assert agree.mean() > 0.5
    # The same check fails for masks moved by another draw of the random transform.
    minicnn.manual_seed(3)
    _, other_masks = move_together(segmentation_transform(32), images, masks)
    assert (numpy.abs(moved_images[:, 0] - other_masks / 16) < 1e-5).mean() < 0.3


def test_the_elastic_displacement_is_two_percent_of_the_side():
    minicnn.manual_seed(0)
    elastic = segmentation_transform(64).transforms[-1]
    field = elastic.displacement(100, 64, 64)
    # Away from the edges (where the mirrored noise adds up) the formula's 2% of 64 pixels.
    assert abs(field[:, :, 16:-16, 16:-16].std() - 1.28) < 0.1


def test_seeded_and_batched_like_the_dataset():
    images, masks, weights = paired_batch(12)
    data = JointlyAugmented(TensorDataset(images, masks, weights), symmetries())
    minicnn.manual_seed(3)
    first = [batch[1].numpy() for batch in DataLoader(data, batch_size=5)]
    minicnn.manual_seed(3)
    again = [batch[1].numpy() for batch in DataLoader(data, batch_size=5)]
    for ours, same in zip(first, again):
        numpy.testing.assert_array_equal(ours, same)
    image, mask, weight = data[4]
    assert image.shape == (2, 5, 5) and mask.shape == (5, 5) and weight.shape == (5, 5)
    numpy.testing.assert_array_equal(mask.numpy(), image.numpy()[0] > 0.5)
    numpy.testing.assert_array_equal(weight.numpy(), image.numpy()[1])
    limited = Subset(data, [0, 1, 2])       # a Subset of it still gathers batches
    batch = DataLoader(limited, batch_size=3).__iter__().__next__()
    numpy.testing.assert_array_equal(batch[1].numpy(), batch[0].numpy()[:, 0] > 0.5)


def test_the_command_lines_augmentation_is_the_training_transform():
    inner = TensorDataset(*paired_batch(4, size=16)[:2])
    data = segmentation_augmentation(inner)
    assert [type(t).__name__ for t in data.transform.transforms] == [
        "RandomHorizontalFlip", "RandomQuarterTurn", "RandomAffine", "ElasticTransform"]
    assert data.transform.transforms[-1].sigma == 16 / 8
    assert [type(t).__name__ for t in segmentation_augmentation(inner, "basic").transform.transforms
            ] == ["RandomHorizontalFlip", "RandomQuarterTurn"]
    with pytest.raises(ValueError, match="segmentation_transform: policy must be 'basic' or "
                                         "'strong', got 'corruptions'"):
        segmentation_augmentation(inner, "corruptions")


def test_the_wrapped_datasets_attributes_show_through():
    inner = TensorDataset(*paired_batch(2)[:2])
    inner.classes = ("background", "thing")
    assert JointlyAugmented(inner, symmetries()).classes == ("background", "thing")
    with pytest.raises(AttributeError):
        JointlyAugmented(inner, symmetries()).instances
