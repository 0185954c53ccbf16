"""Classification metrics: accuracy and the confusion matrix, on NumPy arrays of class indices."""
import numpy


def accuracy(predictions, targets):
    """Fraction of predictions equal to the targets (both 1-d arrays of class indices)."""
    predictions, targets = numpy.asarray(predictions), numpy.asarray(targets)
    if predictions.shape != targets.shape:
        raise ValueError(f"accuracy: predictions {predictions.shape} and targets "
                         f"{targets.shape} must have the same shape")
    return float(numpy.mean(predictions == targets)) if targets.size else float("nan")


def class_indices(targets):
    """Targets as class indices: class probabilities (N, C, ...) (floats, e.g. MixUp's soft
    labels) become the most probable class, argmax over axis 1; indices stay as they are."""
    targets = numpy.asarray(targets)
    return targets.argmax(axis=1) if targets.dtype.kind == "f" else targets


def confusion_matrix(predictions, targets, num_classes):
    """matrix[true, predicted] = number of samples of class `true` predicted as `predicted`."""
    predictions = numpy.asarray(predictions, dtype=numpy.int64)
    targets = numpy.asarray(targets, dtype=numpy.int64)
    for name, values in (("predictions", predictions), ("targets", targets)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"confusion_matrix: {name} must lie in [0, {num_classes}), got "
                             f"values {values.min()}..{values.max()}")
    counts = numpy.bincount(targets * num_classes + predictions, minlength=num_classes ** 2)
    return counts.reshape(num_classes, num_classes)


def format_confusion_matrix(matrix, class_names=None):
    """The matrix as text: one row per true class, one column per predicted class."""
    names = [str(n) for n in (class_names or range(len(matrix)))]
    width = max(max(len(n) for n in names), len(str(int(numpy.max(matrix)))))
    header = " " * (width + 1) + " ".join(n[:width].rjust(width) for n in names) + "   <- predicted"
    rows = [name[:width].rjust(width) + " " + " ".join(str(v).rjust(width) for v in row)
            for name, row in zip(names, matrix)]
    return "\n".join([header] + rows)


# --- segmentation: the same counts, per pixel --------------------------------------------------

AVERAGES = (None, "macro", "micro")


def pixel_accuracy(predictions, targets):
    """Fraction of pixels whose predicted class is the true one (masks of any equal shape)."""
    predictions, targets = _same_shape("pixel_accuracy", predictions, targets)
    return float(numpy.mean(predictions == targets)) if targets.size else float("nan")


def dice_score(predictions, targets, num_classes, average=None, zero_division=1.0):
    """Dice coefficient (F1) per class of predicted and true masks of class indices:
    2 TP / (2 TP + FP + FN), with TP, FP, FN counted over all pixels of all images.

    Equal to sklearn.metrics.f1_score(targets.ravel(), predictions.ravel(),
    labels=range(num_classes), average=average, zero_division=zero_division); see
    scores_from_confusion for `average` and `zero_division`.
    """
    predictions, targets = _same_shape("dice_score", predictions, targets)
    return scores_from_confusion(confusion_matrix(predictions.ravel(), targets.ravel(),
                                                  num_classes), "dice", average, zero_division)


def iou_score(predictions, targets, num_classes, average=None, zero_division=1.0):
    """Intersection over union (Jaccard index) per class: TP / (TP + FP + FN).

    Equal to sklearn.metrics.jaccard_score on the flattened masks, like dice_score. Per class
    IoU = Dice / (2 - Dice), so the two rank models alike; IoU is the harsher number.
    """
    predictions, targets = _same_shape("iou_score", predictions, targets)
    return scores_from_confusion(confusion_matrix(predictions.ravel(), targets.ravel(),
                                                  num_classes), "iou", average, zero_division)


def scores_from_confusion(matrix, metric, average=None, zero_division=1.0):
    """Dice ("dice") or IoU ("iou") from a confusion matrix[true, predicted].

    average: None gives one score per class (an array); "macro" their mean, every class
    counting alike; "micro" one score from the counts summed over classes (for Dice, that is
    the pixel accuracy). A class absent from both the targets and the predictions has
    0 / 0: it scores `zero_division`, 1 by default (nothing to find and nothing found),
    never NaN. Keeping the matrix lets a training loop add up batches and score once.
    """
    if metric not in ("dice", "iou"):
        raise ValueError(f"scores_from_confusion: metric must be 'dice' or 'iou', got {metric!r}")
    if average not in AVERAGES:
        raise ValueError(f"scores_from_confusion: average must be one of {AVERAGES}, got "
                         f"{average!r}")
    matrix = numpy.asarray(matrix, dtype=numpy.float64)
    true_positives = numpy.diag(matrix)
    false_positives = matrix.sum(axis=0) - true_positives
    false_negatives = matrix.sum(axis=1) - true_positives
    if average == "micro":
        true_positives, false_positives, false_negatives = (
            true_positives.sum(), false_positives.sum(), false_negatives.sum())
    overlap = 2 * true_positives if metric == "dice" else true_positives
    denominator = overlap + false_positives + false_negatives
    scores = numpy.where(denominator > 0, overlap / numpy.maximum(denominator, 1), zero_division)
    return float(scores.mean()) if average else scores


def _same_shape(op, predictions, targets):
    predictions, targets = numpy.asarray(predictions), numpy.asarray(targets)
    if predictions.shape != targets.shape:
        raise ValueError(f"{op}: predictions {predictions.shape} and targets {targets.shape} "
                         f"must have the same shape")
    return predictions, targets
