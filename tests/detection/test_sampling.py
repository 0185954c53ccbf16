"""Balanced sampling (counts, no ignored anchors, reproducible) and hard negative mining
(equal to sorting each image's negatives by loss)."""
import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn.detection.sampling import BalancedPositiveNegativeSampler, hard_negative_mining


def test_balanced_counts_and_ignored_anchors():
    labels = numpy.array([1] * 200 + [0] * 1000 + [-1] * 50)
    few = numpy.array([2] * 10 + [0] * 1000 + [-1] * 50)
    positives, negatives = BalancedPositiveNegativeSampler(256, 0.5)([labels, few])
    assert (positives[0].sum(), negatives[0].sum()) == (128, 128)
    assert (positives[1].sum(), negatives[1].sum()) == (10, 246)     # negatives fill up
    for image, pos, neg in zip([labels, few], positives, negatives):
        assert (image[pos] >= 1).all() and (image[neg] == 0).all()
        assert not (pos & neg).any()


def test_few_anchors_and_reproducibility():
    labels = numpy.array([1, 0, 0, -1])
    positives, negatives = BalancedPositiveNegativeSampler(256, 0.5)([labels])
    assert positives[0].tolist() == [True, False, False, False]
    assert negatives[0].tolist() == [False, True, True, False]
    draws = []
    for _ in range(2):
        minicnn.manual_seed(3)
        draws.append(BalancedPositiveNegativeSampler(8, 0.25)([numpy.arange(40) % 3 - 1]))
    numpy.testing.assert_array_equal(draws[0][0][0], draws[1][0][0])
    numpy.testing.assert_array_equal(draws[0][1][0], draws[1][1][0])


@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(1, 40), st.integers(1, 4))
def test_hard_negatives_are_the_highest_losses(seed, images, anchors, ratio):
    rng = numpy.random.default_rng(seed)
    losses = rng.integers(0, 6, (images, anchors)).astype(float)      # ties on purpose
    positive = rng.uniform(size=(images, anchors)) < 0.2
    chosen = hard_negative_mining(losses, positive, ratio)
    for i in range(images):
        negatives = sorted(numpy.flatnonzero(~positive[i]), key=lambda a: (-losses[i, a], a))
        expected = negatives[:ratio * positive[i].sum()]
        assert numpy.flatnonzero(chosen[i]).tolist() == sorted(expected)


def test_image_without_positives_gets_no_negatives():
    assert not hard_negative_mining(numpy.ones((1, 5)), numpy.zeros((1, 5), bool)).any()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="BalancedPositiveNegativeSampler: batch_size_per_image"):
        BalancedPositiveNegativeSampler(0, 0.5)
    with pytest.raises(ValueError, match=r"hard_negative_mining: losses and positive must both be"):
        hard_negative_mining(numpy.ones((1, 5)), numpy.zeros((1, 4), bool))
