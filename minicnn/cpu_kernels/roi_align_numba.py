"""RoIAlign and RoIPool as Numba kernels, the fast twins of reference/roi_align.py (which
states the definitions and torchvision's semantics).

RoIAlign's samples factor into rows and columns: for one RoI, output row i reads, for each
of its g_h sample rows a, two feature rows low/high with weights (1 - l, l), or nothing when
the sample lies outside; output column j likewise. `_axis_samples` computes those once per
RoI and axis (out * g entries), and the loops then combine them, four reads per (a, b)
sample, exactly torchvision's pre_calc; the backward pass adds the same weights times the
output gradient into the input gradient.

Threads split the channels (`parallel_for`): each takes every RoI for its own channels, so
no two threads ever add into the same input-gradient element, and no atomics are needed.
"""
import math

import numpy
from numba import njit

from .threads import parallel_for

_WORK_PER_CHUNK = 1 << 14
_LOWEST = -numpy.finfo(numpy.float32).max        # torchvision's -FLT_MAX, for both dtypes


@njit(nogil=True, cache=True)
def _axis_samples(start, bin_size, bins, grid, size):
    """For each bin o and sample a (entry o * grid + a): the low and high feature index, their
    weights, and whether the sample reads the map at all (torchvision's bilinear_interpolate
    along one axis)."""
    count = bins * grid
    low = numpy.zeros(count, numpy.int64)
    high = numpy.zeros(count, numpy.int64)
    w_low = numpy.zeros(count)
    w_high = numpy.zeros(count)
    inside = numpy.zeros(count, numpy.bool_)
    for o in range(bins):
        for a in range(grid):
            y = start + o * bin_size + (a + 0.5) * bin_size / grid
            e = o * grid + a
            if y < -1.0 or y > size:
                continue
            y = max(y, 0.0)
            lo = int(y)
            if lo >= size - 1:
                lo = size - 1
                hi = lo
                y = float(lo)
            else:
                hi = lo + 1
            low[e], high[e] = lo, hi
            w_low[e], w_high[e] = 1.0 - (y - lo), y - lo
            inside[e] = True
    return low, high, w_low, w_high, inside


@njit(nogil=True, cache=True)
def _geometry(roi, spatial_scale, out_h, out_w, sampling_ratio, aligned):
    """(y0, x0, bin_h, bin_w, grid_h, grid_w) of one RoI row, in float64."""
    offset = 0.5 if aligned else 0.0
    x0 = roi[1] * spatial_scale - offset
    y0 = roi[2] * spatial_scale - offset
    roi_w = roi[3] * spatial_scale - offset - x0
    roi_h = roi[4] * spatial_scale - offset - y0
    if not aligned:
        roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
    grid_h = sampling_ratio if sampling_ratio > 0 else int(math.ceil(roi_h / out_h))
    grid_w = sampling_ratio if sampling_ratio > 0 else int(math.ceil(roi_w / out_w))
    return y0, x0, roi_h / out_h, roi_w / out_w, max(grid_h, 0), max(grid_w, 0)


@njit(nogil=True, cache=True)
def _roi_align(x, rois, spatial_scale, sampling_ratio, aligned, y, gy, gx, backward, first, last):
    """Forward: y[k, c, i, j] = mean of the bilinear samples of bin (i, j) of RoI k.
    Backward (backward=True): gx[n, c, ., .] += gy[k, c, i, j] * each sample's four weights
    / (g_h g_w). Channels [first, last) only."""
    height, width = (gx.shape[2], gx.shape[3]) if backward else (x.shape[2], x.shape[3])
    out_h, out_w = (gy.shape[2], gy.shape[3]) if backward else (y.shape[2], y.shape[3])
    for k in range(rois.shape[0]):
        n = int(rois[k, 0])
        y0, x0, bin_h, bin_w, grid_h, grid_w = _geometry(rois[k], spatial_scale, out_h, out_w,
                                                         sampling_ratio, aligned)
        r_low, r_high, r_wl, r_wh, r_in = _axis_samples(y0, bin_h, out_h, grid_h, height)
        c_low, c_high, c_wl, c_wh, c_in = _axis_samples(x0, bin_w, out_w, grid_w, width)
        count = max(grid_h * grid_w, 1)
        for c in range(first, last):
            for i in range(out_h):
                for j in range(out_w):
                    total = 0.0
                    share = gy[k, c, i, j] / count if backward else 0.0
                    for a in range(i * grid_h, (i + 1) * grid_h):
                        if not r_in[a]:
                            continue
                        for b in range(j * grid_w, (j + 1) * grid_w):
                            if not c_in[b]:
                                continue
                            w1, w2 = r_wl[a] * c_wl[b], r_wl[a] * c_wh[b]
                            w3, w4 = r_wh[a] * c_wl[b], r_wh[a] * c_wh[b]
                            if backward:
                                gx[n, c, r_low[a], c_low[b]] += w1 * share
                                gx[n, c, r_low[a], c_high[b]] += w2 * share
                                gx[n, c, r_high[a], c_low[b]] += w3 * share
                                gx[n, c, r_high[a], c_high[b]] += w4 * share
                            else:
                                total += (w1 * x[n, c, r_low[a], c_low[b]]
                                          + w2 * x[n, c, r_low[a], c_high[b]]
                                          + w3 * x[n, c, r_high[a], c_low[b]]
                                          + w4 * x[n, c, r_high[a], c_high[b]])
                    if not backward:
                        y[k, c, i, j] = total / count


@njit(nogil=True, cache=True)
def _round_half_away(value):
    return math.floor(value + 0.5) if value >= 0 else math.ceil(value - 0.5)


@njit(nogil=True, cache=True)
def _roi_pool(x, rois, spatial_scale, values, index, first, last):
    """values[k, c, i, j] = max of bin (i, j) of RoI k in x[n, c], index = h W + w of the
    first max (row-major), 0 and -1 for an empty bin. Channels [first, last) only."""
    height, width = x.shape[2], x.shape[3]
    out_h, out_w = values.shape[2], values.shape[3]
    for k in range(rois.shape[0]):
        n = int(rois[k, 0])
        x0 = _round_half_away(rois[k, 1] * spatial_scale)
        y0 = _round_half_away(rois[k, 2] * spatial_scale)
        bin_w = max(_round_half_away(rois[k, 3] * spatial_scale) - x0 + 1, 1) / out_w
        bin_h = max(_round_half_away(rois[k, 4] * spatial_scale) - y0 + 1, 1) / out_h
        for i in range(out_h):
            top = min(max(int(math.floor(i * bin_h)) + y0, 0), height)
            bottom = min(max(int(math.ceil((i + 1) * bin_h)) + y0, 0), height)
            for j in range(out_w):
                left = min(max(int(math.floor(j * bin_w)) + x0, 0), width)
                right = min(max(int(math.ceil((j + 1) * bin_w)) + x0, 0), width)
                empty = bottom <= top or right <= left
                for c in range(first, last):
                    best = 0.0 if empty else _LOWEST
                    best_at = -1
                    for h in range(top, bottom):
                        for w in range(left, right):
                            if x[n, c, h, w] > best:
                                best = x[n, c, h, w]
                                best_at = h * width + w
                    values[k, c, i, j] = best
                    index[k, c, i, j] = best_at


def _over_channels(kernel, channels, work_per_channel, *args):
    min_chunk = max(1, _WORK_PER_CHUNK // max(1, work_per_channel))
    parallel_for(lambda first, last: kernel(*args, first, last), channels, min_chunk)


def _rois(rois):
    return numpy.ascontiguousarray(rois, dtype=numpy.float64)


def roi_align_forward(x, rois, spatial_scale, output_size, sampling_ratio, aligned):
    """x (N, C, H, W), rois (K, 5) -> (K, C, out_h, out_w)."""
    y = numpy.zeros((len(rois), x.shape[1]) + tuple(output_size), x.dtype)
    _over_channels(_roi_align, x.shape[1], y[:, 0].size * 16, numpy.ascontiguousarray(x),
                   _rois(rois), float(spatial_scale), int(sampling_ratio), bool(aligned), y, y,
                   x, False)
    return y


def roi_align_backward(gy, rois, spatial_scale, sampling_ratio, aligned, input_shape):
    """gy (K, C, out_h, out_w) -> gx of input_shape (N, C, H, W)."""
    gx = numpy.zeros(tuple(input_shape), gy.dtype)
    _over_channels(_roi_align, gy.shape[1], gy[:, 0].size * 16, gx, _rois(rois),
                   float(spatial_scale), int(sampling_ratio), bool(aligned), gy,
                   numpy.ascontiguousarray(gy), gx, True)
    return gx


def roi_pool_forward(x, rois, spatial_scale, output_size):
    """x (N, C, H, W), rois (K, 5) -> (values, int64 index), both (K, C, out_h, out_w)."""
    values = numpy.zeros((len(rois), x.shape[1]) + tuple(output_size), x.dtype)
    index = numpy.full(values.shape, -1, numpy.int64)
    _over_channels(_roi_pool, x.shape[1], values[:, 0].size * 16, numpy.ascontiguousarray(x),
                   _rois(rois), float(spatial_scale), values, index)
    return values, index
