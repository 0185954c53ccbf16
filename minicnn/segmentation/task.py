"""Segmentation as a training task (see minicnn/training/tasks.py): one class per pixel.

The loss is the pixel-wise cross-entropy, multiplied pixel by pixel by a weight map when the
batch brings one (images, masks, weights), plus `dice_weight` times the soft Dice loss. The
cross-entropy learns every pixel; the Dice loss measures overlap, which keeps a small
object from drowning in a large background. The metrics are Dice and IoU per class, from a
confusion matrix added up over the batches; the headline numbers average the classes other
than the background. At the end, test images are drawn with their true and predicted masks.
"""
import os

import numpy

from .. import functional as F
from ..autograd import Tensor, no_grad
from ..backend import move_array, to_numpy
from ..training.metrics import confusion_matrix, scores_from_confusion
from ..training.tasks import Task
from .pictures import save_overlays


class SegmentationTask(Task):
    """(images (N, C, H, W), masks (N, H, W)[, weights (N, H, W)]) batches; the model gives
    logits (N, classes, H', W'), H' <= H (a valid-padded U-Net's output is smaller: the
    masks and weights are cropped to its centre).

    num_classes: the model's output classes; class_names: their names, background first;
    dice_weight: the Dice loss's share (0: cross-entropy alone);
    background: the class left out of the headline means (None: average all classes).
    """
    metrics = {"dice": "dice", "iou": "iou"}

    def __init__(self, num_classes, class_names=None, dice_weight=1.0, background=0):
        self.num_classes, self.dice_weight, self.background = num_classes, dice_weight, background
        self.class_names = list(class_names or [str(c) for c in range(num_classes)])

    def loss(self, model, batch):
        images, masks, *weights = batch
        check_masks(images, masks, *weights)
        logits = model(images)
        if logits.ndim != 4:
            raise ValueError(f"SegmentationTask: the model gives outputs of shape "
                             f"{tuple(logits.shape)}; a segmentation model gives a score per "
                             f"class and pixel, (N, classes, H, W) (e.g. --model unet_small)")
        masks = F.center_crop(masks, *logits.shape[2:])
        if weights:
            weights = F.center_crop(weights[0], *logits.shape[2:])
            per_pixel = F.cross_entropy(logits, masks, reduction="none")
            loss = (per_pixel * weights).sum() / weights.sum()
        else:
            loss = F.cross_entropy(logits, masks)
        if self.dice_weight:
            # One Dice over the whole batch, as one long image: a class missing from one
            # image then counts as neither a perfect nor a failed image of its own.
            pooled = logits.transpose(0, 1).reshape(1, logits.shape[1], -1)
            loss = loss + self.dice_weight * F.dice_loss(pooled, masks.reshape(1, -1))
        return loss, logits

    def tally(self):
        return SegmentationTally(self.num_classes, self.background)

    def final(self, evaluation, class_names):
        names = class_names or self.class_names
        return {"val_dice": evaluation["dice"], "val_iou": evaluation["iou"],
                "val_pixel_accuracy": evaluation["pixel_accuracy"],
                "dice_per_class": dict(zip(names, evaluation["dice_per_class"])),
                "iou_per_class": dict(zip(names, evaluation["iou_per_class"])),
                "confusion_matrix": evaluation["confusion_matrix"]}

    def pictures(self, out_dir, model, loader):
        """predictions.png: the first test images with their true and predicted masks."""
        images, masks = (part.numpy() for part in next(iter(loader))[:2])
        images, masks = images[:8], masks[:8]
        predicted = predict_masks(model, images)
        save_overlays(images, F.center_crop(masks, *predicted.shape[-2:]), predicted,
                      os.path.join(out_dir, "predictions.png"), self.class_names)


class SegmentationTally:
    """The confusion matrix over all pixels seen; summary: Dice and IoU per class and their
    means over the non-background classes, pixel accuracy, and the matrix."""

    def __init__(self, num_classes, background=0):
        self.num_classes, self.background = num_classes, background
        self.matrix = numpy.zeros((num_classes, num_classes), numpy.int64)

    def add(self, logits, batch):
        predicted = to_numpy(logits.data.argmax(axis=1))
        masks = F.center_crop(batch[1].numpy(), *predicted.shape[-2:])
        self.matrix += confusion_matrix(predicted.ravel(), masks.ravel(), self.num_classes)

    def summary(self):
        dice = scores_from_confusion(self.matrix, "dice")
        iou = scores_from_confusion(self.matrix, "iou")
        counted = [c for c in range(self.num_classes) if c != self.background] or [0]
        return {"dice": float(dice[counted].mean()), "iou": float(iou[counted].mean()),
                "dice_per_class": dice.tolist(), "iou_per_class": iou.tolist(),
                "pixel_accuracy": float(numpy.trace(self.matrix) / max(self.matrix.sum(), 1)),
                "confusion_matrix": self.matrix.tolist()}


def check_masks(images, masks, *weights):
    """Raise ValueError unless masks (and weight maps) are (N, H, W) for images (N, C, H, W)."""
    expected = (images.shape[0],) + tuple(images.shape[2:])
    for name, maps in (("masks", masks),) + tuple(("weights", w) for w in weights):
        if tuple(maps.shape) != expected:
            raise ValueError(f"SegmentationTask: {name} of shape {tuple(maps.shape)} do not fit "
                             f"images of shape {tuple(images.shape)}: expected one value per "
                             f"pixel, shape {expected}")


def predict_masks(model, images, batch_size=32):
    """Predicted class masks (N, H', W') int64 of images (N, C, H, W), in eval mode."""
    model.eval()
    first = next(iter(model.parameters()), None)
    device = first.device if first is not None else "cpu"
    masks = []
    with no_grad():
        for start in range(0, len(images), batch_size):
            chunk = Tensor(move_array(numpy.asarray(images[start:start + batch_size]), device))
            masks.append(to_numpy(model(chunk).data.argmax(axis=1)))
    return numpy.concatenate(masks).astype(numpy.int64)
