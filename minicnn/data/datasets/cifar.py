"""CIFAR-10 from its binary version (cifar-10-binary.tar.gz, extracted); nothing is downloaded.

Each file data_batch_1.bin ... data_batch_5.bin and test_batch.bin is a run of records of
1 label byte followed by 3,072 pixel bytes: the 1,024 red, then green, then blue values of a
32x32 image, row-major. (The pickled "python version" is deliberately not read: unpickling
can run arbitrary code.)
"""
import os

import numpy

from ..dataset import TensorDataset

RECORD = 1 + 3 * 32 * 32
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILES = ("test_batch.bin",)


def read_cifar_binary(path):
    """(images uint8 (N, 3, 32, 32), labels int64 (N,)) from one binary batch file."""
    raw = numpy.fromfile(path, dtype=numpy.uint8)
    if raw.size == 0 or raw.size % RECORD:
        raise ValueError(f"read_cifar_binary: {path} has {raw.size} bytes, not a positive "
                         f"multiple of the {RECORD}-byte record; the file is truncated or corrupt")
    records = raw.reshape(-1, RECORD)
    labels = records[:, 0].astype(numpy.int64)
    if labels.max() > 9:
        raise ValueError(f"read_cifar_binary: {path} has label {labels.max()}, expected 0..9; "
                         "is this the CIFAR-100 binary?")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


class CIFAR10(TensorDataset):
    """CIFAR-10: 50,000 train / 10,000 test colour images (3, 32, 32) float32 in [0, 1]."""
    classes = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck")

    def __init__(self, root, train=True, transform=None):
        names = TRAIN_FILES if train else TEST_FILES
        # The archive extracts into cifar-10-batches-bin/; accept that folder or its parent.
        folder = next((d for d in (root, os.path.join(root, "cifar-10-batches-bin"))
                       if all(os.path.exists(os.path.join(d, n)) for n in names)), None)
        if folder is None:
            raise FileNotFoundError(
                f"CIFAR10: expected {', '.join(names)} in {root!r} (or in its "
                "cifar-10-batches-bin/ folder); minicnn does not download: extract "
                "cifar-10-binary.tar.gz there")
        parts = [read_cifar_binary(os.path.join(folder, n)) for n in names]
        images = numpy.concatenate([p[0] for p in parts]).astype(numpy.float32) / numpy.float32(255)
        super().__init__(images, numpy.concatenate([p[1] for p in parts]), transform=transform)
