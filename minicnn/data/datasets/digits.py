"""digits: scikit-learn's 1,797 8x8 handwritten digits (UCI optdigits), read from its CSV file.

Split: 360 test (36 per class), the rest train, fixed by a seed.
"""
from .packaged import PackagedImages


class Digits(PackagedImages):
    """Samples (image (1, 8, 8) float32 in [0, 1], label int64)."""
    # Each CSV row holds 64 pixel counts (0..16) followed by the label.
    package, path = "sklearn", "datasets/data/digits.csv.gz"
    install_hint = "pip install scikit-learn"
    side, max_value, test_per_class = 8, 16, 36
