"""Tasks: what the training loop learns. The loop (trainer.py) is the same for every task;
a task says how a batch becomes a loss, which metrics it keeps, and what to draw.

    class Task:
        metrics = {"accuracy": "acc"}         # history name -> label in the printed log
        def loss(self, model, batch)          # -> (loss Tensor, outputs for the metrics)
        def tally(self)                       # -> an object with add(outputs, batch) and
                                              #    summary() -> {metric: value, ...}
        def on_epoch_start(self, epoch, model)
        def final(self, evaluation, class_names)   # -> extra entries of metrics.json's final
        def pictures(self, out_dir, model, loader)  # drawn once, at the end of training

The loop calls, for every epoch: on_epoch_start (the model is in training mode by then, so
the hook may switch parts of it to eval mode); for every training batch (moved to the
model's device) loss, backward, the optimizer's step and tally().add; then the same loss and
tally under no_grad on the validation batches. The history keeps train_/val_ + every name in
`metrics` (the first is the headline: the learning curves plot it).

ClassificationTask (here) reproduces the loop's original behaviour; SegmentationTask
(minicnn/segmentation/task.py) brings a pixel-wise loss, Dice and IoU, and mask pictures.
Other uses plug in the same way:

- Object detection: batches hold images and lists of boxes and labels of varying length
  (the loop moves lists of Tensors too). loss(model, batch) matches the model's anchors to
  the boxes and adds the box and class losses; the tally keeps each image's detections and
  true boxes, and its summary computes COCO mAP (metrics = {"map": "mAP"}).
- Knowledge distillation: the task holds the teacher; loss() runs it on the same images
  under `no_grad()` in eval mode and mixes the KL divergence of the softened logits with
  the cross-entropy (the teacher is not a parameter of the student, so nothing else
  changes).
- Adversarial training: loss() replaces the images by PGD examples, computed with
  minicnn.grad of the loss w.r.t. the input (model.eval() while attacking, model.train()
  after), before the loss the step uses; the optimizer's zero_grad runs after loss(), so
  the attack's gradients never reach a step. Evaluation runs under no_grad: check
  is_grad_enabled() and measure clean accuracy there, or give the tally a robust metric.
- Quantization-aware training: on_epoch_start(epoch, model) freezes the BatchNorm
  statistics (and the observers) from a chosen epoch on.
"""
import numpy

from ..backend import to_numpy
from .metrics import accuracy, class_indices, confusion_matrix


class Task:
    """The defaults every task inherits: no per-epoch hook, nothing extra at the end."""
    metrics = {}

    def loss(self, model, batch):
        raise NotImplementedError(f"{type(self).__name__} must define loss(model, batch)")

    def tally(self):
        raise NotImplementedError(f"{type(self).__name__} must define tally()")

    def on_epoch_start(self, epoch, model):
        pass

    def final(self, evaluation, class_names):
        return {}

    def pictures(self, out_dir, model, loader):
        pass


class ClassificationTask(Task):
    """(images, labels) batches, loss_fn(logits, labels) (cross-entropy by default), accuracy;
    the final metrics add the confusion matrix."""
    metrics = {"accuracy": "acc"}

    def __init__(self, loss_fn):
        self.loss_fn = loss_fn

    def loss(self, model, batch):
        images, labels = batch
        logits = model(images)
        return self.loss_fn(logits, labels), logits

    def tally(self):
        return ClassificationTally()

    def final(self, evaluation, class_names):
        predictions, targets = evaluation["predictions"], evaluation["targets"]
        classes = len(class_names) if class_names else int(max(targets.max(), predictions.max()) + 1)
        return {"val_accuracy": evaluation["accuracy"],
                "confusion_matrix": confusion_matrix(predictions, targets, classes).tolist()}


class ClassificationTally:
    """Predicted and true labels of the batches seen; summary: accuracy and both arrays."""

    def __init__(self):
        self.predictions, self.targets = [], []

    def add(self, logits, batch):
        self.predictions.append(to_numpy(logits.data.argmax(axis=1)))
        self.targets.append(class_indices(batch[1].numpy()))    # soft targets: their argmax

    def summary(self):
        predictions, targets = numpy.concatenate(self.predictions), numpy.concatenate(self.targets)
        return {"accuracy": accuracy(predictions, targets), "predictions": predictions,
                "targets": targets}
