"""MixUp and CutMix (minicnn/data/transforms/mixing.py): mixed pixels, soft labels that say
how much of each image is there, and bad batches refused."""
import numpy
import pytest

import minicnn
from minicnn.backend.random import get_rng_state
from minicnn.data import transforms as T
from minicnn.data.transforms import mixing


def constant_batch(count, height=10, width=10):
    """Image n filled with the value n + 1, label n % 3."""
    images = numpy.arange(1, count + 1, dtype=numpy.float32)[:, None, None, None] \
        * numpy.ones((1, 2, height, width), numpy.float32)
    return images, numpy.arange(count) % 3


def test_mixup_blends_images_and_labels_with_the_same_lambda():
    minicnn.manual_seed(0)
    images, labels = constant_batch(4)
    mixed, soft = T.MixUp(alpha=0.4, num_classes=3)(images, labels)
    assert soft.shape == (4, 3) and soft.dtype == numpy.float32
    numpy.testing.assert_allclose(soft.sum(axis=1), 1, rtol=1e-6)
    # Image n = lam (n + 1) + (1 - lam) n' with n' its neighbour in the rolled batch.
    previous = numpy.roll(numpy.arange(1, 5), 1)
    lam = (mixed[:, 0, 0, 0] - previous) / (numpy.arange(1, 5) - previous)
    numpy.testing.assert_allclose(lam, lam[0], rtol=1e-5)
    expected = lam[0] * numpy.eye(3)[labels] + (1 - lam[0]) * numpy.eye(3)[numpy.roll(labels, 1)]
    numpy.testing.assert_allclose(soft, expected, rtol=1e-5, atol=1e-6)


def test_mixup_lambda_follows_beta_alpha_alpha():
    minicnn.manual_seed(1)
    images, labels = constant_batch(2, 1, 1)
    for alpha, variance in ((0.2, 1 / (4 * 1.4)), (2.0, 1 / (4 * 5))):
        draws = []
        for _ in range(3000):
            mixed, _ = T.MixUp(alpha, num_classes=3)(images, labels)
            draws.append(mixed[0, 0, 0, 0] - 1.0)      # image 0: lam * 1 + (1 - lam) * 2
        lam = 1 - numpy.array(draws)
        # Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)).
        assert abs(lam.mean() - 0.5) < 0.02 and abs(lam.var() - variance) < 0.1 * variance


class FixedDraws:
    """A stand-in for the generator: beta() and integers() return the given values."""

    def __init__(self, lam, *integers):
        self.lam, self.integers_left = lam, list(integers)

    def beta(self, a, b):
        return self.lam

    def integers(self, high):
        return self.integers_left.pop(0)


def test_cutmix_pastes_a_box_of_side_sqrt_one_minus_lambda_and_recomputes_lambda(monkeypatch):
    images, labels = constant_batch(3, 10, 20)
    # lam = 0.64: half sides int(0.5 * 0.6 * 20) = 6 and int(0.5 * 0.6 * 10) = 3 around the
    # centre (x, y) = (17, 2): x from 11 to min(23, 20) = 20, y from max(-1, 0) = 0 to 5.
    draws = FixedDraws(0.64, 17, 2)
    monkeypatch.setattr(mixing, "generator", lambda: draws)
    mixed, soft = T.CutMix(num_classes=3)(images, labels)
    pasted = mixed != images
    assert pasted[:, :, 0:5, 11:20].all() and pasted.sum() == 3 * 2 * 5 * 9
    numpy.testing.assert_array_equal(mixed[:, :, 0:5, 11:20], numpy.roll(images, 1, 0)[:, :, 0:5, 11:20])
    lam = 1 - (5 * 9) / (10 * 20)                     # from the clipped box, not 0.64
    expected = lam * numpy.eye(3)[labels] + (1 - lam) * numpy.eye(3)[numpy.roll(labels, 1)]
    numpy.testing.assert_allclose(soft, expected, rtol=1e-6)


def test_cutmix_label_share_is_the_pasted_area_over_many_draws():
    minicnn.manual_seed(2)
    images, labels = constant_batch(2, 16, 16)
    for _ in range(50):
        mixed, soft = T.CutMix(num_classes=3)(images, labels)
        own = (mixed[0] == images[0]).mean()
        assert soft[0, labels[0]] == pytest.approx(own, abs=1e-6)


def test_soft_labels_are_mixed_as_given_and_tensors_stay_tensors():
    minicnn.manual_seed(3)
    images, _ = constant_batch(4)
    soft = numpy.array([[0.2, 0.8], [1.0, 0.0], [0.5, 0.5], [0.0, 1.0]], numpy.float32)
    mixed, mixed_labels = T.MixUp(1.0)(minicnn.tensor(images), minicnn.tensor(soft))
    assert isinstance(mixed, minicnn.Tensor) and isinstance(mixed_labels, minicnn.Tensor)
    numpy.testing.assert_allclose(mixed_labels.numpy().sum(axis=1), 1, rtol=1e-6)


@pytest.mark.parametrize("mix", [T.MixUp, T.CutMix])
def test_bad_batches_are_named_and_change_nothing(mix):
    name = mix.__name__
    with pytest.raises(ValueError, match=rf"{name}: 'alpha' must be > 0 \(the Beta\(alpha, "
                                         rf"alpha\) distribution of lambda\), got 0"):
        mix(alpha=0)
    with pytest.raises(ValueError, match=rf"{name}: 'alpha' must be > 0"):
        mix(alpha=-1.0)
    images, labels = constant_batch(3)
    state, before = get_rng_state(), images.copy()
    bad = [(images[0], labels, rf"{name}: 'images' must be a batch \(N, C, H, W\), got shape "
                               rf"\(2, 10, 10\)"),
           (images, labels, rf"{name}: 'num_classes' is needed to turn class indices into "
                            rf"probabilities"),
           (images, numpy.array([[0.5, 0.5], [1.0, 0.0], [0.3, 0.3]]),
            rf"{name}: 'labels' as class probabilities must be >= 0 and sum to 1 in every "
            rf"row; row 2 sums to 0.6"),
           (images, numpy.array([[1.5, -0.5], [1.0, 0.0], [0.5, 0.5]]),
            rf"row 0 sums to 1 \(min -0.5\)")]
    for batch_images, batch_labels, message in bad:
        with pytest.raises(ValueError, match=message):
            mix(alpha=1.0)(batch_images, batch_labels)
    with pytest.raises(ValueError, match=rf"{name}: 'labels' must be class indices \(3,\) or class "
                                         rf"probabilities \(3, num_classes=4\), got shape \(3, 2\)"):
        mix(alpha=1.0, num_classes=4)(images, numpy.full((3, 2), 0.5))
    with pytest.raises(ValueError, match=rf"{name}: 'labels' must lie in \[0, 2\), got values 0..2"):
        mix(alpha=1.0, num_classes=2)(images, labels)
    numpy.testing.assert_array_equal(images, before)
    assert get_rng_state() == state
