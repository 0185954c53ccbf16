"""digits: scikit-learn's 1,797 8x8 handwritten digits (UCI optdigits), read from its CSV file.

Split: 360 test (36 per class), the rest train, fixed by a seed.
"""
from ..dataset import TensorDataset
from .packaged import packaged_csv, split_images

INSTALL_HINT = 'pip install -e ".[data]" (or: pip install scikit-learn)'


class Digits(TensorDataset):
    """Samples (image (1, 8, 8) float32 in [0, 1], label int64)."""
    classes = tuple("0123456789")

    def __init__(self, train=True, transform=None):
        # Each CSV row holds 64 pixel counts (0..16) followed by the label.
        table = packaged_csv("sklearn", "datasets/data/digits.csv.gz", INSTALL_HINT)
        images, labels = split_images(table, 8, 16, train, test_per_class=36)
        super().__init__(images, labels, transform=transform)
