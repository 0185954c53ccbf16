"""What every transform shares (minicnn/data/transforms/base.py)."""
import numpy
import pytest

import minicnn
from minicnn.data.transforms import (Compose, Normalize, RandomChoice, RandomHorizontalFlip,
                                     RandomRotation, ToTensor)


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


def test_compose_applies_in_order():
    chain = Compose([Normalize([1.0], [1.0]), Normalize([0.0], [2.0])])
    numpy.testing.assert_allclose(chain(numpy.full((1, 2, 2), 3, numpy.float32)), 1.0)


def test_compose_threads_a_target_through_every_step():
    image = numpy.zeros((1, 4, 6), numpy.float32)
    target = {"boxes": numpy.array([[0.0, 1.0, 2.0, 3.0]]), "labels": [4]}
    chain = Compose([RandomHorizontalFlip(p=1.0), Normalize([0.5], [0.5]),
                     RandomHorizontalFlip(p=1.0), RandomRotation((180, 180))])
    out, moved = chain(image, target)
    assert out.shape == image.shape and moved["labels"] == [4]
    numpy.testing.assert_allclose(moved["boxes"], [[4.0, 1.0, 6.0, 3.0]])  # 180 degrees about the centre
    assert isinstance(chain(image), numpy.ndarray)


def test_random_choice_picks_one_per_call_with_probabilities_p():
    minicnn.manual_seed(0)
    choice = RandomChoice([lambda x: x + 1, lambda x: x - 1], p=[3, 1])
    picks = [choice(0) for _ in range(2000)]
    assert set(picks) == {1, -1} and 0.7 < picks.count(1) / 2000 < 0.8
    with pytest.raises(ValueError, match=r"RandomChoice: 'p' must hold 2 non-negative weights, "
                                         r"got \[1.0\]"):
        RandomChoice([abs, abs], p=[1.0])
