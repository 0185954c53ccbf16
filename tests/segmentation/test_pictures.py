"""Masks drawn over images and written as PNGs (minicnn/segmentation/pictures.py)."""
import numpy
import pytest

from minicnn.segmentation import save_mask_png, save_overlays
from minicnn.segmentation.pictures import class_colours, overlay


def test_overlay_tints_only_the_objects():
    image = numpy.full((1, 4, 4), 0.5)
    mask = numpy.zeros((4, 4), int)
    mask[1, 2] = 2
    picture = overlay(image, mask, 3, opacity=0.5)
    assert picture.shape == (4, 4, 3)
    numpy.testing.assert_allclose(picture[0, 0], 0.5)
    numpy.testing.assert_allclose(picture[1, 2], 0.25 + 0.5 * class_colours(3)[2] / 255)
    # A valid U-Net's mask is smaller than its image: the image's centre is drawn.
    assert overlay(numpy.zeros((3, 8, 8)), numpy.zeros((4, 4), int), 2).shape == (4, 4, 3)


def test_mask_png_holds_the_class_indices(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    mask = numpy.random.default_rng(0).integers(0, 6, (7, 9))
    save_mask_png(mask, str(tmp_path / "mask.png"), 6)
    with Image.open(tmp_path / "mask.png") as picture:
        assert picture.mode == "P"
        numpy.testing.assert_array_equal(numpy.asarray(picture), mask)
        assert picture.getpalette()[3:6] == class_colours(6)[1].tolist()
    assert [p.name for p in tmp_path.iterdir()] == ["mask.png"]       # no temporary left


def test_overlays_grid_is_a_png(tmp_path):
    images = numpy.random.default_rng(0).random((3, 3, 8, 8))
    masks = numpy.zeros((3, 8, 8), int)
    save_overlays(images, masks, masks + 1, str(tmp_path / "grid.png"), ["background", "a", "b"],
                  titles=["x", "y", "z"])
    assert (tmp_path / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
