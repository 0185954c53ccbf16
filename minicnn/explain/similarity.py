"""How alike two attribution maps are: the two measures of Adebayo et al. 2018.

    spearman(a, b)   Spearman's rank correlation: the Pearson correlation of the ranks of
                     the values (ties get the mean of their ranks, as SciPy's spearmanr);
                     NaN when either map is constant, as SciPy's. Attribution maps are
                     compared by their absolute values (the sign is often arbitrary).
    ssim(a, b)       the structural similarity of Wang et al. 2004, as scikit-image's
                     structural_similarity with its defaults: 7x7 windows, sample
                     covariances, K1 = 0.01, K2 = 0.03, the mean over the windows that lie
                     inside the image.

Both take two maps of the same shape, NumPy arrays; SSIM's maps are 2-D (H, W).
"""
import numpy
from numpy.lib.stride_tricks import sliding_window_view


def ranks(values):
    """Ranks 1..n of a 1-D array; tied values share the mean of the ranks they span."""
    unique, inverse, counts = numpy.unique(values, return_inverse=True, return_counts=True)
    last = numpy.cumsum(counts)
    return ((last - counts + 1 + last) / 2)[inverse.ravel()]


def spearman(a, b):
    a, b = _same_shape("spearman", a, b)
    ra, rb = ranks(a.ravel()), ranks(b.ravel())
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = numpy.sqrt((ra @ ra) * (rb @ rb))
    return float(ra @ rb / denominator) if denominator > 0 else float("nan")


def ssim(a, b, data_range, window=7, k1=0.01, k2=0.03):
    """SSIM of two (H, W) maps whose values span at most `data_range`."""
    a, b = _same_shape("ssim", a, b)
    if a.ndim != 2 or min(a.shape) < window:
        raise ValueError(f"ssim: needs 2-D maps of at least {window}x{window}, got {a.shape}")

    def local_mean(x):
        return sliding_window_view(x, (window, window)).mean(axis=(-2, -1))

    mean_a, mean_b = local_mean(a), local_mean(b)
    sample = window * window / (window * window - 1)       # unbiased (sample) covariances
    var_a = sample * (local_mean(a * a) - mean_a ** 2)
    var_b = sample * (local_mean(b * b) - mean_b ** 2)
    covariance = sample * (local_mean(a * b) - mean_a * mean_b)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    similarity = ((2 * mean_a * mean_b + c1) * (2 * covariance + c2)
                  / ((mean_a ** 2 + mean_b ** 2 + c1) * (var_a + var_b + c2)))
    return float(similarity.mean())


def _same_shape(op, a, b):
    a, b = numpy.asarray(a, dtype=numpy.float64), numpy.asarray(b, dtype=numpy.float64)
    if a.shape != b.shape:
        raise ValueError(f"{op}: the two maps must have the same shape, got {a.shape} and "
                         f"{b.shape}")
    return a, b
