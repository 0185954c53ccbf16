"""Ground truth as the detectors take it, checked once at the door.

A batch's targets are two lists with one entry per image: boxes (K_i, 4) xyxy in pixels and
labels (K_i,) class indices in 0..num_classes-1 (Tensors or arrays). An image with no
objects (K_i = 0) is valid: all its anchors become background. Boxes may reach past the
image. Refused, with the image and box named: lists of other lengths than the batch,
boxes that are not (K, 4), NaN or infinite coordinates, boxes of zero or negative width or
height (x1 <= x0: their IoU is undefined and their codes are log(0)), labels that are not
integers in range, and labels and boxes of different lengths.
"""
import numpy

from .boxes import as_numpy, check_boxes

__all__ = ["check_targets"]


def check_targets(op, boxes, labels, batch, num_classes):
    """[(K_i, 4) float64 boxes], [(K_i,) int64 labels] on the host, checked."""
    if len(boxes) != batch or len(labels) != batch:
        raise ValueError(f"{op}: boxes and labels need one entry per image of the batch of "
                         f"{batch}, got {len(boxes)} and {len(labels)}")
    checked_boxes, checked_labels = [], []
    for i, (image_boxes, image_labels) in enumerate(zip(boxes, labels)):
        image_boxes = as_numpy(image_boxes).astype(numpy.float64)
        if image_boxes.size == 0:
            image_boxes = image_boxes.reshape(0, 4)
        check_boxes(op, f"boxes[{i}]", image_boxes)
        sides = image_boxes[:, 2:] - image_boxes[:, :2]
        if (sides <= 0).any():
            row = int(numpy.flatnonzero((sides <= 0).any(axis=1))[0])
            raise ValueError(f"{op}: boxes[{i}] box {row} has no area: {image_boxes[row].tolist()}")
        image_labels = as_numpy(image_labels).reshape(-1)
        if len(image_labels) != len(image_boxes):
            raise ValueError(f"{op}: image {i} has {len(image_boxes)} boxes but "
                             f"{len(image_labels)} labels")
        if image_labels.size and (image_labels.dtype.kind not in "iu" or image_labels.min() < 0
                                  or image_labels.max() >= num_classes):
            raise ValueError(f"{op}: labels[{i}] must be class indices in 0..{num_classes - 1}, "
                             f"got {image_labels.tolist()}")
        checked_boxes.append(image_boxes)
        checked_labels.append(image_labels.astype(numpy.int64))
    return checked_boxes, checked_labels
