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
