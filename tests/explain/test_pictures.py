"""heatmap, overlay, grid and save_figure: shapes, ranges, the blend, errors; a PNG on disk."""
import numpy
import pytest

import minicnn
from minicnn.explain.pictures import as_rgb, grid, heatmap, overlay, save_figure


def test_heatmap_takes_the_largest_absolute_value_over_channels_scaled_to_one():
    attribution = numpy.zeros((3, 2, 2))
    attribution[0, 0, 0], attribution[2, 0, 0], attribution[1, 1, 1] = 1.0, -4.0, 2.0
    numpy.testing.assert_allclose(heatmap(attribution), [[1.0, 0.0], [0.0, 0.5]])
    numpy.testing.assert_array_equal(heatmap(minicnn.zeros(1, 1, 2, 2)), numpy.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"heatmap: expected one image's attribution"):
        heatmap(numpy.zeros((2, 1, 4, 4)))


def test_overlay_blends_the_grey_image_with_the_colour_map():
    image = numpy.full((1, 4, 4), 0.2)
    heat = numpy.zeros((4, 4))
    heat[0, 0] = 1.0
    picture = overlay(image, heat, alpha=0.25, cmap="gray")
    assert picture.shape == (4, 4, 3) and picture.min() >= 0 and picture.max() <= 1
    numpy.testing.assert_allclose(picture[0, 0], 0.75 * 0.2 + 0.25 * 1.0)
    numpy.testing.assert_allclose(picture[1, 1], 0.75 * 0.2)
    with pytest.raises(ValueError, match=r"overlay: the heatmap's shape \(2, 2\) differs from "
                                         r"the image's \(4, 4\)"):
        overlay(image, numpy.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"as_rgb: expected an image \(1 or 3, H, W\)"):
        as_rgb(numpy.zeros((2, 4, 4)))


def test_grid_draws_rgb_pictures_and_maps_and_saves_a_png(tmp_path):
    pictures = [numpy.zeros((5, 5, 3)), numpy.ones((5, 5)), numpy.eye(5)]
    figure = grid(pictures, titles=["a", "b", None], columns=2)
    assert len(figure.axes) == 4                     # two rows of two, the last one empty
    path = tmp_path / "grid.png"
    save_figure(figure, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="grid: 1 titles for 3 pictures"):
        grid(pictures, titles=["a"])
