"""digits: scikit-learn's 1,797 8x8 handwritten digits (UCI optdigits), read from its CSV file.

Split: 360 test (36 per class), the rest train, fixed by a seed. `DigitsAsMNIST` enlarges
them to MNIST's 28x28 layout, so that a network trained on MNIST can read them: the same
digits in another domain (other writers, another scanner, blurred by the enlargement).
"""
import numpy

from ... import functional as F
from ...autograd import Tensor
from .packaged import PackagedImages

# MNIST scales each digit into a 20x20 box and centres it in a 28x28 frame (LeCun et al.).
MNIST_DIGIT_SIDE, MNIST_SIDE = 20, 28


class Digits(PackagedImages):
    """Samples (image (1, 8, 8) float32 in [0, 1], label int64)."""
    # Each CSV row holds 64 pixel counts (0..16) followed by the label.
    package, path = "sklearn", "datasets/data/digits.csv.gz"
    install_hint = "pip install scikit-learn"
    side, max_value, test_per_class = 8, 16, 36


class DigitsAsMNIST(Digits):
    """The same split, each image enlarged bilinearly to 20x20 and framed by 4 zero pixels:
    samples (image (1, 28, 28) float32 in [0, 1], label int64)."""

    def __init__(self, train=True, transform=None, split_seed=0):
        super().__init__(train, transform, split_seed)
        small = self.arrays[0]
        large = F.interpolate(Tensor(small), size=(MNIST_DIGIT_SIDE, MNIST_DIGIT_SIDE),
                              mode="bilinear").numpy()
        border = (MNIST_SIDE - MNIST_DIGIT_SIDE) // 2
        framed = numpy.zeros((len(small), 1, MNIST_SIDE, MNIST_SIDE), numpy.float32)
        framed[:, :, border:border + MNIST_DIGIT_SIDE, border:border + MNIST_DIGIT_SIDE] = large
        self.arrays[0] = framed
