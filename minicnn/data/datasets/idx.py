"""MNIST and Fashion-MNIST from their original IDX files (plain or .gz); nothing is downloaded.

IDX format (http://yann.lecun.com/exdb/mnist/): two zero bytes, a type code (0x08 = uint8),
the number of dimensions, then each dimension as a big-endian uint32, then the values in
row-major order, big-endian.
"""
import gzip
import os

import numpy

from ..dataset import TensorDataset

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """The array stored in an IDX file, checked against its header."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"read_idx: cannot read {path}: {error}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file (magic bytes {raw[:4].hex()!r}, "
                         f"expected 0000 + type code + rank)")
    rank = raw[3]
    header = 4 + 4 * rank
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} is truncated inside its header")
    shape = tuple(int(d) for d in numpy.frombuffer(raw, ">u4", count=rank, offset=4))
    dtype = numpy.dtype(IDX_TYPES[raw[2]])
    expected = header + int(numpy.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"read_idx: {path} has {len(raw)} bytes but its header {shape} "
                         f"({dtype.name}) needs {expected}; the file is truncated or corrupt")
    return numpy.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find(root, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(root, candidate)
        if os.path.exists(path):
            return path
    return None


class MNIST(TensorDataset):
    """MNIST: 60,000 train / 10,000 test handwritten digits, (1, 28, 28) float32 in [0, 1]."""
    classes = tuple("0123456789")
    files = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

    def __init__(self, root, train=True, transform=None):
        image_name, label_name = self.files[bool(train)]
        paths = [_find(root, image_name), _find(root, label_name)]
        if None in paths:
            raise FileNotFoundError(
                f"{type(self).__name__}: expected {image_name}[.gz] and {label_name}[.gz] in "
                f"{root!r} (minicnn does not download; fetch the IDX files yourself)")
        images, labels = read_idx(paths[0]), read_idx(paths[1])
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{type(self).__name__}: images {images.shape} and labels "
                             f"{labels.shape} do not match (expected (N, H, W) and (N,))")
        super().__init__(images[:, None].astype(numpy.float32) / numpy.float32(255),
                         labels.astype(numpy.int64), transform=transform)


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): the same files and format as MNIST, ten kinds of clothing."""
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")
