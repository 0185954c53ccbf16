"""Matching: which anchor is responsible for which ground-truth box, torchvision's Matcher.

The IoU of every ground-truth box (rows) with every anchor (columns) decides. Each anchor
takes the box it overlaps most (ties: the first box) and is

    positive   IoU >= high_threshold         matches[a] = index of that box
    negative   IoU <  low_threshold          matches[a] = BELOW_LOW_THRESHOLD (-1)
    ignored    in between                    matches[a] = BETWEEN_THRESHOLDS (-2)

A small or odd-shaped box may reach the high threshold with no anchor; so that every box is
learned by some anchor, the detectors add each box's best anchor:

    Matcher(..., allow_low_quality_matches=True)   (Faster R-CNN's RPN 0.7/0.3, RetinaNet
        0.5/0.4): every anchor whose IoU with some box equals that box's best IoU becomes
        positive for the box it overlaps most (its own argmax, as torchvision restores it).
        Unlike torchvision, a box that overlaps no anchor at all (best IoU 0) adds nothing;
        torchvision would make every anchor of IoU 0 with it positive.
    SSDMatcher(0.5): one threshold; then each box's best anchor (first on ties) is set to
        that box, whatever it matched before (a later box wins an anchor two boxes share).

With no ground-truth boxes every anchor is negative: an image without objects is a valid
training image, all background.
"""
import numpy

__all__ = ["BELOW_LOW_THRESHOLD", "BETWEEN_THRESHOLDS", "Matcher", "SSDMatcher"]

BELOW_LOW_THRESHOLD = -1
BETWEEN_THRESHOLDS = -2


class Matcher:
    def __init__(self, high_threshold, low_threshold, allow_low_quality_matches=False):
        if not low_threshold <= high_threshold:
            raise ValueError(f"Matcher: low_threshold {low_threshold} must not exceed "
                             f"high_threshold {high_threshold}")
        self.high_threshold, self.low_threshold = high_threshold, low_threshold
        self.allow_low_quality_matches = allow_low_quality_matches

    def __call__(self, iou):
        """iou (boxes M, anchors N) -> matches (N,) int64: a box index, -1 or -2."""
        iou = _check_iou(type(self).__name__, iou)
        if iou.shape[0] == 0:
            return numpy.full(iou.shape[1], BELOW_LOW_THRESHOLD, numpy.int64)
        best = iou.max(axis=0)
        nearest = iou.argmax(axis=0)
        matches = nearest.copy()
        matches[best < self.low_threshold] = BELOW_LOW_THRESHOLD
        matches[(best >= self.low_threshold) & (best < self.high_threshold)] = BETWEEN_THRESHOLDS
        if self.allow_low_quality_matches:
            best_per_box = iou.max(axis=1, keepdims=True)
            anchors = numpy.flatnonzero(((iou == best_per_box) & (best_per_box > 0)).any(axis=0))
            matches[anchors] = nearest[anchors]
        return matches


class SSDMatcher(Matcher):
    """Positive at IoU >= threshold, negative below, then each box's best anchor forced."""

    def __init__(self, threshold=0.5):
        super().__init__(threshold, threshold, allow_low_quality_matches=False)

    def __call__(self, iou):
        matches = super().__call__(iou)
        if len(iou):
            matches[numpy.asarray(iou).argmax(axis=1)] = numpy.arange(len(iou))
        return matches


def _check_iou(op, iou):
    iou = numpy.asarray(iou)
    if iou.ndim != 2:
        raise ValueError(f"{op}: iou must be a (boxes, anchors) matrix, got shape {iou.shape}")
    if iou.shape[1] == 0:
        raise ValueError(f"{op}: there are no anchors to match (iou has shape {iou.shape})")
    if numpy.isnan(iou).any():
        raise ValueError(f"{op}: iou holds a NaN (a ground-truth box of zero area?)")
    return iou
