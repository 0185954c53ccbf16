"""Augmentation for segmentation: image, mask and weight map move together.

A mask labels the pixels of its image, so every geometric change of the image must happen
to the mask too, and to the weight map when the batch brings one. The transforms are
minicnn.data.transforms' joint ones, which move a target's masks with the pixels by nearest
neighbour, never blending two labels. `segmentation_augmentation` is the one place that
picks what the command line trains with: the eight symmetries of the square (policy
'basic'), and with policy 'strong' also a mild affine map and an elastic deformation, which
the U-Net paper names as the key to learning from few annotated images.
"""
import math

import numpy

from ..autograd import Tensor
from ..data import Dataset
from ..data.dataset import batch_gatherer
from ..data.transforms import (Compose, ElasticTransform, RandomAffine, RandomHorizontalFlip,
                               RandomQuarterTurn)


def segmentation_transform(image_size, policy="strong"):
    """The joint transform for images of side about `image_size` pixels: a mirror image with
    probability 1/2 and a quarter turn (nuclei and shapes have no up or down); with policy
    'strong', then a turn of up to 15 degrees and a scaling by 0.9-1.1 (RandomAffine), and an
    elastic deformation.

    The paper deforms its 512-pixel images by displacements of 10 pixels standard deviation,
    drawn on a coarse 3 x 3 grid and interpolated between; here the displacement is 2% of
    the side, smooth over about an eighth of it (a Gaussian of that sigma). ElasticTransform
    scales smoothed U(-1, 1) noise by alpha / 2, and that noise has a standard deviation of
    1 / (sqrt(12 pi) sigma) (variance 1/3, divided by 4 pi sigma^2 by a 2-D Gaussian); near
    the edges, where the noise is mirrored, a little more (2.4% of the side over the image).
    """
    if policy not in ("basic", "strong"):
        raise ValueError(f"segmentation_transform: policy must be 'basic' or 'strong', got "
                         f"{policy!r}")
    symmetries = [RandomHorizontalFlip(), RandomQuarterTurn()]
    if policy == "basic":
        return Compose(symmetries)
    sigma = image_size / 8
    displacement = 0.02 * image_size
    return Compose(symmetries + [
        RandomAffine(degrees=15, scale=(0.9, 1.1)),
        ElasticTransform(alpha=2 * displacement * math.sqrt(12 * math.pi) * sigma, sigma=sigma)])


def move_together(transform, images, masks, weights=None):
    """images (N, C, H, W), masks (N, H, W) and, if given, weight maps (N, H, W) after the
    joint transform `transform(images, targets)`: the masks travel as the targets' masks.

    A weight map moves with its mask: every output pixel takes the label and the weight of
    the same input pixel. The map was computed once from the true instances, as the paper
    does it; recomputing it for every augmented batch would cost a distance transform per
    nucleus, and the map changes little under a mild deformation (exactly nothing under
    the symmetries). Which input pixel an output pixel shows comes from numbering the
    pixels 1..H*W and moving the numbers as a second mask; 0, a point outside the image,
    gets weight 0, so the filled-in corners teach nothing.
    """
    count, height, width = masks.shape
    maps = masks[:, None]
    if weights is not None:
        numbers = numpy.arange(1, height * width + 1).reshape(1, 1, height, width)
        maps = numpy.concatenate([maps, numpy.broadcast_to(numbers, (count, 1, height, width))],
                                 axis=1)
    images, targets = transform(images, [{"masks": stack} for stack in maps])
    moved = numpy.stack([target["masks"] for target in targets])
    if weights is None:
        return images, moved[:, 0]
    padded = numpy.concatenate([numpy.zeros((count, 1), weights.dtype),
                                weights.reshape(count, -1)], axis=1)
    sources = moved[:, 1].reshape(count, -1)
    return images, moved[:, 0], numpy.take_along_axis(padded, sources, 1).reshape(moved[:, 1].shape)


class JointlyAugmented(Dataset):
    """`dataset` whose samples (image, mask[, weight map]) pass through `transform`, a joint
    transform of minicnn.data.transforms, together (move_together), a batch at a time.
    Other attributes (classes, task, instances) are the wrapped dataset's."""

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
        return tuple(Tensor(array) for array in move_together(self.transform, *arrays))


def segmentation_augmentation(dataset, policy="strong"):
    """The training set of a segmentation run as the command line augments it under
    `--augment policy` (segmentation_transform)."""
    image = dataset[0][0]
    return JointlyAugmented(dataset, segmentation_transform(min(image.shape[-2:]), policy))
