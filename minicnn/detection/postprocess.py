"""From a detector's scores and boxes to its detections, as torchvision's detectors do it:

    1. boxes clipped to the image; candidates scoring <= score_threshold dropped, and boxes
       narrower or lower than min_size;
    2. per class, at most topk_candidates of the best candidates kept (NMS is quadratic);
    3. non-maximum suppression within each class (batched_nms, IoU > nms_threshold);
    4. the detections_per_image highest scores kept: an image never returns more, however
       many objects it shows (documented, not an error).

Detections are one dict per image, on the host: boxes float32 (D, 4) xyxy in image pixels,
scores float32 (D,), labels int64 (D,) class indices, by descending score.
"""
import numpy

from .boxes import clip_boxes_to_image
from .nms import batched_nms

__all__ = ["empty_detections", "select_detections"]


def empty_detections():
    return {"boxes": numpy.zeros((0, 4), numpy.float32), "scores": numpy.zeros(0, numpy.float32),
            "labels": numpy.zeros(0, numpy.int64)}


def select_detections(boxes, scores, image_size, score_threshold=0.05, nms_threshold=0.5,
                      topk_candidates=200, detections_per_image=100, min_size=1e-2):
    """boxes (A, 4) shared by every class or (A, K, 4) one per class, scores (A, K) of K
    classes (no background column) for one image of image_size (height, width)."""
    scores = numpy.asarray(scores, numpy.float32)
    anchors, classes = scores.shape
    boxes = numpy.broadcast_to(numpy.asarray(boxes, numpy.float32).reshape(anchors, -1, 4),
                               (anchors, classes, 4)).reshape(-1, 4)
    boxes = clip_boxes_to_image(numpy.ascontiguousarray(boxes), image_size)
    scores, labels = scores.reshape(-1), numpy.tile(numpy.arange(classes), anchors)
    sides = boxes[:, 2:] - boxes[:, :2]
    keep = numpy.flatnonzero((scores > score_threshold) & (sides >= min_size).all(axis=1))
    kept = []
    for label in range(classes):
        members = keep[labels[keep] == label]
        kept.append(members[numpy.argsort(-scores[members], kind="stable")[:topk_candidates]])
    keep = numpy.sort(numpy.concatenate(kept))
    if keep.size == 0:
        return empty_detections()
    keep = keep[batched_nms(boxes[keep], scores[keep], labels[keep], nms_threshold)][:detections_per_image]
    return {"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep].astype(numpy.int64)}
