"""Regions of interest: a fixed-size feature grid cut out of a feature map for each box, the
step that lets a two-stage detector classify proposals of any size (torchvision.ops).

    roi_align(input, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1, aligned=False)
        (N, C, H, W) -> (K, C, out_h, out_w): each bin the mean of bilinear samples (Mask
        R-CNN's RoIAlign, no rounding of the box); sampling_ratio <= 0 samples
        ceil(bin size) points per bin side; aligned=True takes pixel centres at +1/2.
    roi_pool(input, boxes, output_size, spatial_scale=1.0)
        the same shape from the max of each bin of the box rounded to whole pixels (Fast
        R-CNN's RoIPool).

boxes is a (K, 5) array or Tensor of rows (n, x0, y0, x1, y1), n the image in the batch, or
a list with one (L, 4) box array per image; coordinates are input pixels, which
spatial_scale maps onto the feature map. cpu_kernels/reference/roi_align.py states the exact
definitions (torchvision's); the Numba and CUDA kernels compute them (cpu_kernels/dispatch.py
picks one).

Gradients flow to `input` only (a box's coordinates get none, as in torchvision). RoIAlign
is linear in the input, y = A x, so dL/dx = A^T dL/dy (RoIAlignBackward) and that op's own
gradient is A again. RoIPool copies one input element into each bin: its gradient scatters
each bin's gradient back to where the max was found (ScatterPlanes from pool.py, whose own
gradient is the gather at the same positions).
"""
import math
import numbers
from dataclasses import dataclass

import numpy

from ..autograd import Function, Tensor
from ..backend import array_module, to_numpy
from ..cpu_kernels import dispatch as kernels
from .pool import ScatterPlanes

__all__ = ["roi_align", "roi_pool"]


@dataclass(frozen=True, eq=False)
class RoiGeometry:
    rois: numpy.ndarray          # (K, 5) float64 rows (n, x0, y0, x1, y1)
    spatial_scale: float
    output_size: tuple           # (out_h, out_w)
    sampling_ratio: int
    aligned: bool
    input_shape: tuple           # (N, C, H, W)


class RoIAlign(Function):
    """y[k, c, i, j] = mean of the bilinear samples of bin (i, j) of RoI k in x[n_k, c], a
    linear map y = A x.   dL/dx = A^T dL/dy = RoIAlignBackward(dL/dy).
    (N, C, H, W) -> (K, C, out_h, out_w)."""
    saved = {}                          # linear: its gradient reads no value

    def __init__(self, geometry):
        self.geometry = geometry

    def forward(self, x):
        g = self.geometry
        return kernels.roi_align_forward(x, g.rois, g.spatial_scale, g.output_size,
                                         g.sampling_ratio, g.aligned)

    def backward(self, gy):
        return RoIAlignBackward(self.geometry)(gy)


class RoIAlignBackward(Function):
    """gx = A^T gy: each output gradient shared out over its samples' pixels with their
    bilinear weights.   Its adjoint is A: dL/dgy = RoIAlign(dL/dgx).
    (K, C, out_h, out_w) -> (N, C, H, W)."""
    saved = {}

    def __init__(self, geometry):
        self.geometry = geometry

    def forward(self, gy):
        g = self.geometry
        return kernels.roi_align_backward(gy, g.rois, g.spatial_scale, g.sampling_ratio,
                                          g.aligned, g.input_shape)

    def backward(self, ggx):
        return RoIAlign(self.geometry)(ggx)


class RoIPool(Function):
    """y[k, c, i, j] = max of bin (i, j) of the rounded RoI k in x[n_k, c] (0 for an empty
    bin).   dL/dx: each bin's gradient added where its max was found.
    (N, C, H, W) -> (K, C, out_h, out_w)."""
    saved = {}                          # the positions of the maxima are kept in forward

    def __init__(self, geometry):
        self.geometry = geometry

    def forward(self, x):
        g = self.geometry
        values, index = kernels.roi_pool_forward(x, g.rois, g.spatial_scale, g.output_size)
        xp = array_module(x)
        channels, plane = x.shape[1], x.shape[2] * x.shape[3]
        image = xp.asarray(g.rois[:, 0].astype(numpy.int64))[:, None, None, None]
        found = (index >= 0).ravel()
        # Bins that found a max, and where that max sits in x flattened.
        self.found = xp.flatnonzero(found)
        self.source = ((image * channels + xp.arange(channels)[None, :, None, None]) * plane
                       + index).ravel()[self.found][None]
        return values

    def backward(self, gy):
        if self.found.size == 0:           # no bin found a max: nothing flows back
            return Tensor(array_module(gy.data).zeros(self.geometry.input_shape, gy.dtype))
        picked = gy.reshape(-1)[self.found]
        return ScatterPlanes(self.source, self.geometry.input_shape, picked.shape)(picked)


def roi_align(input, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1, aligned=False):
    """RoIAlign of `boxes` on `input`; see the module docstring."""
    if not isinstance(sampling_ratio, numbers.Integral):
        raise ValueError(f"roi_align: sampling_ratio must be an int (<= 0 for adaptive), got "
                         f"{sampling_ratio!r}")
    geometry = _geometry("roi_align", input, boxes, output_size, spatial_scale,
                         int(sampling_ratio), bool(aligned))
    return RoIAlign(geometry)(input)


def roi_pool(input, boxes, output_size, spatial_scale=1.0):
    """RoIPool of `boxes` on `input`; see the module docstring."""
    return RoIPool(_geometry("roi_pool", input, boxes, output_size, spatial_scale, 0, False))(input)


def _geometry(op, input, boxes, output_size, spatial_scale, sampling_ratio, aligned):
    shape = tuple(input.shape)
    if len(shape) != 4:
        raise ValueError(f"{op}: input must be a 4-D (N, C, H, W) feature map, got shape {shape}")
    sizes = (output_size,) * 2 if isinstance(output_size, numbers.Integral) else tuple(output_size)
    if len(sizes) != 2 or not all(isinstance(s, numbers.Integral) and s >= 1 for s in sizes):
        raise ValueError(f"{op}: output_size must be a positive int or (height, width), got "
                         f"{output_size!r}")
    if not (isinstance(spatial_scale, numbers.Real) and math.isfinite(spatial_scale)
            and spatial_scale > 0):
        raise ValueError(f"{op}: spatial_scale must be a positive number, got {spatial_scale!r}")
    return RoiGeometry(_rois(op, boxes, shape[0]), float(spatial_scale),
                       tuple(int(s) for s in sizes), sampling_ratio, aligned, shape)


def _host(array):
    return to_numpy(array.data if isinstance(array, Tensor) else array).astype(numpy.float64)


def _rois(op, boxes, batch):
    """(K, 5) float64 rows (n, x0, y0, x1, y1) on the host, checked."""
    if isinstance(boxes, (list, tuple)):
        per_image = [_host(b) for b in boxes]
        if any(b.ndim != 2 or b.shape[1] != 4 for b in per_image):
            raise ValueError(f"{op}: a list of boxes must hold one (L, 4) array per image, got "
                             f"shapes {[b.shape for b in per_image]}")
        rois = numpy.concatenate([numpy.concatenate([numpy.full((len(b), 1), n), b], axis=1)
                                  for n, b in enumerate(per_image)] or [numpy.zeros((0, 5))])
    else:
        rois = _host(boxes)
        if rois.ndim != 2 or rois.shape[1] != 5:
            raise ValueError(f"{op}: boxes must be (K, 5) rows (batch index, x0, y0, x1, y1) or "
                             f"a list of (L, 4) boxes per image, got shape {rois.shape}")
    bad = ~numpy.isfinite(rois).all(axis=1)
    if bad.any():
        row = int(numpy.flatnonzero(bad)[0])
        raise ValueError(f"{op}: box {row} holds a NaN or infinite value: {rois[row].tolist()}")
    image = rois[:, 0]
    bad = (image != numpy.round(image)) | (image < 0) | (image >= batch)
    if bad.any():
        row = int(numpy.flatnonzero(bad)[0])
        raise ValueError(f"{op}: box {row} names image {rois[row, 0]:g}, but the batch has "
                         f"images 0..{batch - 1}")
    bad = (rois[:, 3] < rois[:, 1]) | (rois[:, 4] < rois[:, 2])
    if bad.any():
        row = int(numpy.flatnonzero(bad)[0])
        raise ValueError(f"{op}: box {row} must have x0 <= x1 and y0 <= y1, got "
                         f"{rois[row, 1:].tolist()}")
    return numpy.ascontiguousarray(rois)
