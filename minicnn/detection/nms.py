"""Non-maximum suppression: of many overlapping detections of one object, keep the best.

    nms(boxes, scores, iou_threshold)
        Greedy, as in torchvision: take the highest-scoring box left, keep it, and drop every
        remaining box whose IoU with it is strictly greater than iou_threshold; repeat.
        Boxes of equal score are taken in input order (a stable sort), so the result does
        not depend on the sorting algorithm. Returns the kept indices, highest score first.

    batched_nms(boxes, scores, idxs, iou_threshold)
        The same within each category idxs[i]: boxes of different categories never
        suppress one another. The kept indices of all categories, highest score first
        (ties in input order).

Boxes are (N, 4) xyxy, scores (N,), as NumPy or CuPy arrays or Tensors; the indices come
back as a NumPy int64 array. A NaN coordinate or score is refused: a NaN compares false
with everything and would be kept or dropped by accident.
"""
import numpy

from .boxes import as_numpy, check_boxes

__all__ = ["batched_nms", "nms"]


def _check(op, boxes, scores, idxs=None):
    check_boxes(op, "boxes", boxes)
    boxes, scores = as_numpy(boxes), as_numpy(scores)
    if scores.ndim != 1 or len(scores) != len(boxes):
        raise ValueError(f"{op}: scores must have one entry per box, got scores of shape "
                         f"{scores.shape} for {len(boxes)} boxes")
    if numpy.isnan(scores).any():
        raise ValueError(f"{op}: scores holds a NaN (score {int(numpy.flatnonzero(numpy.isnan(scores))[0])})")
    if idxs is None:
        return boxes, scores
    idxs = as_numpy(idxs)
    if idxs.shape != scores.shape:
        raise ValueError(f"{op}: idxs must have one category per box, got shape {idxs.shape} "
                         f"for {len(boxes)} boxes")
    return boxes, scores, idxs


def _overlapping(rows, boxes, iou_threshold):
    """(R, N) bool: IoU of each of R boxes with each of N boxes > iou_threshold, written as
    intersection > threshold x union (no division: two zero-area boxes, 0 > 0, do not
    overlap, as their IoU 0/0 = NaN would not exceed the threshold either). Plain NumPy, one
    coordinate at a time: through Tensor ops (boxes.box_iou) NMS of 10,000 boxes took 70
    times as long."""
    width = numpy.minimum(rows[:, None, 2], boxes[None, :, 2]) - numpy.maximum(rows[:, None, 0], boxes[None, :, 0])
    height = numpy.minimum(rows[:, None, 3], boxes[None, :, 3]) - numpy.maximum(rows[:, None, 1], boxes[None, :, 1])
    inter = numpy.clip(width, 0, None) * numpy.clip(height, 0, None)
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter > iou_threshold * (area(rows)[:, None] + area(boxes)[None, :] - inter)


def _greedy(boxes, scores, iou_threshold, block=256):
    """The kept indices, in descending score. Boxes are taken `block` at a time: the overlaps
    of those still standing with every box still standing after them are computed in one
    vectorised step, and the sweep walks the block in order, keeping each box no kept box
    has removed and removing what it overlaps."""
    order = numpy.argsort(-scores, kind="stable")
    boxes = boxes[order].astype(numpy.float64)
    removed = numpy.zeros(len(boxes), bool)
    keep = []
    for start in range(0, len(boxes), block):
        rows = start + numpy.flatnonzero(~removed[start:start + block])
        columns = start + numpy.flatnonzero(~removed[start:])
        overlaps = _overlapping(boxes[rows], boxes[columns], iou_threshold)
        for row, i in enumerate(rows):
            if not removed[i]:
                keep.append(i)
                removed[columns[overlaps[row]]] = True
    return order[numpy.asarray(keep, dtype=numpy.int64)]


def nms(boxes, scores, iou_threshold):
    """Indices of the boxes greedy NMS keeps, highest score first (see the module docstring)."""
    boxes, scores = _check("nms", boxes, scores)
    return _greedy(boxes, scores, float(iou_threshold))


def batched_nms(boxes, scores, idxs, iou_threshold):
    """NMS within each category idxs[i]; the kept indices, highest score first."""
    boxes, scores, idxs = _check("batched_nms", boxes, scores, idxs)
    kept = [members[_greedy(boxes[members], scores[members], float(iou_threshold))]
            for members in (numpy.flatnonzero(idxs == category) for category in numpy.unique(idxs))]
    kept = numpy.concatenate(kept) if kept else numpy.zeros(0, numpy.int64)
    # Sorting the kept indices first makes the stable sort by score break ties in input order.
    kept = numpy.sort(kept)
    return kept[numpy.argsort(-scores[kept], kind="stable")].astype(numpy.int64)
