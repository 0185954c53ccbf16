"""Anchors: py-faster-rcnn's nine base anchors, torchvision's base anchors and grid order,
SSD300's 8,732 default boxes and their sizes."""
import math

import numpy
import pytest

from minicnn.detection.anchors import AnchorGenerator, DefaultBoxGenerator, generate_anchors

# py-faster-rcnn's lib/rpn/generate_anchors.py, `python generate_anchors.py`, as printed there.
PY_FASTER_RCNN = [[-84, -40, 99, 55], [-176, -88, 191, 103], [-360, -184, 375, 199],
                  [-56, -56, 71, 71], [-120, -120, 135, 135], [-248, -248, 263, 263],
                  [-36, -80, 51, 95], [-80, -168, 95, 183], [-168, -344, 183, 359]]

# torchvision AnchorGenerator(((128, 256, 512),), ((0.5, 1.0, 2.0),)).cell_anchors[0].
TORCHVISION = [[-91, -45, 91, 45], [-181, -91, 181, 91], [-362, -181, 362, 181],
               [-64, -64, 64, 64], [-128, -128, 128, 128], [-256, -256, 256, 256],
               [-45, -91, 45, 91], [-91, -181, 91, 181], [-181, -362, 181, 362]]

SSD300 = dict(aspect_ratios=[[2], [2, 3], [2, 3], [2, 3], [2], [2]],
              scales=[0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05], steps=[8, 16, 32, 64, 100, 300])
SSD300_MAPS = [(38, 38), (19, 19), (10, 10), (5, 5), (3, 3), (1, 1)]


def test_py_faster_rcnn_base_anchors():
    numpy.testing.assert_array_equal(generate_anchors(16, (0.5, 1, 2), 2 ** numpy.arange(3, 6)),
                                     PY_FASTER_RCNN)


def test_torchvision_base_anchors():
    generator = AnchorGenerator(((128, 256, 512),), ((0.5, 1.0, 2.0),))
    numpy.testing.assert_array_equal(generator.cell_anchors[0], TORCHVISION)
    # Same shapes as py-faster-rcnn's up to its rounding and inclusive corners.
    widths = numpy.array(PY_FASTER_RCNN)[:, 2] - numpy.array(PY_FASTER_RCNN)[:, 0] + 1
    numpy.testing.assert_allclose(widths, numpy.array(TORCHVISION)[:, 2] * 2, rtol=0.035)


def test_grid_order_and_strides():
    generator = AnchorGenerator(base_anchors=[generate_anchors()])
    anchors = generator((32, 48), [(2, 3)])                  # stride 16 both ways
    assert anchors.shape == (2 * 3 * 9, 4) and anchors.dtype == numpy.float32
    for i in range(2):
        for j in range(3):
            cell = anchors[(i * 3 + j) * 9:(i * 3 + j + 1) * 9]
            numpy.testing.assert_array_equal(cell, numpy.array(PY_FASTER_RCNN) + [16 * j, 16 * i] * 2)


def test_several_maps():
    generator = AnchorGenerator(((8, 16), (32,)), ((0.5, 1, 2), (1,)))
    assert generator.num_anchors_per_location() == [6, 1]
    anchors = generator((64, 64), [(8, 8), (2, 2)])
    assert len(anchors) == 8 * 8 * 6 + 2 * 2
    numpy.testing.assert_array_equal(anchors[-4:], [[-16, -16, 16, 16], [16, -16, 48, 16],
                                                    [-16, 16, 16, 48], [16, 16, 48, 48]])


def test_ssd300_has_8732_default_boxes():
    generator = DefaultBoxGenerator(**SSD300)
    assert generator.num_anchors_per_location() == [4, 6, 6, 6, 4, 4]
    boxes = generator((300, 300), SSD300_MAPS)
    assert boxes.shape == (8732, 4)
    # The first cell of the first map: centre (4, 4) = 0.5 * 8, sides 0.07 and
    # sqrt(0.07 * 0.15) of 300, then 0.07 * 300 times sqrt(2) and 1 / sqrt(2).
    side, extra = 0.07 * 300, math.sqrt(0.07 * 0.15) * 300
    wide, tall = 21 * math.sqrt(2), 21 / math.sqrt(2)
    numpy.testing.assert_allclose(boxes[:4], [[4 - side / 2, 4 - side / 2, 4 + side / 2, 4 + side / 2],
                                              [4 - extra / 2, 4 - extra / 2, 4 + extra / 2, 4 + extra / 2],
                                              [4 - wide / 2, 4 - tall / 2, 4 + wide / 2, 4 + tall / 2],
                                              [4 - tall / 2, 4 - wide / 2, 4 + tall / 2, 4 + wide / 2]],
                                  rtol=1e-5)
    # The last map's ratio-2 box is clipped to the image's width.
    numpy.testing.assert_allclose(boxes[-2, [0, 2]], [0, 300])


def test_ssd_scales_follow_the_formula():
    generator = DefaultBoxGenerator([[2]] * 4, min_ratio=0.2, max_ratio=0.8)
    numpy.testing.assert_allclose(generator.scales, [0.2, 0.4, 0.6, 0.8, 1.0])
    boxes = generator((60, 60), [(4, 4), (3, 3), (2, 2), (1, 1)])
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    # Four boxes per cell, centred on the cells of 15 pixels: 7.5, then 22.5 to the right.
    numpy.testing.assert_allclose(centres[:5], [[7.5, 7.5]] * 4 + [[22.5, 7.5]], rtol=1e-6)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="AnchorGenerator: feature_sizes must be 2"):
        AnchorGenerator(((8,), (16,)), ((1,), (1,)))((64, 64), [(8, 8)])
    with pytest.raises(ValueError, match="AnchorGenerator: sizes and aspect_ratios need one entry"):
        AnchorGenerator(((8,), (16,)), ((1,),))
    with pytest.raises(ValueError, match="DefaultBoxGenerator: scales needs 3 entries"):
        DefaultBoxGenerator([[2], [2]], scales=[0.1, 0.2])
