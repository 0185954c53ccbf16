"""DetectionTask: what the training loop (minicnn.training) needs to train a detector.

    loss(model, batch)    batch = (images, [boxes], [labels]) or (images, [boxes], [labels],
                          [masks]) from data.detection_collate (masks for a mask head);
                          the model's compute_loss gives its loss terms and the detections of
                          the same forward pass; the loss is their sum
    tally()               keeps each image's detections and true boxes; its summary is COCO
                          mAP (mAP@.5 first, the headline the curves plot, then mAP@[.5:.95])
    final(...)            the 12 COCO numbers and AP@.5 per class of the last evaluation
    pictures(...)         detections.png: validation images with detections and true boxes

Training mAP is measured on the training batches as they are seen (augmented, while the
weights still change), so it trails the validation mAP early on; it costs no second
forward pass.
"""
import os

import numpy

from ..autograd import no_grad
from ..backend import to_numpy
from ..training.tasks import Task
from .draw import save_detection_grid
from .evaluate import COCO_STAT_NAMES, coco_evaluate

__all__ = ["DetectionTask", "DetectionTally"]


class DetectionTask(Task):
    metrics = {"map50": "mAP50", "map": "mAP"}

    def __init__(self, class_names):
        self.class_names = list(class_names)

    def loss(self, model, batch):
        images, boxes, labels, *masks = batch      # masks: collated for a model with a mask head
        losses, detections = model.compute_loss(images, boxes, labels, *masks)
        terms = list(losses.values())
        return sum(terms[1:], start=terms[0]), detections

    def tally(self):
        return DetectionTally(len(self.class_names))

    def final(self, evaluation, class_names):
        result = evaluation["coco"]
        return {"val_map50": evaluation["map50"], "val_map": evaluation["map"],
                "coco": result.summary(),
                "ap50_per_class": dict(zip(class_names or self.class_names,
                                           result.ap_per_class(0.5).values()))}

    def pictures(self, out_dir, model, loader, count=8):
        """detections.png: the first `count` validation images, detections and true boxes."""
        model.eval()
        images, detections, truths = [], [], []
        with no_grad():
            for batch in loader:
                found = model(batch[0])
                for k, image in enumerate(to_numpy(batch[0].data)):
                    images.append(image)
                    detections.append(found[k])
                    truths.append({"boxes": batch[1][k].numpy()})
                if len(images) >= count:
                    break
        save_detection_grid(os.path.join(out_dir, "detections.png"), images[:count],
                            detections[:count], self.class_names, truths[:count])


class DetectionTally:
    """Each image's detections and ground truth; summary: COCO mAP@.5 and mAP@[.5:.95]."""

    def __init__(self, num_classes):
        self.num_classes = num_classes
        self.detections, self.truths = [], []

    def add(self, detections, batch):
        self.detections += detections
        self.truths += [{"boxes": b.numpy(), "labels": l.numpy()} for b, l in zip(batch[1], batch[2])]

    def summary(self):
        result = coco_evaluate(self.detections, self.truths, classes=list(range(self.num_classes)))
        # -1 (nothing to evaluate) would read as -100% in the log: no objects means no AP.
        value = lambda k: max(0.0, float(result.stats[k]))
        return {"map50": value(1), "map": value(0), "coco": result}
