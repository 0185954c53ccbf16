"""Random photometric transforms (minicnn/data/transforms/photometric.py)."""
import itertools

import numpy
import pytest

import minicnn
from minicnn.data import transforms as T
from minicnn.data.transforms import functional as F


def test_color_jitter_applies_the_four_adjustments_in_a_random_order_per_image(monkeypatch):
    """Each image gets each adjustment once, with a factor from its range, in an order of
    its own (torchvision draws a permutation of the four per call, here per image)."""
    log = {}
    for name in ("adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue"):
        def record(images, factors, name=name):
            for image, factor in zip(images, factors):
                log.setdefault(int(image[0, 0, 0]), []).append((name, factor))
            return images
        monkeypatch.setattr(F, name, record)
    minicnn.manual_seed(0)
    batch = numpy.arange(200, dtype=numpy.float64)[:, None, None, None] * numpy.ones((1, 3, 2, 2))
    T.ColorJitter(brightness=0.4, contrast=(0.5, 0.6), saturation=0.2, hue=0.1)(batch)
    assert sorted(log) == list(range(200))
    ranges = {"adjust_brightness": (0.6, 1.4), "adjust_contrast": (0.5, 0.6),
              "adjust_saturation": (0.8, 1.2), "adjust_hue": (-0.1, 0.1)}
    orders = set()
    for steps in log.values():
        assert sorted(name for name, _ in steps) == sorted(ranges)
        assert all(ranges[name][0] <= factor <= ranges[name][1] for name, factor in steps)
        orders.add(tuple(name for name, _ in steps))
    assert len(orders) > 15                     # of the 24 orders, most appear


def test_color_jitter_equals_its_adjustments_in_the_drawn_order(monkeypatch):
    """With one image, the result is one of the 24 orders of the four functional forms
    with factors in range: here the factors are pinned by narrow ranges."""
    image = numpy.random.default_rng(0).random((3, 5, 5))
    jitter = T.ColorJitter(brightness=(1.3, 1.3 + 1e-12), contrast=(0.5, 0.5 + 1e-12),
                           saturation=(1.6, 1.6 + 1e-12), hue=(0.2, 0.2 + 1e-12))
    minicnn.manual_seed(4)
    out = jitter(image)
    steps = [lambda x: F.adjust_brightness(x, 1.3), lambda x: F.adjust_contrast(x, 0.5),
             lambda x: F.adjust_saturation(x, 1.6), lambda x: F.adjust_hue(x, 0.2)]
    matches = 0
    for order in itertools.permutations(steps):
        expected = image
        for step in order:
            expected = step(expected)
        matches += numpy.allclose(out, expected, atol=1e-9)
    assert matches >= 1


def test_color_jitter_of_zero_changes_nothing_and_ranges_are_checked():
    image = numpy.random.default_rng(1).random((2, 3, 4, 4))
    numpy.testing.assert_array_equal(T.ColorJitter()(image), image)
    with pytest.raises(ValueError, match=r"ColorJitter: 'hue' must give a range inside \[-0.5, "
                                         r"0.5\], got 0.7"):
        T.ColorJitter(hue=0.7)
    with pytest.raises(ValueError, match="ColorJitter: 'brightness' as a single number must be "
                                         ">= 0, got -1"):
        T.ColorJitter(brightness=-1)


def test_random_erasing_cuts_one_rectangle_within_scale_and_ratio():
    minicnn.manual_seed(0)
    batch = numpy.ones((400, 1, 40, 40))
    out = T.RandomErasing(p=0.5, scale=(0.05, 0.2), ratio=(0.5, 2.0), value=0)(batch)
    erased = (out == 0).any(axis=(1, 2, 3))
    assert 0.4 < erased.mean() < 0.6
    for image in out[erased]:
        rows, cols = numpy.nonzero(image[0] == 0)
        h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert len(rows) == h * w                          # a full rectangle
        assert 0.05 * 1600 - 40 <= h * w <= 0.2 * 1600 + 40
        assert 0.5 - 0.15 <= h / w <= 2.0 + 0.3
    noise = T.RandomErasing(p=1.0, value="random")(numpy.ones((3, 2, 20, 20)))
    assert (noise != 1).any(axis=(1, 2, 3)).all()
    with pytest.raises(ValueError, match="RandomErasing: 'value' must be a number, one per "
                                         "channel or 'random', got 'noise'"):
        T.RandomErasing(value="noise")


def test_random_grayscale_blur_noise_and_illumination():
    minicnn.manual_seed(0)
    batch = numpy.random.default_rng(2).random((300, 3, 4, 4))
    gray = T.RandomGrayscale(p=0.5)(batch)
    turned = (gray[:, 0] == gray[:, 1]).all(axis=(1, 2)) & (gray[:, 1] == gray[:, 2]).all(axis=(1, 2))
    assert 0.4 < turned.mean() < 0.6 and gray.shape == batch.shape
    numpy.testing.assert_allclose(gray[turned], F.rgb_to_grayscale(batch[turned], 3))

    blurred = T.GaussianBlur(3, sigma=(0.1, 2.0))(batch[:20])
    assert blurred.std() < batch[:20].std()
    noisy = T.GaussianNoise(sigma=0.05)(numpy.full((2, 1, 50, 50), 0.5))
    assert 0.04 < noisy.std() < 0.06
    lit = T.RandomIllumination(strength=0.5)(numpy.full((50, 1, 8, 8), 0.5))
    assert lit.min() >= 0.25 - 1e-6 and lit.max() <= 0.75 + 1e-6
    assert len({image.tobytes() for image in lit}) == 50
