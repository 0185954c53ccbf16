"""Boxes: areas, overlaps, formats and clipping of axis-aligned boxes, torchvision's semantics.

A box is four numbers (x0, y0, x1, y1) in pixels, x to the right and y down ('xyxy'), with
x0 <= x1 and y0 <= y1. Corners lie on pixel edges, so the box (0, 0, 4, 2) covers the
pixels of columns 0..3 and rows 0..1 and its area is (x1 - x0)(y1 - y0) = 8, with no '+1'
(torchvision's convention since 0.3; py-faster-rcnn's inclusive corners are in anchors.py).

    box_area(b)              (x1 - x0)(y1 - y0)                              (N, 4) -> (N,)
    box_iou(a, b)            |a n b| / |a u b|                     (N, 4), (M, 4) -> (N, M)
    generalized_box_iou(a, b)  IoU - |C \\ (a u b)| / |C|, C the smallest box around both,
                             in [-1, 1]; 1 for equal boxes, -> -1 far apart  -> (N, M)
    box_convert(b, in_fmt, out_fmt)   between 'xyxy', 'xywh' (x0, y0, w, h) and
                             'cxcywh' (centre x, centre y, w, h)
    clip_boxes_to_image(b, (H, W))    corners clamped into [0, W] x [0, H]
    remove_small_boxes(b, min_size)   indices of the boxes with both sides >= min_size

Each function takes an (N, 4) NumPy or CuPy array or a Tensor and returns the same kind,
from one definition (tensors_or_arrays): on Tensors it runs functional's ops, so the results
are differentiable and an IoU can be a loss; on arrays, NumPy's (or CuPy's) own. The IoU of two zero-area boxes is 0/0 = NaN, as in torchvision; detection
targets never hold such boxes (check_target_boxes refuses them).
"""
import functools
import numbers

import numpy

from .. import functional as F
from ..autograd import Tensor
from ..backend import array_module, is_cupy_array, to_numpy

__all__ = ["box_area", "box_convert", "box_iou", "box_intersection", "check_boxes",
           "clip_boxes_to_image", "generalized_box_iou", "remove_small_boxes"]

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")


class ArrayOps:
    """The functional ops the box functions use, on plain arrays of module xp (NumPy or
    CuPy), with functional's names. Arrays need no graph, and NumPy's own functions run ten
    to twenty times faster than the same steps as Tensor ops."""

    def __init__(self, xp):
        self.xp = xp

    def maximum(self, a, b):
        return self.xp.maximum(a, b)

    def minimum(self, a, b):
        return self.xp.minimum(a, b)

    def clamp(self, x, min=None, max=None):
        return self.xp.clip(x, min, max)

    def stack(self, arrays, dim=0):
        return self.xp.stack(arrays, axis=dim)

    def exp(self, x):
        return self.xp.exp(x)

    def log(self, x):
        return self.xp.log(x)


def tensors_or_arrays(function):
    """One definition for both kinds: `function(ops, *args)` is written with ops.maximum,
    ops.stack, ... and gets functional (a graph is recorded) when an argument is a Tensor,
    ArrayOps when they are all arrays."""
    @functools.wraps(function)
    def run(*args, **kwargs):
        if any(isinstance(a, Tensor) for a in args):
            return function(F, *args, **kwargs)
        with numpy.errstate(invalid="ignore", divide="ignore"):    # 0/0: NaN, as on Tensors
            return function(ArrayOps(array_module(*(a for a in args if _is_array(a)))),
                            *args, **kwargs)
    return run


def _is_array(value):
    return isinstance(value, numpy.ndarray) or is_cupy_array(value)


def as_numpy(value):
    """A Tensor's or array's values as a NumPy array (a copy from the GPU)."""
    return to_numpy(value.data if isinstance(value, Tensor) else value)


def check_boxes(op, name, boxes, ordered=True):
    """Refuse anything but a finite (N, 4) box array whose corners are in order (x0 <= x1,
    y0 <= y1 when `ordered`); the message names the first bad box. Returns `boxes`."""
    data = boxes.data if isinstance(boxes, Tensor) else boxes
    if not hasattr(data, "shape"):
        raise TypeError(f"{op}: {name} must be an (N, 4) array or Tensor, got "
                        f"{type(boxes).__name__}")
    if data.ndim != 2 or data.shape[1] != 4:
        raise ValueError(f"{op}: {name} must have shape (N, 4), got {tuple(data.shape)}")
    values = as_numpy(data)
    finite = numpy.isfinite(values).all(axis=1)
    if not finite.all():
        row = int(numpy.flatnonzero(~finite)[0])
        raise ValueError(f"{op}: {name} holds a NaN or infinite coordinate (box {row}: "
                         f"{values[row].tolist()})")
    if ordered:
        reversed_ = (values[:, 2] < values[:, 0]) | (values[:, 3] < values[:, 1])
        if reversed_.any():
            row = int(numpy.flatnonzero(reversed_)[0])
            raise ValueError(f"{op}: {name} must be (x0, y0, x1, y1) with x0 <= x1 and y0 <= y1; "
                             f"box {row} is {values[row].tolist()}")
    return boxes


@tensors_or_arrays
def _area(ops, boxes):
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_area(boxes):
    """(x1 - x0)(y1 - y0) of each box: (N, 4) -> (N,)."""
    return _area(check_boxes("box_area", "boxes", boxes))


@tensors_or_arrays
def _intersection(ops, boxes1, boxes2):
    top_left = ops.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    bottom_right = ops.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    sides = ops.clamp(bottom_right - top_left, min=0)
    return sides[:, :, 0] * sides[:, :, 1]


def box_intersection(boxes1, boxes2):
    """|a n b| of every pair: (N, 4), (M, 4) -> (N, M). The overlap's sides are
    min(x1) - max(x0) and min(y1) - max(y0), 0 where they would be negative."""
    return _intersection(check_boxes("box_intersection", "boxes1", boxes1),
                         check_boxes("box_intersection", "boxes2", boxes2))


@tensors_or_arrays
def _iou(ops, boxes1, boxes2):
    inter = _intersection(boxes1, boxes2)
    union = _area(boxes1)[:, None] + _area(boxes2)[None, :] - inter
    return inter / union, union


def box_iou(boxes1, boxes2):
    """Intersection over union of every pair: (N, 4), (M, 4) -> (N, M), in [0, 1]."""
    op = "box_iou"
    return _iou(check_boxes(op, "boxes1", boxes1), check_boxes(op, "boxes2", boxes2))[0]


@tensors_or_arrays
def _generalized_iou(ops, boxes1, boxes2):
    iou, union = _iou(boxes1, boxes2)
    top_left = ops.minimum(boxes1[:, None, :2], boxes2[None, :, :2])
    bottom_right = ops.maximum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    sides = bottom_right - top_left
    hull = sides[:, :, 0] * sides[:, :, 1]
    return iou - (hull - union) / hull


def generalized_box_iou(boxes1, boxes2):
    """GIoU (Rezatofighi et al. 2019) of every pair: IoU - (|C| - |a u b|) / |C|, with C the
    smallest box holding both; (N, 4), (M, 4) -> (N, M) in [-1, 1]. Unlike the IoU it still
    says how far apart two disjoint boxes are, which gives an IoU loss a gradient there."""
    op = "generalized_box_iou"
    return _generalized_iou(check_boxes(op, "boxes1", boxes1), check_boxes(op, "boxes2", boxes2))


@tensors_or_arrays
def _convert(ops, boxes, in_fmt, out_fmt):
    a, b, c, d = (boxes[:, k] for k in range(4))
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    return ops.stack([a, b, c, d], dim=1)


def box_convert(boxes, in_fmt, out_fmt):
    """Boxes from one format to another; the formats are 'xyxy' (x0, y0, x1, y1), 'xywh'
    (x0, y0, width, height, COCO's) and 'cxcywh' (centre x, centre y, width, height)."""
    for name, fmt in (("in_fmt", in_fmt), ("out_fmt", out_fmt)):
        if fmt not in BOX_FORMATS:
            raise ValueError(f"box_convert: {name} must be one of {', '.join(BOX_FORMATS)}, "
                             f"got {fmt!r}")
    check_boxes("box_convert", "boxes", boxes, ordered=False)
    return boxes if in_fmt == out_fmt else _convert(boxes, in_fmt, out_fmt)


@tensors_or_arrays
def _clip(ops, boxes, height, width):
    x = ops.clamp(boxes[:, 0::2], min=0, max=width)
    y = ops.clamp(boxes[:, 1::2], min=0, max=height)
    return ops.stack([x[:, 0], y[:, 0], x[:, 1], y[:, 1]], dim=1)


def clip_boxes_to_image(boxes, size):
    """Clamp x into [0, width] and y into [0, height]; `size` is (height, width), as in
    torchvision. A box wholly outside becomes a zero-width or zero-height box on the edge."""
    check_boxes("clip_boxes_to_image", "boxes", boxes)
    if (len(size) != 2 or not all(isinstance(s, numbers.Real) and s > 0 for s in size)):
        raise ValueError(f"clip_boxes_to_image: size must be (height, width) with both "
                         f"positive, got {size!r}")
    return _clip(boxes, float(size[0]), float(size[1]))


def remove_small_boxes(boxes, min_size):
    """Indices (int64, NumPy) of the boxes whose width and height are both >= min_size."""
    values = as_numpy(check_boxes("remove_small_boxes", "boxes", boxes))
    sides = values[:, 2:] - values[:, :2]
    return numpy.flatnonzero((sides >= min_size).all(axis=1)).astype(numpy.int64)
