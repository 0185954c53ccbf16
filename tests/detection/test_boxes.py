"""Box operations: known answers, IoU and GIoU against pixel counting, gradients, formats,
clipping, and the errors for bad boxes."""
import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn.detection.boxes import (box_area, box_convert, box_intersection, box_iou,
                                     clip_boxes_to_image, generalized_box_iou,
                                     remove_small_boxes)
from tests.helpers import leaf

A = numpy.array([[0, 0, 4, 2], [1, 1, 3, 5]], numpy.float32)


def integer_boxes(count):
    corner = st.tuples(st.integers(0, 12), st.integers(0, 12), st.integers(1, 8), st.integers(1, 8))
    return st.lists(corner, min_size=1, max_size=count).map(
        lambda rows: numpy.array([[x, y, x + w, y + h] for x, y, w, h in rows], numpy.float64))


def pixels(box, size=24):
    """The box as a boolean image: the pixels whose centres it covers."""
    y, x = numpy.mgrid[0:size, 0:size] + 0.5
    return (x >= box[0]) & (x < box[2]) & (y >= box[1]) & (y < box[3])


def test_known_area_iou_and_giou():
    numpy.testing.assert_array_equal(box_area(A), [8, 8])
    # The overlap is columns 1..2 of row 1: 2 pixels of a union of 8 + 8 - 2 = 14.
    numpy.testing.assert_allclose(box_iou(A, A), [[1, 1 / 7], [1 / 7, 1]], rtol=1e-6)
    # The hull (0, 0, 4, 5) has 20 pixels, 6 of them outside the union.
    numpy.testing.assert_allclose(generalized_box_iou(A, A)[0, 1], 1 / 7 - 6 / 20, rtol=1e-6)
    assert box_iou(A, A).dtype == numpy.float32


@given(integer_boxes(5), integer_boxes(4))
def test_iou_and_giou_equal_pixel_counts(boxes1, boxes2):
    for i, a in enumerate(boxes1):
        for j, b in enumerate(boxes2):
            pa, pb = pixels(a), pixels(b)
            inter, union = (pa & pb).sum(), (pa | pb).sum()
            assert box_intersection(boxes1, boxes2)[i, j] == inter
            assert box_iou(boxes1, boxes2)[i, j] == pytest.approx(inter / union)
            hull = pixels([min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]).sum()
            assert generalized_box_iou(boxes1, boxes2)[i, j] == pytest.approx(
                inter / union - (hull - union) / hull)


def test_giou_of_far_boxes_tends_to_minus_one():
    far = numpy.array([[0, 0, 1, 1], [1000, 1000, 1001, 1001]], numpy.float64)
    assert generalized_box_iou(far[:1], far[1:])[0, 0] == pytest.approx(-1, abs=1e-5)


def test_iou_and_giou_are_differentiable():
    rng = numpy.random.default_rng(1)
    corners = rng.uniform(0, 5, (3, 2))
    boxes1 = leaf(numpy.concatenate([corners, corners + rng.uniform(1, 4, (3, 2))], axis=1))
    corners = rng.uniform(0, 5, (2, 2))
    boxes2 = leaf(numpy.concatenate([corners, corners + rng.uniform(1, 4, (2, 2))], axis=1))
    assert minicnn.gradcheck(lambda a, b: box_iou(a, b), (boxes1, boxes2))
    assert minicnn.gradcheck(lambda a, b: generalized_box_iou(a, b), (boxes1, boxes2))
    assert minicnn.gradcheck(lambda a: box_convert(a, "xyxy", "cxcywh"), (boxes1,))


def test_convert_known_values():
    numpy.testing.assert_array_equal(box_convert(A, "xyxy", "xywh"), [[0, 0, 4, 2], [1, 1, 2, 4]])
    numpy.testing.assert_array_equal(box_convert(A, "xyxy", "cxcywh"), [[2, 1, 4, 2], [2, 3, 2, 4]])
    numpy.testing.assert_array_equal(box_convert(numpy.array([[2., 3, 2, 4]]), "cxcywh", "xyxy"),
                                     [[1, 1, 3, 5]])


@given(integer_boxes(6), st.sampled_from(["xywh", "cxcywh"]))
def test_convert_round_trips(boxes, fmt):
    there = box_convert(boxes, "xyxy", fmt)
    numpy.testing.assert_allclose(box_convert(there, fmt, "xyxy"), boxes)
    other = "cxcywh" if fmt == "xywh" else "xywh"
    numpy.testing.assert_allclose(box_convert(box_convert(there, fmt, other), other, "xyxy"), boxes)


def test_clip_and_remove_small():
    boxes = numpy.array([[-3, -1, 5, 4], [10, 2, 14, 12], [20, 20, 30, 30.]])
    numpy.testing.assert_array_equal(clip_boxes_to_image(boxes, (8, 12)),
                                     [[0, 0, 5, 4], [10, 2, 12, 8], [12, 8, 12, 8]])
    numpy.testing.assert_array_equal(remove_small_boxes(boxes, 5), [0, 2])   # box 1 is 4 wide
    numpy.testing.assert_array_equal(remove_small_boxes(clip_boxes_to_image(boxes, (8, 12)), 1), [0, 1])


def test_tensors_stay_tensors_and_arrays_arrays():
    assert isinstance(box_iou(minicnn.tensor(A), A), minicnn.Tensor)
    assert isinstance(box_iou(A, A), numpy.ndarray)


@pytest.mark.parametrize("bad, message", [
    (numpy.array([[0, 0, 1]]), r"box_iou: boxes1 must have shape \(N, 4\), got \(1, 3\)"),
    (numpy.array([[0, 0, numpy.nan, 1]]), r"box_iou: boxes1 holds a NaN .* \(box 0"),
    (numpy.array([[0, 0, 1, 1], [3, 0, 2, 1]]), r"box_iou: boxes1 must be \(x0, y0, x1, y1\) "
                                                r"with x0 <= x1 and y0 <= y1; box 1 is \[3"),
])
def test_bad_boxes_are_named(bad, message):
    with pytest.raises(ValueError, match=message):
        box_iou(bad, A)


def test_bad_formats_and_sizes_are_named():
    with pytest.raises(ValueError, match="box_convert: out_fmt must be one of xyxy, xywh, cxcywh, got 'yxyx'"):
        box_convert(A, "xyxy", "yxyx")
    with pytest.raises(ValueError, match=r"clip_boxes_to_image: size must be \(height, width\)"):
        clip_boxes_to_image(A, (8,))
