"""roi_align and roi_pool: gradients (gradcheck and gradgradcheck in float64), the known
answer through the public function, both box forms, dtypes, no boxes, and the errors."""
import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
import minicnn.functional as F
from tests.helpers import covers, leaf


@st.composite
def rois(draw, batch):
    rng = numpy.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    count = draw(st.integers(1, 3))
    corners = rng.uniform(-2, 7, (count, 2))
    return numpy.concatenate([rng.integers(0, batch, (count, 1)), corners,
                              corners + rng.uniform(0.5, 6, (count, 2))], axis=1)


@covers("roi_align")
@given(boxes=rois(2), output_size=st.sampled_from([1, 2, (2, 3)]),
       scale=st.sampled_from([1.0, 0.5]), sampling_ratio=st.sampled_from([-1, 2]),
       aligned=st.booleans())
def test_roi_align_gradcheck(boxes, output_size, scale, sampling_ratio, aligned):
    x = leaf((2, 2, 5, 6))
    function = lambda t: F.roi_align(t, boxes, output_size, scale, sampling_ratio, aligned)
    assert minicnn.gradcheck(function, x)
    assert minicnn.gradgradcheck(function, x)


@covers("roi_pool")
@given(boxes=rois(2), output_size=st.sampled_from([1, 2, (2, 3)]), scale=st.sampled_from([1.0, 0.5]))
def test_roi_pool_gradcheck(boxes, output_size, scale):
    # Values 1/60 apart: no finite-difference step moves a bin's max elsewhere.
    x = leaf(numpy.random.default_rng(0).permutation(60).reshape(2, 1, 5, 6) / 60.0)
    function = lambda t: F.roi_pool(t, boxes, output_size, scale)
    assert minicnn.gradcheck(function, x)
    assert minicnn.gradgradcheck(function, x)


def test_known_answer_and_gradient():
    x = minicnn.tensor(numpy.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    y = F.roi_align(x, minicnn.tensor([[0, 0, 0, 4, 4.0]]), 2, aligned=True)
    numpy.testing.assert_allclose(y.numpy()[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    y.sum().backward()
    # Every pixel is sampled once by exactly one bin of 4 samples.
    numpy.testing.assert_allclose(x.grad.numpy(), numpy.full((1, 1, 4, 4), 0.25))
    x.grad = None
    y = F.roi_pool(x, [numpy.array([[0, 0, 4, 4.0]])], 2)
    numpy.testing.assert_array_equal(y.numpy()[0, 0], [[10, 11], [14, 15]])
    y.sum().backward()
    expected = numpy.zeros(16)
    expected[[10, 11, 14, 15]] = 1
    numpy.testing.assert_array_equal(x.grad.numpy().ravel(), expected)


def test_box_list_equals_rows_and_dtypes_stay():
    rng = numpy.random.default_rng(0)
    x = minicnn.tensor(rng.standard_normal((2, 3, 8, 8)).astype(numpy.float32))
    per_image = [numpy.array([[1, 1, 5, 6.0]]), numpy.array([[0, 2, 7, 7.0], [3, 3, 4, 4.0]])]
    rows = numpy.array([[0, 1, 1, 5, 6], [1, 0, 2, 7, 7], [1, 3, 3, 4, 4.0]])
    for op in (F.roi_align, F.roi_pool):
        from_list, from_rows = op(x, per_image, (2, 3)), op(x, rows, (2, 3))
        assert from_list.shape == (3, 3, 2, 3) and from_list.dtype == numpy.float32
        numpy.testing.assert_array_equal(from_list.numpy(), from_rows.numpy())


def test_no_boxes_give_an_empty_output_and_a_zero_gradient():
    x = leaf((1, 2, 4, 4))
    for op in (F.roi_align, F.roi_pool):
        y = op(x, numpy.zeros((0, 5)), 3)
        assert y.shape == (0, 2, 3, 3)
        y.sum().backward()
        numpy.testing.assert_array_equal(x.grad.numpy(), 0)
        x.grad = None


@pytest.mark.parametrize("boxes, message", [
    (numpy.zeros((2, 4)), r"roi_align: boxes must be \(K, 5\) rows \(batch index, x0, y0, x1, y1\)"),
    (numpy.array([[0, 0, 0, numpy.nan, 1]]), r"roi_align: box 0 holds a NaN"),
    (numpy.array([[0, 0, 0, 1, 1], [2, 0, 0, 1, 1.0]]), r"roi_align: box 1 names image 2, but the batch has images 0..0"),
    (numpy.array([[0.5, 0, 0, 1, 1]]), r"roi_align: box 0 names image 0.5"),
    (numpy.array([[0, 3, 0, 1, 1.0]]), r"roi_align: box 0 must have x0 <= x1 and y0 <= y1, got \[3.0"),
    ([numpy.zeros((1, 5))], r"roi_align: a list of boxes must hold one \(L, 4\) array per image"),
])
def test_bad_boxes_are_named(boxes, message):
    with pytest.raises(ValueError, match=message):
        F.roi_align(minicnn.zeros(1, 1, 4, 4), boxes, 2)


def test_bad_arguments_are_named():
    x = minicnn.zeros(1, 1, 4, 4)
    boxes = numpy.array([[0, 0, 0, 2, 2.0]])
    with pytest.raises(ValueError, match=r"roi_pool: input must be a 4-D \(N, C, H, W\) feature map, got shape \(1, 4, 4\)"):
        F.roi_pool(minicnn.zeros(1, 4, 4), boxes, 2)
    with pytest.raises(ValueError, match="roi_align: output_size must be a positive int or"):
        F.roi_align(x, boxes, 0)
    with pytest.raises(ValueError, match="roi_align: spatial_scale must be a positive number, got 0"):
        F.roi_align(x, boxes, 2, spatial_scale=0)
    with pytest.raises(ValueError, match="roi_align: sampling_ratio must be an int"):
        F.roi_align(x, boxes, 2, sampling_ratio=1.5)
