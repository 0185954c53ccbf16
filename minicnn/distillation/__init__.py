"""minicnn.distillation: train a small student from a large teacher (knowledge distillation).

    losses.py   distillation_loss: Hinton et al. 2015, the teacher's softened class
                probabilities as targets, mixed with the hard labels
    hints.py    HintLoss: FitNets (Romero et al. 2015), a student layer, through a learned
                1x1 adapter, pulled towards a teacher layer, both chosen by name

A training step (see notebooks/13_distillation.ipynb):

    with minicnn.no_grad():
        teacher_logits = teacher(images)            # the teacher is fixed: no graph
    loss = distillation_loss(student(images), teacher_logits, labels, temperature=4, alpha=0.9)
"""
from .hints import HintLoss
from .losses import distillation_loss

__all__ = ["HintLoss", "distillation_loss"]
