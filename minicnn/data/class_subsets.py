"""Smaller classification problems cut from a dataset: some of its classes, or a few
labelled samples per class (the few-label setting where transfer learning earns its keep).

    select_classes(MNIST5k(), range(5, 10))      digits 5-9, labelled 0-4, classes "5".."9"
    sample_per_class(dataset, 10, seed=3)        10 random samples of each class

Both work on a TensorDataset of (image, label) whose labels are its second array.
"""
import numpy

from .dataset import Subset, TensorDataset


def _labels(dataset, function):
    arrays = getattr(dataset, "arrays", None)
    if arrays is None or len(arrays) < 2:
        raise TypeError(f"{function}: dataset must be a TensorDataset of (image, label), got "
                        f"{type(dataset).__name__}")
    return arrays[1]


def select_classes(dataset, classes):
    """The samples whose label is in `classes`, relabelled 0, 1, ... in the order of `classes`;
    `.classes` holds their names and `.transform` is the dataset's."""
    labels, classes = _labels(dataset, "select_classes"), [int(c) for c in classes]
    names = getattr(dataset, "classes", None) or [str(c) for c in range(labels.max() + 1)]
    unknown = [c for c in classes if not 0 <= c < len(names)]
    if unknown or not classes or len(set(classes)) != len(classes):
        raise ValueError(f"select_classes: classes must be distinct class indices in "
                         f"[0, {len(names)}), got {classes}")
    new_label = numpy.full(len(names), -1, dtype=numpy.int64)
    new_label[classes] = numpy.arange(len(classes))
    keep = numpy.flatnonzero(new_label[labels] >= 0)
    subset = TensorDataset(dataset.arrays[0][keep], new_label[labels[keep]],
                           transform=dataset.transform)
    subset.classes = tuple(names[c] for c in classes)
    return subset


def sample_per_class(dataset, k, seed):
    """A Subset of `k` samples of every class, drawn at random with NumPy's generator seeded
    by `seed` (not minicnn's global one: the choice of samples is part of the experiment's
    definition, not of its training noise), in the dataset's order."""
    labels = _labels(dataset, "sample_per_class")
    classes, counts = numpy.unique(labels, return_counts=True)
    if isinstance(k, bool) or not isinstance(k, (int, numpy.integer)) \
            or not 1 <= k <= counts.min():
        smallest = classes[counts.argmin()]
        if getattr(dataset, "classes", None):
            smallest = dataset.classes[smallest]
        raise ValueError(f"sample_per_class: k must be an integer from 1 to {counts.min()} (the "
                         f"samples of the smallest class, {smallest!r}), got {k!r}")
    rng = numpy.random.default_rng(seed)
    chosen = [rng.choice(numpy.flatnonzero(labels == c), size=k, replace=False) for c in classes]
    return Subset(dataset, numpy.sort(numpy.concatenate(chosen)))
