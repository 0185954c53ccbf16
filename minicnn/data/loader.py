"""DataLoader: batches from a dataset, in order or shuffled, as in torch.utils.data.DataLoader.

A batch is made in one of two ways. Datasets holding whole arrays (TensorDataset and the
image datasets built on it) hand out a batch by fancy indexing (`gather`); any other dataset
is indexed sample by sample and the samples are stacked by `collate_fn` (default_collate).
"""
import numbers

import numpy

from ..autograd import Tensor, tensor
from .dataset import batch_gatherer
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _as_generator, _positive_int


def default_collate(samples):
    """Stack a list of samples into a batch, keeping the structure of one sample.

    Tensors and arrays are stacked on a new first axis, Python numbers become a 1-d tensor
    (int64 or float32), and tuples, lists and dicts are collated field by field.
    """
    first = samples[0]
    if isinstance(first, Tensor):
        return Tensor(numpy.stack([s.numpy() for s in samples]))
    if isinstance(first, numpy.ndarray):
        return Tensor(numpy.stack(samples))
    if isinstance(first, numbers.Number):
        return tensor(samples)          # ints -> int64, floats -> the default dtype
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("default_collate: samples in a batch have different numbers of fields")
        return type(first)(default_collate(list(field)) for field in zip(*samples))
    if isinstance(first, str):
        return list(samples)
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}; "
                    "expected Tensors, arrays, numbers, or tuples/lists/dicts of them")


class DataLoader:
    """Iterate over `dataset` in batches.

    DataLoader(dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
               drop_last=False, collate_fn=None, generator=None, batch_transform=None)

    shuffle=True draws a new order every epoch from `generator` (a numpy Generator), or,
    by default, from minicnn's global generator, so `minicnn.manual_seed` fixes it.
    batch_transform (a minicnn extension) is called on every finished batch, with its
    fields as arguments, and returns the batch to yield: batch_transform=MixUp(...) mixes
    the (images, labels) of each batch.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 drop_last=False, collate_fn=None, generator=None, batch_transform=None):
        if len(dataset) == 0:
            raise ValueError("DataLoader: the dataset is empty (len(dataset) == 0)")
        self.dataset = dataset
        self.generator = _as_generator(generator, "DataLoader")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler excludes batch_size, shuffle, "
                                 "sampler and drop_last")
            self.batch_size = None
        else:
            if sampler is not None and shuffle:
                raise ValueError("DataLoader: give either shuffle=True or a sampler, not both")
            self.batch_size = _positive_int(batch_size, "DataLoader", "batch_size")
            if sampler is None:
                sampler = (RandomSampler(dataset, generator=self.generator) if shuffle
                           else SequentialSampler(dataset))
            batch_sampler = BatchSampler(sampler, self.batch_size, drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.batch_transform = batch_transform
        self._gather = batch_gatherer(dataset) if collate_fn is None else None

    def __len__(self):
        return len(self.batch_sampler)

    def __iter__(self):
        for indices in self.batch_sampler:
            if self._gather is not None:
                batch = self._gather(numpy.asarray(indices, dtype=numpy.int64))
            else:
                batch = (self.collate_fn or default_collate)([self.dataset[i] for i in indices])
            if self.batch_transform is not None:
                fields = batch if isinstance(batch, (tuple, list)) else (batch,)
                batch = self.batch_transform(*fields)
            yield batch
