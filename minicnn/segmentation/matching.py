"""Instance-level scores: how many nuclei were found as separate objects.

A predicted instance matches a true one when their intersection over union is at least
0.5. Above 0.5 a match is unique without any assignment step: each pixel belongs to one
instance on each side, so an instance can overlap more than half of its union with at most
one other. Exactly 0.5 allows a tie (a nucleus cut into two equal halves, each with IoU
0.5): the pairs are taken best first, each instance used once. Matched pairs are true
positives; unmatched predictions false positives, unmatched true instances false negatives:

    precision = TP / (TP + FP)    recall = TP / (TP + FN)    F1 = 2 TP / (2 TP + FP + FN)

Merging two touching nuclei into one costs two false negatives and a false positive (the
merged blob overlaps each by less than half); splitting is what the weight map is for.
"""
import numpy


def overlap_matrix(predicted, true):
    """IoU (T + 1, P + 1) between every true instance (rows) and predicted instance
    (columns) of two label maps of one shape; row and column 0 are the background."""
    predicted, true = numpy.asarray(predicted), numpy.asarray(true)
    if predicted.shape != true.shape:
        raise ValueError(f"overlap_matrix: predicted {predicted.shape} and true {true.shape} "
                         f"label maps must have the same shape")
    rows, columns = int(true.max(initial=0)) + 1, int(predicted.max(initial=0)) + 1
    intersection = numpy.bincount(true.ravel().astype(numpy.int64) * columns + predicted.ravel(),
                                  minlength=rows * columns).reshape(rows, columns)
    union = intersection.sum(1, keepdims=True) + intersection.sum(0, keepdims=True) - intersection
    return intersection / numpy.maximum(union, 1)


def match_instances(predicted, true, threshold=0.5):
    """(TP, FP, FN) of one image's predicted and true instance labels (0 = background)."""
    if threshold < 0.5:
        raise ValueError(f"match_instances: threshold must be >= 0.5, where matches are "
                         f"unique, got {threshold}")
    iou = overlap_matrix(predicted, true)[1:, 1:]
    true_used, predicted_used = set(), set()
    candidates = numpy.argwhere(iou >= threshold)
    for row, column in candidates[numpy.argsort(-iou[tuple(candidates.T)], kind="stable")]:
        if row not in true_used and column not in predicted_used:
            true_used.add(row)
            predicted_used.add(column)
    # Labels may skip numbers: only those present count as instances.
    true_count = len(numpy.setdiff1d(numpy.unique(true), [0]))
    predicted_count = len(numpy.setdiff1d(numpy.unique(predicted), [0]))
    matched = len(true_used)
    return matched, predicted_count - matched, true_count - matched


def instance_scores(predicted, true, threshold=0.5):
    """{"precision", "recall", "f1", "tp", "fp", "fn"} summed over images: predicted and
    true are sequences (or arrays (N, H, W)) of label maps. With nothing to find and
    nothing found a score is 1, as for Dice."""
    counts = numpy.zeros(3, numpy.int64)
    for ours, theirs in zip(predicted, true, strict=True):
        counts += match_instances(ours, theirs, threshold)
    tp, fp, fn = (int(c) for c in counts)
    ratio = lambda numerator, denominator: numerator / denominator if denominator else 1.0
    return {"precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn),
            "f1": ratio(2 * tp, 2 * tp + fp + fn), "tp": tp, "fp": fp, "fn": fn}
