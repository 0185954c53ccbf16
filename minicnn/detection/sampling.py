"""Which anchors the classification loss sees: most anchors are background, so a detector
that scored them all equally would learn to say 'background' everywhere.

    BalancedPositiveNegativeSampler(256, 0.5)   Faster R-CNN's RPN and box head: per image,
        up to 256 x 0.5 positives drawn at random, the rest of the 256 negatives; ignored
        anchors never. Drawn from minicnn's global generator, so manual_seed fixes it.
    hard_negative_mining(losses, positive, 3)  SSD's: per image, the 3 x (number of
        positives) negatives with the highest classification loss, the ones the model gets
        most wrong (Liu et al. 2016, section 2.2). An image without positives gets no
        negatives, as in torchvision: it adds nothing to the loss.
    The focal loss (losses.py) needs neither: it down-weights the easy negatives instead.
"""
import numpy

from ..backend.random import generator

__all__ = ["BalancedPositiveNegativeSampler", "hard_negative_mining"]


class BalancedPositiveNegativeSampler:
    def __init__(self, batch_size_per_image=256, positive_fraction=0.5):
        if batch_size_per_image < 1 or not 0 <= positive_fraction <= 1:
            raise ValueError(f"BalancedPositiveNegativeSampler: batch_size_per_image must be "
                             f"positive and positive_fraction in [0, 1], got "
                             f"{batch_size_per_image} and {positive_fraction}")
        self.batch_size_per_image, self.positive_fraction = batch_size_per_image, positive_fraction

    def __call__(self, labels):
        """labels: one (N,) int array per image, >= 1 positive, 0 negative, -1 ignored.
        Returns (positive, negative) lists of (N,) bool masks of the sampled anchors."""
        positives, negatives = [], []
        for image_labels in labels:
            image_labels = numpy.asarray(image_labels)
            positive = numpy.flatnonzero(image_labels >= 1)
            negative = numpy.flatnonzero(image_labels == 0)
            num_positive = min(len(positive), int(self.batch_size_per_image * self.positive_fraction))
            num_negative = min(len(negative), self.batch_size_per_image - num_positive)
            positives.append(_mask(len(image_labels), generator().permutation(positive)[:num_positive]))
            negatives.append(_mask(len(image_labels), generator().permutation(negative)[:num_negative]))
        return positives, negatives


def _mask(length, chosen):
    mask = numpy.zeros(length, bool)
    mask[chosen] = True
    return mask


def hard_negative_mining(losses, positive, negatives_per_positive=3):
    """losses (images, anchors) of the classification, positive (images, anchors) bool ->
    (images, anchors) bool mask of the negatives to keep: per image the
    negatives_per_positive x (its positives) non-positive anchors of highest loss (ties: the
    lower index)."""
    losses, positive = numpy.asarray(losses, numpy.float64), numpy.asarray(positive, bool)
    if losses.shape != positive.shape or losses.ndim != 2:
        raise ValueError(f"hard_negative_mining: losses and positive must both be (images, "
                         f"anchors), got {losses.shape} and {positive.shape}")
    candidates = numpy.where(positive, -numpy.inf, losses)
    rank = numpy.empty_like(candidates, dtype=numpy.int64)
    order = numpy.argsort(-candidates, axis=1, kind="stable")
    numpy.put_along_axis(rank, order, numpy.arange(losses.shape[1])[None], axis=1)
    wanted = negatives_per_positive * positive.sum(axis=1, keepdims=True)
    return (rank < wanted) & ~positive
