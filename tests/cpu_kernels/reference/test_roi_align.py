"""The plain RoIAlign and RoIPool against hand-computed answers and against a second,
independent definition: torchvision's own test oracles (test/test_ops.py, expected_fn and
bilinear_interpolate), ported to NumPy, which sum one sample at a time."""
import math

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicnn.cpu_kernels.reference import roi_align as reference


def bilinear_interpolate(data, y, x):
    """torchvision's test oracle with snap_border=True."""
    height, width = data.shape
    if -1 < y <= 0:
        y = 0
    elif height - 1 <= y < height:
        y = height - 1
    if -1 < x <= 0:
        x = 0
    elif width - 1 <= x < width:
        x = width - 1
    y_low, x_low = int(math.floor(y)), int(math.floor(x))
    value = 0.0
    for wx, xp in ((1 - (x - x_low), x_low), (x - x_low, x_low + 1)):
        for wy, yp in ((1 - (y - y_low), y_low), (y - y_low, y_low + 1)):
            if 0 <= yp < height and 0 <= xp < width:
                value += wx * wy * data[yp, xp]
    return value


def oracle_roi_align(x, rois, out_h, out_w, scale, sampling_ratio, aligned):
    """torchvision's RoIAlign test oracle, plus the C++ kernel's max(size, 1) when not aligned."""
    y = numpy.zeros((len(rois), x.shape[1], out_h, out_w))
    offset = 0.5 if aligned else 0.0
    for r, roi in enumerate(rois):
        j_begin, i_begin, j_end, i_end = (v * scale - offset for v in roi[1:])
        roi_h, roi_w = i_end - i_begin, j_end - j_begin
        if not aligned:
            roi_h, roi_w = max(roi_h, 1.0), max(roi_w, 1.0)
        bin_h, bin_w = roi_h / out_h, roi_w / out_w
        grid_h = sampling_ratio if sampling_ratio > 0 else int(numpy.ceil(bin_h))
        grid_w = sampling_ratio if sampling_ratio > 0 else int(numpy.ceil(bin_w))
        for i in range(out_h):
            for j in range(out_w):
                for c in range(x.shape[1]):
                    total = 0.0
                    for iy in range(grid_h):
                        for ix in range(grid_w):
                            total += bilinear_interpolate(
                                x[int(roi[0]), c], i_begin + i * bin_h + (iy + 0.5) * bin_h / grid_h,
                                j_begin + j * bin_w + (ix + 0.5) * bin_w / grid_w)
                    y[r, c, i, j] = total / max(grid_h * grid_w, 1)
    return y


def oracle_roi_pool(x, rois, out_h, out_w, scale):
    """torchvision's RoIPool test oracle (boxes inside the map, no .5 to round)."""
    y = numpy.zeros((len(rois), x.shape[1], out_h, out_w))
    for r, roi in enumerate(rois):
        j0, i0, j1, i1 = (int(round(v * scale)) for v in roi[1:])
        window = x[int(roi[0]), :, i0:i1 + 1, j0:j1 + 1]
        bin_h, bin_w = window.shape[1] / out_h, window.shape[2] / out_w
        for i in range(out_h):
            for j in range(out_w):
                part = window[:, int(numpy.floor(i * bin_h)):int(numpy.ceil((i + 1) * bin_h)),
                              int(numpy.floor(j * bin_w)):int(numpy.ceil((j + 1) * bin_w))]
                if part.size:
                    y[r, :, i, j] = part.reshape(len(part), -1).max(axis=1)
    return y


X = numpy.arange(16.0).reshape(1, 1, 4, 4)
WHOLE = numpy.array([[0, 0, 0, 4, 4.0]])


def test_known_answers():
    # aligned: bin (0, 0) covers pixels 0..1 x 0..1 exactly; 2 x 2 samples at their centres.
    numpy.testing.assert_allclose(reference.roi_align_forward(X, WHOLE, 1.0, (2, 2), -1, True)[0, 0],
                                  [[(0 + 1 + 4 + 5) / 4, (2 + 3 + 6 + 7) / 4],
                                   [(8 + 9 + 12 + 13) / 4, (10 + 11 + 14 + 15) / 4]])
    # not aligned: x[r, c] = 4 r + c is linear, so a bin's mean is x at its samples' mean:
    # samples at 0.5 and 1.5 in bin 0 (mean 1), at 2.5 and 3.5 in bin 1, where 3.5 is
    # clamped to the last row or column, 3 (mean 2.75).
    numpy.testing.assert_allclose(reference.roi_align_forward(X, WHOLE, 1.0, (2, 2), 2, False)[0, 0],
                                  [[4 * 1 + 1, 4 * 1 + 2.75], [4 * 2.75 + 1, 4 * 2.75 + 2.75]])
    # A sample more than a pixel outside reads 0: one sample at x = -1.5 in the left bin.
    numpy.testing.assert_allclose(
        reference.roi_align_forward(X, numpy.array([[0, -2, 0, 0, 1.0]]), 1.0, (1, 1), 1, True),
        [[[[0.0]]]])
    values, index = reference.roi_pool_forward(X, WHOLE, 1.0, (2, 2))
    # Rounded box 0..4 is 5 wide: bins [0, 3) and [2, 5) clipped to 4.
    numpy.testing.assert_array_equal(values[0, 0], [[10, 11], [14, 15]])
    numpy.testing.assert_array_equal(index[0, 0], [[10, 11], [14, 15]])


@st.composite
def problems(draw, inside=False):
    rng = numpy.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    batch, channels = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    height, width = draw(st.integers(2, 7)), draw(st.integers(2, 7))
    scale = draw(st.sampled_from([1.0, 0.5, 0.25]))
    count = draw(st.integers(0, 4))
    if inside:
        # The oracle crops the rounded box to the map: keep it inside, whole.
        last = numpy.array([(width - 1) / scale, (height - 1) / scale])
        corners = rng.uniform(0, last, (count, 2))
        far = numpy.minimum(corners + rng.uniform(0.5, 6, (count, 2)), last)
    else:
        corners = rng.uniform(-3, 8 / scale, (count, 2))
        far = corners + rng.uniform(0, 8, (count, 2))
    rois = numpy.concatenate([rng.integers(0, batch, (count, 1)), corners, far], axis=1)
    x = rng.standard_normal((batch, channels, height, width))
    return x, rois, scale, (draw(st.integers(1, 3)), draw(st.integers(1, 3)))


@given(problems(), st.sampled_from([-1, 1, 2, 3]), st.booleans())
def test_roi_align_equals_torchvisions_oracle(problem, sampling_ratio, aligned):
    x, rois, scale, (out_h, out_w) = problem
    numpy.testing.assert_allclose(
        reference.roi_align_forward(x, rois, scale, (out_h, out_w), sampling_ratio, aligned),
        oracle_roi_align(x, rois, out_h, out_w, scale, sampling_ratio, aligned), atol=1e-12)


@given(problems(), st.sampled_from([-1, 2]), st.booleans())
def test_roi_align_backward_is_the_adjoint(problem, sampling_ratio, aligned):
    """<A x, g> = <x, A^T g> for random x and g."""
    x, rois, scale, output_size = problem
    y = reference.roi_align_forward(x, rois, scale, output_size, sampling_ratio, aligned)
    g = numpy.random.default_rng(0).standard_normal(y.shape)
    gx = reference.roi_align_backward(g, rois, scale, sampling_ratio, aligned, x.shape)
    assert numpy.sum(y * g) == pytest.approx(numpy.sum(x * gx), abs=1e-10)


@given(problems(inside=True))
def test_roi_pool_equals_torchvisions_oracle(problem):
    x, rois, scale, (out_h, out_w) = problem
    values, index = reference.roi_pool_forward(x, rois, scale, (out_h, out_w))
    numpy.testing.assert_allclose(values, oracle_roi_pool(x, rois, out_h, out_w, scale))
    flat = (len(rois), x.shape[1], -1 if len(rois) else 0)
    planes = x[rois[:, 0].astype(int)].reshape(flat)
    found = numpy.take_along_axis(planes, numpy.maximum(index, 0).reshape(flat), 2)
    numpy.testing.assert_array_equal(numpy.where(index >= 0, found.reshape(values.shape), 0), values)


def test_empty_roi_pool_bin_and_nan():
    outside = numpy.array([[0, 10, 10, 12, 12.0]])
    values, index = reference.roi_pool_forward(X, outside, 1.0, (1, 1))
    assert values[0, 0, 0, 0] == 0 and index[0, 0, 0, 0] == -1
    x = X.copy()
    x[0, 0, 3, 3] = numpy.nan              # a NaN never wins
    values, index = reference.roi_pool_forward(x, WHOLE, 1.0, (1, 1))
    assert values[0, 0, 0, 0] == 14 and index[0, 0, 0, 0] == 14
