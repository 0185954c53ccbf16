"""Samplers decide the order in which a DataLoader visits a dataset (torch.utils.data semantics).

Random samplers draw from a NumPy Generator. Without one they draw a fresh seed from
minicnn's global generator at every pass, so `minicnn.manual_seed(n)` fixes the order of
every epoch, and restoring the global RNG state (a checkpoint) continues the same sequence.
"""
import numbers

import numpy

from ..backend.random import generator as global_generator


def _rng(generator):
    if generator is not None:
        return generator
    return numpy.random.default_rng(int(global_generator().integers(2**63)))


def _as_generator(generator, owner):
    if generator is None or isinstance(generator, numpy.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral):
        return numpy.random.default_rng(int(generator))
    raise TypeError(f"{owner}: generator must be a numpy.random.Generator, a seed or None, "
                    f"got {generator!r}")


def _positive_int(value, owner, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return int(value)


class Sampler:
    """Base class: iterating yields dataset indices."""

    def __iter__(self):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation, or `num_samples` draws with replacement."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = None if num_samples is None else \
            _positive_int(num_samples, "RandomSampler", "num_samples")
        self.generator = _as_generator(generator, "RandomSampler")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, rng = len(self.data_source), _rng(self.generator)
        if self.replacement:
            return iter(rng.integers(n, size=self.num_samples).tolist())
        # Without replacement, num_samples > n continues with fresh permutations (PyTorch).
        rounds = -(-self.num_samples // n)
        order = numpy.concatenate([rng.permutation(n) for _ in range(rounds)])
        return iter(order[:self.num_samples].tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order."""

    def __init__(self, indices, generator=None):
        self.indices = numpy.asarray(indices, dtype=numpy.int64)
        self.generator = _as_generator(generator, "SubsetRandomSampler")

    def __iter__(self):
        return iter(self.indices[_rng(self.generator).permutation(len(self.indices))].tolist())

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices drawn with probability proportional to `weights` (one per sample).

    Typical use: weights = 1 / class_count[label] to see every class equally often.
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        weights = numpy.asarray(weights.numpy() if hasattr(weights, "numpy") else weights,
                                dtype=numpy.float64)
        if weights.ndim != 1 or weights.size == 0:
            raise ValueError(f"WeightedRandomSampler: weights must be a non-empty 1-d sequence, "
                             f"got shape {weights.shape}")
        if not numpy.all(numpy.isfinite(weights)) or weights.min() < 0 or weights.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and "
                             "not all zero")
        self.num_samples = _positive_int(num_samples, "WeightedRandomSampler", "num_samples")
        if not replacement and self.num_samples > numpy.count_nonzero(weights):
            raise ValueError(f"WeightedRandomSampler: cannot draw {self.num_samples} samples "
                             f"without replacement from {numpy.count_nonzero(weights)} non-zero weights")
        self.weights = weights
        self.replacement = replacement
        self.generator = _as_generator(generator, "WeightedRandomSampler")

    def __iter__(self):
        rng = _rng(self.generator)
        chosen = rng.choice(len(self.weights), size=self.num_samples, replace=self.replacement,
                            p=self.weights / self.weights.sum())
        return iter(chosen.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size` (the last may be shorter)."""

    def __init__(self, sampler, batch_size, drop_last=False):
        self.sampler = sampler
        self.batch_size = _positive_int(batch_size, "BatchSampler", "batch_size")
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
