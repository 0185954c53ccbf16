"""spearman equals SciPy's spearmanr (ties included), ssim equals scikit-image's
structural_similarity."""
import numpy
import pytest
from hypothesis import given, strategies as st

from minicnn.explain.similarity import spearman, ssim


@pytest.mark.filterwarnings("ignore:An input array is constant")
@given(st.integers(0, 2 ** 31), st.integers(2, 40), st.booleans())
def test_spearman_equals_scipy(seed, size, ties):
    stats = pytest.importorskip("scipy.stats")
    rng = numpy.random.default_rng(seed)
    a, b = rng.normal(size=size), rng.normal(size=size)
    if ties:                                  # ReLU'd maps are full of equal zeros
        a, b = numpy.maximum(a.round(1), 0), numpy.maximum(b.round(1), 0)
    expected = stats.spearmanr(a, b).statistic
    if numpy.isnan(expected):
        assert numpy.isnan(spearman(a, b))
    else:
        assert spearman(a, b) == pytest.approx(expected, abs=1e-12)


def test_spearman_of_a_constant_map_is_nan_and_of_a_monotone_change_is_one():
    a = numpy.arange(12.0).reshape(3, 4)
    assert numpy.isnan(spearman(a, numpy.zeros_like(a)))
    assert spearman(a, a ** 3 + 1) == pytest.approx(1.0)


@given(st.integers(0, 2 ** 31), st.integers(7, 20), st.integers(7, 20))
def test_ssim_equals_scikit_image(seed, height, width):
    metrics = pytest.importorskip("skimage.metrics")
    rng = numpy.random.default_rng(seed)
    a = rng.uniform(size=(height, width))
    b = numpy.clip(a + rng.normal(scale=0.3, size=a.shape), 0, 1)
    expected = metrics.structural_similarity(a, b, data_range=1.0)
    assert ssim(a, b, data_range=1.0) == pytest.approx(expected, abs=1e-10)


def test_bad_maps_are_refused():
    with pytest.raises(ValueError, match=r"spearman: the two maps must have the same shape"):
        spearman(numpy.zeros(3), numpy.zeros(4))
    with pytest.raises(ValueError, match=r"ssim: needs 2-D maps of at least 7x7"):
        ssim(numpy.zeros((5, 5)), numpy.zeros((5, 5)), 1.0)
