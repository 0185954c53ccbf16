"""BoxCoder: a box as offsets from an anchor, the numbers a detector's regression head learns.

For an anchor with centre (xa, ya) and size (wa, ha) and a box with centre (x, y) and size
(w, h), with weights (wx, wy, ww, wh), torchvision's (and Faster R-CNN's) encoding is

    dx = wx (x - xa) / wa     dy = wy (y - ya) / ha     dw = ww log(w / wa)     dh = wh log(h / ha)

and decode inverts it: x = xa + wa dx / wx, w = wa exp(dw / ww), .... Dividing by the
anchor's size makes the offsets scale-free; the logarithm makes growing and shrinking
symmetric. The default weights (10, 10, 5, 5) are SSD's 'variances' 0.1 and 0.2 written as
their inverses: they bring the offsets of matched anchors to about unit spread. decode
clamps dw / ww and dh / wh at log(1000 / 16), as torchvision does, so that an untrained
head cannot make exp() overflow (no box grows more than 62.5 times its anchor).

codes and boxes are (N, 4) for one box per anchor, or (N, 4 K) for one box per class per
anchor (Faster R-CNN's box head); anchors are (N, 4) xyxy. Arrays or Tensors, as in
boxes.py (decode of a Tensor is differentiable).
"""
import math

from .boxes import check_boxes, tensors_or_arrays

__all__ = ["BoxCoder"]

BBOX_XFORM_CLIP = math.log(1000.0 / 16)


class BoxCoder:
    def __init__(self, weights=(10.0, 10.0, 5.0, 5.0), bbox_xform_clip=BBOX_XFORM_CLIP):
        if len(weights) != 4 or not all(w > 0 for w in weights):
            raise ValueError(f"BoxCoder: weights must be four positive numbers, got {weights!r}")
        self.weights = tuple(float(w) for w in weights)
        self.bbox_xform_clip = bbox_xform_clip

    def encode(self, boxes, anchors):
        """The codes (N, 4) of boxes (N, 4) relative to their anchors (N, 4). Both need
        positive widths and heights (log of a zero width is -inf)."""
        _check_pair("BoxCoder.encode", "boxes", boxes, anchors, 4)
        return _encode(boxes, anchors, self.weights)

    def decode(self, codes, anchors):
        """The boxes (N, 4 K) that codes (N, 4 K) describe relative to anchors (N, 4)."""
        _check_pair("BoxCoder.decode", "codes", codes, anchors, None)
        return _decode(codes, anchors, self.weights, self.bbox_xform_clip)


def _check_pair(op, name, values, anchors, columns):
    check_boxes(op, "anchors", anchors)
    shape = tuple(values.shape)
    if len(shape) != 2 or shape[0] != anchors.shape[0] or shape[1] % 4 or shape[1] == 0 \
            or (columns and shape[1] != columns):
        wanted = f"({anchors.shape[0]}, {columns or '4 K'})"
        raise ValueError(f"{op}: {name} must have shape {wanted}, one row per anchor, got {shape}")


def _centres(boxes):
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + 0.5 * widths, boxes[:, 1] + 0.5 * heights, widths, heights


@tensors_or_arrays
def _encode(ops, boxes, anchors, weights):
    wx, wy, ww, wh = weights
    x, y, w, h = _centres(boxes)
    xa, ya, wa, ha = _centres(anchors)
    return ops.stack([wx * (x - xa) / wa, wy * (y - ya) / ha,
                      ww * ops.log(w / wa), wh * ops.log(h / ha)], dim=1)


@tensors_or_arrays
def _decode(ops, codes, anchors, weights, clip):
    wx, wy, ww, wh = weights
    xa, ya, wa, ha = (part[:, None] for part in _centres(anchors))
    x = codes[:, 0::4] / wx * wa + xa
    y = codes[:, 1::4] / wy * ha + ya
    half_w = 0.5 * ops.exp(ops.clamp(codes[:, 2::4] / ww, max=clip)) * wa
    half_h = 0.5 * ops.exp(ops.clamp(codes[:, 3::4] / wh, max=clip)) * ha
    boxes = ops.stack([x - half_w, y - half_h, x + half_w, y + half_h], dim=2)   # (N, K, 4)
    return boxes.reshape(codes.shape[0], -1)
