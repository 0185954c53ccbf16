"""Distillation as a task of the training loop (training/tasks.py): the same loop that trains
every model trains the student, with the teacher's softened logits as part of its target.

    task = DistillationTask(teacher, temperature=4.0, alpha=0.9)
    Trainer(student, optimizer, train_loader, val_loader, task=task).fit(epochs)

For each batch the teacher runs once, under no_grad (it records no graph, and nothing of it
is trained) and in eval mode (its BatchNorm statistics and dropout fixed, whatever the loop
does to the student), then the student's loss is losses.py's distillation_loss. The
validation batches get the same loss, so val_loss and train_loss measure the same thing;
the metric is the student's accuracy on the labels.
"""
from ..autograd import no_grad
from ..training.tasks import ClassificationTask
from .losses import check_mixing, distillation_loss


class DistillationTask(ClassificationTask):
    """(images, labels) batches; loss = distillation_loss(student(images), teacher(images),
    labels, temperature, alpha); the student's accuracy and confusion matrix as metrics."""

    def __init__(self, teacher, temperature=4.0, alpha=0.9):
        super().__init__(loss_fn=None)
        check_mixing("DistillationTask", temperature, alpha)
        self.teacher, self.temperature, self.alpha = teacher.eval(), temperature, alpha

    def loss(self, model, batch):
        images, labels = batch
        with no_grad():
            teacher_logits = self.teacher(images)
        logits = model(images)
        return distillation_loss(logits, teacher_logits, labels, self.temperature,
                                 self.alpha), logits
