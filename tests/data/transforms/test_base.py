"""Array transforms (minicnn/data/transforms.py)."""
import numpy
import pytest

from minicnn.data.transforms import (Compose, Normalize, RandomCrop, RandomHorizontalFlip,
                                     ToTensor)


def test_to_tensor_scales_integers_and_moves_channels():
    pixels = numpy.array([[[0, 255, 51]]], dtype=numpy.uint8)      # (H=1, W=1, C=3)
    out = ToTensor()(pixels)
    assert out.shape == (3, 1, 1) and out.dtype == numpy.float32
    numpy.testing.assert_allclose(out.ravel(), [0, 1, 0.2], rtol=1e-6)
    assert ToTensor()(numpy.zeros((5, 4))).shape == (1, 5, 4)


def test_normalize_per_channel():
    images = numpy.ones((2, 2, 3, 3), numpy.float32)
    out = Normalize([0.5, 1.0], [0.5, 2.0])(images)
    assert out[:, 0].max() == 1 and out[:, 1].max() == 0
    with pytest.raises(ValueError, match="2 means / 2 stds for images with 3 channels"):
        Normalize([0, 0], [1, 1])(numpy.zeros((3, 4, 4)))


def test_flip_per_image():
    images = numpy.arange(2 * 1 * 1 * 3, dtype=numpy.float32).reshape(2, 1, 1, 3)
    always = RandomHorizontalFlip(p=1.0)(images)
    numpy.testing.assert_array_equal(always, images[..., ::-1])
    numpy.testing.assert_array_equal(RandomHorizontalFlip(p=0.0)(images), images)


def test_random_crop_is_a_shifted_window_of_the_padded_image():
    image = numpy.arange(16, dtype=numpy.float32).reshape(1, 4, 4)
    out = RandomCrop(4, padding=2)(numpy.stack([image] * 20))
    padded = numpy.pad(image, ((0, 0), (2, 2), (2, 2)))
    windows = {(t, l) for t in range(5) for l in range(5)}
    for crop in out:
        assert any(numpy.array_equal(crop, padded[:, t:t + 4, l:l + 4]) for t, l in windows)
    assert len({crop.tobytes() for crop in out}) > 1
    assert RandomCrop(3)(image).shape == (1, 3, 3)
    with pytest.raises(ValueError, match="larger than the padded image"):
        RandomCrop(6, padding=0)(image)


def test_compose_applies_in_order():
    chain = Compose([Normalize([1.0], [1.0]), Normalize([0.0], [2.0])])
    numpy.testing.assert_allclose(chain(numpy.full((1, 2, 2), 3, numpy.float32)), 1.0)


def test_random_crop_without_size_shifts():
    images = numpy.ones((6, 1, 5, 5), numpy.float32)
    out = RandomCrop(padding=1)(images)
    assert out.shape == images.shape and out.min() == 0 and out.max() == 1
