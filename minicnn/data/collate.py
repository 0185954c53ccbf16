"""detection_collate: batches of images with different numbers of objects.

A detection sample is (image, target) with target a dict of per-object arrays (boxes,
labels, masks, ...), K objects in one image and another number in the next, so they cannot
be stacked. The batch keeps the images stacked and the targets as lists, one Tensor per
image, in the order the training loop moves to the device and the detection task reads:

    (images (N, C, H, W), [boxes (K_i, 4)], [labels (K_i,)], [masks (K_i, H, W)])

`fields` chooses which target entries follow the images (masks only where a model wants
them: they are the largest part of a batch).
"""
import numpy

from ..autograd import Tensor

__all__ = ["detection_collate"]


def detection_collate(samples, fields=("boxes", "labels", "masks")):
    images = numpy.stack([numpy.asarray(image) for image, _ in samples])
    missing = [name for name in fields if any(name not in target for _, target in samples)]
    if missing:
        raise ValueError(f"detection_collate: a sample's target has no {missing[0]!r}; "
                         f"the targets hold {sorted(samples[0][1])}")
    return (Tensor(images),) + tuple([Tensor(numpy.asarray(target[name])) for _, target in samples]
                                     for name in fields)
