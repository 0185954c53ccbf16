"""Augmentation for segmentation: image and masks move together.

A mask labels the pixels of its image, so every geometric change of the image must happen
to the mask (and to a weight map) too. Here: the eight symmetries of the square, mirror
images and quarter turns, which change no pixel value and suit images that have no up or
down (cells, shapes). The paper adds elastic deformations; joint transforms of that kind
belong to minicnn.data.transforms, and `segmentation_augmentation` is the one place that
picks the transform the command line trains with.
"""
import numpy

from ..autograd import Tensor
from ..backend.random import generator
from ..data import Dataset
from ..data.dataset import batch_gatherer


class FlipsAndTurns:
    """Each sample mirrored left-right with probability 1/2, then turned by 0, 90, 180 or
    270 degrees, the same for an images batch (N, C, H, W) and every per-pixel map
    (N, H, W) given with it. Quarter turns need square images; others are flipped only.
    Randomness comes from minicnn's global generator (seeded runs, resumable)."""

    def __call__(self, images, *maps):
        images = numpy.asarray(images)
        square = images.shape[-1] == images.shape[-2]
        mirror = generator().random(len(images)) < 0.5
        turns = generator().integers(0, 4 if square else 1, len(images))
        return tuple(_move(array, mirror, turns) for array in (images,) + maps)


def _move(array, mirror, turns):
    """Apply each sample's mirror and quarter turns to the last two axes of `array`."""
    out = numpy.array(array, copy=True)
    for i in range(len(out)):
        sample = out[i][..., ::-1] if mirror[i] else out[i]
        out[i] = numpy.rot90(sample, turns[i], axes=(-2, -1))
    return out


class JointlyAugmented(Dataset):
    """`dataset` whose samples (image, mask, ...) all pass through `transform(images,
    *maps)` together, a batch at a time. Other attributes (classes, task, instances) are
    the wrapped dataset's."""

    def __init__(self, dataset, transform):
        self.dataset, self.transform = dataset, transform
        gather = batch_gatherer(dataset)
        if gather is not None:          # batches stay one fancy-indexing step (see DataLoader)
            self.gather = lambda indices: self._moved(gather(indices))

    def __len__(self):
        return len(self.dataset)

    def __getattr__(self, name):
        if name == "dataset":           # not set yet (a copy in the making): no recursion
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getitem__(self, index):
        batch = self._moved([part.numpy()[None] for part in self.dataset[index]])
        return tuple(Tensor(part.numpy()[0]) for part in batch)

    def _moved(self, parts):
        arrays = [part.numpy() if isinstance(part, Tensor) else part for part in parts]
        return tuple(Tensor(array) for array in self.transform(*arrays))


def segmentation_augmentation(dataset):
    """The training set of a segmentation run as the command line augments it."""
    return JointlyAugmented(dataset, FlipsAndTurns())
