"""Boxes, masks and labels move with the pixels (minicnn/data/transforms/targets.py and the
geometric transforms), and bad targets are refused before anything changes."""
import numpy
import pytest
from hypothesis import given, strategies as st

import minicnn
from minicnn.backend.random import get_rng_state
from minicnn.data import transforms as T
from minicnn.data.transforms import functional as F


def blob_target(seed, height, width, instances=2, fill=0.7):
    """Instance masks (K, H, W) of random blobs (each pixel of a random rectangle kept with
    probability `fill`), their bounding boxes and labels."""
    rng = numpy.random.default_rng(seed)
    masks = numpy.zeros((instances, height, width), numpy.int64)
    for k in range(instances):
        top, left = rng.integers(height), rng.integers(width)
        bottom, right = rng.integers(top, height) + 1, rng.integers(left, width) + 1
        masks[k, top:bottom, left:right] = rng.random((bottom - top, right - left)) < fill
        masks[k, top, left] = 1
    return {"boxes": numpy.stack([mask_box(m) for m in masks]).astype(numpy.float32),
            "masks": masks, "labels": numpy.arange(1, instances + 1), "image_id": seed}


def mask_box(mask):
    """(x0, y0, x1, y1) in edges around the non-zero pixels of a map (H, W)."""
    rows, cols = numpy.flatnonzero(mask.any(1)), numpy.flatnonzero(mask.any(0))
    return numpy.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], numpy.float64)


# Each entry: a name and a transform of (image or batch, target) drawn from `rng`.
GEOMETRIC = {
    "hflip": lambda rng: lambda x, t: F.hflip(x, target=t),
    "vflip": lambda rng: lambda x, t: F.vflip(x, target=t),
    "crop": lambda rng: lambda x, t: F.crop(x, rng.integers(-3, 5), rng.integers(-3, 5),
                                            rng.integers(2, 9), rng.integers(2, 9), target=t),
    "pad": lambda rng: lambda x, t: F.pad(x, tuple(rng.integers(0, 3, 4)), target=t),
    "resize": lambda rng: lambda x, t: F.resize(x, tuple(rng.integers(2, 20, 2)), target=t),
    "rotate": lambda rng: lambda x, t: F.rotate(x, rng.uniform(-180, 180), target=t),
    "affine": lambda rng: lambda x, t: F.affine(x, rng.uniform(-45, 45), rng.integers(-2, 3, 2),
                                                rng.uniform(0.7, 1.4), rng.uniform(-20, 20, 2),
                                                target=t),
    "RandomResizedCrop": lambda rng: T.RandomResizedCrop(7, scale=(0.3, 1.0)),
    "RandomCrop": lambda rng: T.RandomCrop(6, padding=2),
    "ElasticTransform": lambda rng: T.ElasticTransform(alpha=20.0, sigma=2.0),
    "RandomAffine": lambda rng: T.RandomAffine(30, translate=(0.2, 0.2), scale=(0.8, 1.2),
                                               shear=(-10, 10, -5, 5)),
}


@pytest.mark.parametrize("name", GEOMETRIC)
@given(seed=st.integers(0, 2**16), height=st.integers(3, 12), width=st.integers(3, 12))
def test_a_box_around_a_mask_still_bounds_the_moved_mask(name, seed, height, width):
    rng = numpy.random.default_rng(seed)
    minicnn.manual_seed(seed)
    image = rng.random((1, height, width))
    target = blob_target(seed, height, width)
    moved_image, moved = GEOMETRIC[name](rng)(image, target)
    assert moved["masks"].shape == (len(moved["boxes"]),) + moved_image.shape[-2:]
    assert moved["image_id"] == seed and moved["masks"].dtype == numpy.int64
    assert set(moved["labels"]) <= {1, 2} and len(moved["labels"]) == len(moved["boxes"])
    out_height, out_width = moved_image.shape[-2:]
    for box, mask in zip(moved["boxes"], moved["masks"]):
        x0, y0, x1, y1 = box
        assert 0 <= x0 < x1 <= out_width and 0 <= y0 < y1 <= out_height
        rows, cols = numpy.nonzero(mask)
        # Every pixel of the moved mask has its centre inside the moved box.
        assert ((cols + 0.5 >= x0 - 1e-6) & (cols + 0.5 <= x1 + 1e-6)).all(), (box, cols)
        assert ((rows + 0.5 >= y0 - 1e-6) & (rows + 0.5 <= y1 + 1e-6)).all(), (box, rows)


@pytest.mark.parametrize("name", ["rotate", "affine", "crop", "RandomResizedCrop",
                                  "ElasticTransform"])
@given(seed=st.integers(0, 2**16), size=st.integers(3, 10))
def test_a_dropped_box_leaves_no_mask_pixels_behind(name, seed, size):
    """A semantic map (H, W) beside one box: when the box leaves the image the map's pixels
    left with it; when it stays, they are inside it."""
    rng = numpy.random.default_rng(seed)
    minicnn.manual_seed(seed)
    instance = blob_target(seed, size, size, instances=1)
    target = {"boxes": instance["boxes"], "masks": instance["masks"][0] * 3, "labels": [7]}
    _, moved = GEOMETRIC[name](rng)(rng.random((2, size, size)), target)
    assert moved["masks"].ndim == 2 and set(numpy.unique(moved["masks"])) <= {0, 3}
    if len(moved["boxes"]) == 0:
        assert not moved["masks"].any() and len(moved["labels"]) == 0
    elif moved["masks"].any():
        x0, y0, x1, y1 = moved["boxes"][0]
        rows, cols = numpy.nonzero(moved["masks"])
        assert (x0 <= cols + 0.5 + 1e-6).all() and (cols + 0.5 <= x1 + 1e-6).all()
        assert (y0 <= rows + 0.5 + 1e-6).all() and (rows + 0.5 <= y1 + 1e-6).all()


@given(seed=st.integers(0, 2**16), size=st.integers(3, 9))
def test_exact_moves_give_the_exact_box_of_the_moved_mask(seed, size):
    image = numpy.zeros((1, size, size))
    # Solid rectangles: a crop through a blob with holes may keep box corners without pixels.
    target = blob_target(seed, size, size, instances=1, fill=1.0)
    exact = [lambda x, t: F.hflip(x, target=t), lambda x, t: F.vflip(x, target=t),
             lambda x, t: F.pad(x, (1, 2, 0, 3), target=t),
             lambda x, t: F.crop(x, 1, 0, size, size - 1, target=t),
             lambda x, t: F.resize(x, (2 * size, 3 * size), target=t)]
    exact += [lambda x, t, k=k: F.rotate(x, 90 * k, target=t) for k in (-1, 1, 2)]
    for transform in exact:
        _, moved = transform(image, target)
        if len(moved["boxes"]):
            numpy.testing.assert_array_equal(moved["boxes"][0], mask_box(moved["masks"][0]))


def test_boxes_are_clipped_and_dropped_with_labels_and_masks():
    masks = numpy.zeros((3, 10, 10), numpy.int64)
    masks[0, 1:3, 1:3], masks[1, 4:9, 6:10], masks[2, 7:9, 0:2] = 1, 1, 1
    target = {"boxes": [[1, 1, 3, 3], [6, 4, 10, 9], [0, 7, 2, 9]], "masks": masks,
              "labels": numpy.array([10, 11, 12])}
    _, moved = F.crop(numpy.zeros((1, 10, 10)), 2, 2, 6, 6, target=target)
    numpy.testing.assert_array_equal(moved["boxes"], [[0, 0, 1, 1], [4, 2, 6, 6]])
    numpy.testing.assert_array_equal(moved["labels"], [10, 11])
    assert moved["masks"].shape == (2, 6, 6) and moved["masks"][0].sum() == 1
    # The input target is left as it was.
    assert len(target["boxes"]) == 3 and masks.sum() == 4 + 20 + 4


def test_a_batch_takes_a_list_of_targets_each_moved_by_its_own_draw():
    minicnn.manual_seed(1)
    batch = numpy.zeros((6, 1, 8, 8))
    targets = [{"boxes": numpy.array([[0.0, 0.0, 3.0, 8.0]]), "labels": [n]} for n in range(6)]
    out, moved = T.RandomHorizontalFlip()(batch, targets)
    assert out.shape == batch.shape and [t["labels"][0] for t in moved] == list(range(6))
    lefts = {float(t["boxes"][0, 0]) for t in moved}
    assert lefts == {0.0, 5.0}          # some images flipped, some not


def test_photometric_transforms_leave_targets_alone():
    image = numpy.random.default_rng(0).random((3, 8, 8))
    target = blob_target(0, 8, 8)
    for transform in (T.ColorJitter(0.5, 0.5, 0.5, 0.2), T.RandomErasing(p=1.0),
                      T.GaussianBlur(3), T.RandomIllumination(), T.Normalize([0.5], [0.2])):
        out, kept = transform(image, target)
        assert out.shape == image.shape and kept["image_id"] == 0
        for key in ("boxes", "masks", "labels"):
            numpy.testing.assert_array_equal(kept[key], target[key])


# --- bad targets ----------------------------------------------------------------------------

BAD_TARGETS = [
    ({"boxes": [[0, 0, 9, 4]]}, ValueError,
     r"RandomAffine: target\['boxes'\]\[0\] = \(0, 0, 9, 4\) is not a box inside the image: "
     r"expected 0 <= x0 <= x1 <= 8 and 0 <= y0 <= y1 <= 6 \(image of height 6, width 8\)"),
    ({"boxes": [[1, 1, 2, 2], [5, 3, 4, 5]]}, ValueError,
     r"target\['boxes'\]\[1\] = \(5, 3, 4, 5\) is not a box inside the image"),
    ({"boxes": [[-1.5, 0, 2, 2]]}, ValueError, r"target\['boxes'\]\[0\] = \(-1.5, 0.0, 2.0, 2.0\)"),
    ({"boxes": [[1, 2, 3]]}, ValueError,
     r"target\['boxes'\] must be numbers of shape \(K, 4\) \(x0, y0, x1, y1\), got shape \(1, 3\)"),
    ({"masks": numpy.zeros((8, 6), numpy.int64)}, ValueError,
     r"RandomAffine: target\['masks'\] must be \(H, W\) or \(K, H, W\) with the image's size "
     r"\(6, 8\), got shape \(8, 6\)"),
    ({"masks": numpy.zeros((6, 8), numpy.float32)}, TypeError,
     r"target\['masks'\] must hold integer \(or boolean\) maps, got dtype float32"),
    ({"boxes": [[0, 0, 2, 2]], "masks": numpy.zeros((2, 6, 8), int)}, ValueError,
     r"target\['masks'\] holds 2 masks but target\['boxes'\] 1 boxes"),
    ({"boxes": [[0, 0, 2, 2]], "labels": [1, 2]}, ValueError,
     r"target\['labels'\] must hold one label per box, shape \(1,\), got shape \(2,\)"),
    ([{"boxes": [[0, 0, 2, 2]]}], TypeError,
     r"RandomAffine: 'target' must be a dict with 'boxes', 'masks' and/or 'labels', got list"),
]


@pytest.mark.parametrize("target,error,message", BAD_TARGETS)
def test_bad_targets_are_named_and_change_nothing(target, error, message):
    image = numpy.random.default_rng(0).random((2, 6, 8))
    before, state = image.copy(), get_rng_state()
    with pytest.raises(error, match=message):
        T.RandomAffine(20, translate=(0.1, 0.1))(image, target)
    numpy.testing.assert_array_equal(image, before)
    assert get_rng_state() == state           # nothing was drawn


def test_a_batch_needs_one_target_per_image():
    with pytest.raises(TypeError, match=r"RandomRotation: 'target' of a batch of 3 images must be "
                                        r"a list of 3 dicts, got a list of 2"):
        T.RandomRotation(10)(numpy.zeros((3, 1, 4, 4)), [{}, {}])
    with pytest.raises(TypeError, match="must be a list of 3 dicts, got a dict"):
        T.RandomRotation(10)(numpy.zeros((3, 1, 4, 4)), {})


def test_wrong_rank_names_the_transform():
    for transform in (T.RandomRotation(10), T.ColorJitter(0.2), T.RandomHorizontalFlip(),
                      T.RandomResizedCrop(4)):
        name = type(transform).__name__
        with pytest.raises(ValueError, match=rf"^{name}: 'img' must be an image \(C, H, W\) or a "
                                             rf"batch \(N, C, H, W\), got shape \(4, 4\)$"):
            transform(numpy.zeros((4, 4)))
