"""RoIAlign and RoIPool as their definitions (torchvision's semantics), one RoI at a time.

The RoIs are rows (n, x0, y0, x1, y1): image n of the batch and a box in input pixels,
which `spatial_scale` maps onto the feature map (1/16 for a stride-16 map).

RoIAlign (He et al. 2017) divides the scaled box into out_h x out_w bins and averages, in
each bin, a grid of g_h x g_w bilinearly interpolated samples at the grid cells' centres:

    offset = 0.5 if aligned else 0;     y0' = y0 * scale - offset,  h' = y1 * scale - offset - y0'
    h' = max(h', 1) unless aligned;     bin_h = h' / out_h;   g_h = sampling_ratio, or
    ceil(h' / out_h) when sampling_ratio <= 0 (adaptive); the same along x; and

    y[k, c, i, j] = 1 / (g_h g_w) sum_{a < g_h, b < g_w} bilinear(x[n, c], Y_ia, X_jb),
    Y_ia = y0' + i bin_h + (a + 1/2) bin_h / g_h,     X_jb likewise.

aligned=True shifts by half a pixel so that pixel centres sit at integer + 1/2 (the
box (0, 0, 1, 1) covers pixel 0 exactly); aligned=False is the original paper's quirk.
bilinear() reads 0 for a sample more than one pixel outside (y < -1 or y > H), clamps
y <= 0 to 0 and y >= H - 1 to H - 1, and otherwise mixes rows floor(y) and floor(y) + 1
with weights 1 - (y - floor y) and y - floor y; the same along x.

Both the weights and the outside test factor into a part along y and a part along x, so
for one RoI the whole output is two small matrix products, which is how it is written
here:  y[k, c] = R_y x[n, c] R_x^T  with R_y (out_h, H) holding the averaged weights of
each output row, and the backward pass is the transposed map, gx[n, c] += R_y^T gy[k, c] R_x.

The RoI geometry (corners, bin sizes, sample positions) is computed in float64 whatever the
data's dtype, here and in the fast kernels; torchvision computes it in the data's dtype,
which moves float32 sample positions by a rounding error.

RoIPool (Fast R-CNN) rounds the scaled box to whole pixels, x0' = round(x0 scale) (half
away from zero, C's round), w' = max(x1' - x0' + 1, 1), cuts it into bins
[floor(j b), ceil((j + 1) b)) + x0' with b = w' / out_w, clipped to the map, and takes the max
of each bin: the first largest in row-major order (a NaN never wins); an empty bin gives 0
and index -1.
"""
import math

import numpy

from ...backend import array_module


def _bilinear_matrix(start, bin_size, bins, grid, size):
    """R (bins, size): row i holds the average over the grid's samples of each sample's
    bilinear weights on positions 0..size-1 (module docstring)."""
    matrix = numpy.zeros((bins, size))
    for i in range(bins):
        for a in range(grid):
            y = start + i * bin_size + (a + 0.5) * bin_size / grid
            if y < -1.0 or y > size:
                continue                       # the sample lies outside: it reads 0
            y = max(y, 0.0)
            low = int(y)
            if low >= size - 1:
                low = high = size - 1
                y = float(low)
            else:
                high = low + 1
            matrix[i, low] += (1 - (y - low)) / grid
            matrix[i, high] += (y - low) / grid
    return matrix


def _roi_matrices(roi, spatial_scale, output_size, sampling_ratio, aligned, height, width):
    """(image index, R_y (out_h, H), R_x (out_w, W)) of one RoI row."""
    out_h, out_w = output_size
    offset = 0.5 if aligned else 0.0
    x0, y0, x1, y1 = (float(v) * spatial_scale - offset for v in roi[1:])
    roi_w, roi_h = x1 - x0, y1 - y0
    if not aligned:
        roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
    grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_h / out_h)
    grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_w / out_w)
    rows = _bilinear_matrix(y0, roi_h / out_h, out_h, max(grid_h, 0), height)
    cols = _bilinear_matrix(x0, roi_w / out_w, out_w, max(grid_w, 0), width)
    return int(roi[0]), rows, cols


def roi_align_forward(x, rois, spatial_scale, output_size, sampling_ratio, aligned):
    """x (N, C, H, W), rois (K, 5) -> y (K, C, out_h, out_w) = R_y x[n] R_x^T per RoI."""
    xp = array_module(x)
    y = xp.zeros((len(rois), x.shape[1]) + tuple(output_size), x.dtype)
    for k, roi in enumerate(rois.tolist()):
        n, rows, cols = _roi_matrices(roi, spatial_scale, output_size, sampling_ratio, aligned,
                                      *x.shape[2:])
        y[k] = xp.asarray(rows, x.dtype) @ x[n] @ xp.asarray(cols.T, x.dtype)
    return y


def roi_align_backward(gy, rois, spatial_scale, sampling_ratio, aligned, input_shape):
    """gy (K, C, out_h, out_w) -> gx (N, C, H, W) = sum over RoIs of R_y^T gy[k] R_x."""
    xp = array_module(gy)
    gx = xp.zeros(tuple(input_shape), gy.dtype)
    for k, roi in enumerate(rois.tolist()):
        n, rows, cols = _roi_matrices(roi, spatial_scale, gy.shape[2:], sampling_ratio, aligned,
                                      *input_shape[2:])
        gx[n] += xp.asarray(rows.T, gy.dtype) @ gy[k] @ xp.asarray(cols, gy.dtype)
    return gx


def _round_half_away(value):
    return math.floor(value + 0.5) if value >= 0 else math.ceil(value - 0.5)


def roi_pool_forward(x, rois, spatial_scale, output_size):
    """x (N, C, H, W), rois (K, 5) -> (values (K, C, out_h, out_w), index int64 of the same
    shape: h W + w of each bin's max within its plane, -1 for an empty bin)."""
    xp = array_module(x)
    height, width = x.shape[2:]
    out_h, out_w = output_size
    values = xp.zeros((len(rois), x.shape[1], out_h, out_w), x.dtype)
    index = xp.full(values.shape, -1, xp.int64)
    for k, roi in enumerate(rois.tolist()):
        n = int(roi[0])
        x0, y0, x1, y1 = (_round_half_away(float(v) * spatial_scale) for v in roi[1:])
        bin_h, bin_w = max(y1 - y0 + 1, 1) / out_h, max(x1 - x0 + 1, 1) / out_w
        for i in range(out_h):
            top = min(max(math.floor(i * bin_h) + y0, 0), height)
            bottom = min(max(math.ceil((i + 1) * bin_h) + y0, 0), height)
            for j in range(out_w):
                left = min(max(math.floor(j * bin_w) + x0, 0), width)
                right = min(max(math.ceil((j + 1) * bin_w) + x0, 0), width)
                if bottom <= top or right <= left:
                    continue
                window = x[n, :, top:bottom, left:right].reshape(x.shape[1], -1)   # row-major
                # NaN never wins (torchvision compares value > max): treat it as -inf; a bin
                # with nothing above -FLT_MAX keeps -FLT_MAX and index -1, as torchvision.
                finite = xp.where(xp.isnan(window), -xp.inf, window)
                best = finite.argmax(axis=1)
                found = finite.max(axis=1) > -numpy.finfo(numpy.float32).max
                columns = right - left
                values[k, :, i, j] = xp.where(found, finite[xp.arange(len(best)), best],
                                              -numpy.finfo(numpy.float32).max)
                index[k, :, i, j] = xp.where(found, (top + best // columns) * width + left + best % columns, -1)
    return values, index
