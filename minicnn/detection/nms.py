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


def _greedy(boxes, scores, iou_threshold):
    """The kept indices, in descending score; the plain loop of py-faster-rcnn's py_cpu_nms:
    each kept box removes its overlapping followers from the queue in one vectorised step."""
    order = numpy.argsort(-scores, kind="stable")
    x0, y0, x1, y1 = boxes.astype(numpy.float64).T
    areas = (x1 - x0) * (y1 - y0)
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        width = numpy.clip(numpy.minimum(x1[best], x1[rest]) - numpy.maximum(x0[best], x0[rest]), 0, None)
        height = numpy.clip(numpy.minimum(y1[best], y1[rest]) - numpy.maximum(y0[best], y0[rest]), 0, None)
        inter = width * height
        with numpy.errstate(invalid="ignore", divide="ignore"):
            iou = inter / (areas[best] + areas[rest] - inter)
        # Two zero-area boxes have IoU 0/0 = NaN, which is not > threshold: both are kept.
        order = rest[~(iou > iou_threshold)]
    return numpy.asarray(keep, dtype=numpy.int64)


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
