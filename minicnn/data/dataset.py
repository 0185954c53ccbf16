"""Datasets: anything with `len(dataset)` and `dataset[i]`, as in torch.utils.data.

`TensorDataset` keeps whole arrays (images, labels, ...) and can hand out a batch by one
fancy-indexing step (`gather`), which the DataLoader uses instead of collating samples one
by one: for small images that is the difference between seconds and milliseconds per epoch.
"""
import bisect
import numbers

import numpy

from ..autograd import Tensor
from ..backend import to_numpy
from ..backend.random import generator as global_generator


class Dataset:
    """Base class: subclasses define `__getitem__(index)` and `__len__()`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the i-th rows of equally long arrays: `TensorDataset(images, labels)`.

    `transform` (a callable on arrays, see the transforms package) is applied to the first
    array, to one sample (C, H, W) or to a whole batch (N, C, H, W) at a time.
    """

    def __init__(self, *tensors, transform=None):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one array or tensor")
        self.arrays = [to_numpy(t.data if isinstance(t, Tensor) else t) for t in tensors]
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: all arrays must have the same first dimension, "
                             f"got lengths {lengths}")
        self.transform = transform

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        if not isinstance(index, (numbers.Integral, numpy.integer)):
            raise TypeError(f"{type(self).__name__}: index must be an integer, got {index!r}")
        return self._wrap([a[index] for a in self.arrays])

    def gather(self, indices):
        """The batch of samples `indices` as a tuple of Tensors with a leading batch axis."""
        indices = numpy.asarray(indices, dtype=numpy.int64)
        return self._wrap([a[indices] for a in self.arrays])

    def _wrap(self, parts):
        if self.transform is not None:
            parts[0] = self.transform(parts[0])
        return tuple(Tensor(numpy.asarray(p)) for p in parts)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = numpy.asarray(indices, dtype=numpy.int64)
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= len(dataset)):
            raise IndexError(f"Subset: indices must lie in [0, {len(dataset)}), got "
                             f"{self.indices.min()}..{self.indices.max()}")

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset")
        self.ends = numpy.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.ends[-1]

    def __getitem__(self, index):
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"ConcatDataset: index {index} is out of range for {len(self)} samples")
        which = bisect.bisect_right(self.ends, index)
        start = self.ends[which - 1] if which else 0
        return self.datasets[which][index - start]


def batch_gatherer(dataset):
    """`dataset.gather`, looking through Subsets; None when samples must be collated one by one."""
    if isinstance(dataset, Subset):
        inner = batch_gatherer(dataset.dataset)
        return None if inner is None else (lambda indices: inner(dataset.indices[indices]))
    return getattr(dataset, "gather", None)


def random_split(dataset, lengths, generator=None):
    """Split `dataset` into non-overlapping random Subsets of the given lengths.

    `lengths` are sizes that add up to len(dataset), or fractions that add up to 1 (the
    remainder of rounding down goes round-robin to the first parts, as in PyTorch).
    """
    total = len(dataset)
    lengths = list(lengths)
    if lengths and all(0 <= f <= 1 for f in lengths) and abs(sum(lengths) - 1) < 1e-6 \
            and not all(isinstance(f, numbers.Integral) for f in lengths):
        sizes = [int(numpy.floor(total * f)) for f in lengths]
        for i in range(total - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if any(not isinstance(n, numbers.Integral) or n < 0 for n in lengths) or sum(lengths) != total:
        raise ValueError(f"random_split: lengths must be non-negative sizes adding up to the "
                         f"dataset's length {total}, or fractions adding up to 1; got {lengths}")
    rng = generator if generator is not None else global_generator()
    order = rng.permutation(total)
    bounds = numpy.cumsum([0] + lengths)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
