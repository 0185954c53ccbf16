"""Adversarial training (Madry et al. 2018): train on the worst images of the eps ball.

    min_w  mean over the batch of  max_{||d||_inf <= eps} L(w, x + d, y)

PGD (attacks.py) approximates the inner maximum on every training batch; the optimizer's
step then descends the loss of those adversarial images. AdversarialTask is a task of the
one training loop (training/tasks.py), which stays as it is:

    Trainer(model, optimizer, train_loader, val_loader, task=AdversarialTask("pgd", eps=0.3))
    minicnn train --adversarial pgd --eps 0.3

The attack runs with the model in eval mode and its weights frozen (nn.frozen_eval inside
the attack), so its gradients never reach a parameter; the model goes back to training mode
for the forward pass the step uses. Every batch is scored on the clean images (under
no_grad: they only feed the metrics) and on the adversarial ones, so the history keeps
`accuracy` (clean) and `robust_accuracy` (under the attack) for both splits. The loss is
the adversarial images' cross-entropy in training and in evaluation. Evaluation runs under
no_grad, so the attack turns gradients back on for itself there and starts from the clean
image (no random start), which makes a model's robust accuracy one number, not a draw.

Warm-up: attacked at the full radius from the first step, a small network can settle on the
one answer that no attack changes, the same scores for every image (loss ln 10), and never
leave it (LeNet-5 at eps 0.3 on MNIST-5k did; README.md). With warmup_epochs = W the
training attack's radius grows linearly, eps * epoch / W, over the first W epochs (a common
remedy, e.g. Gowal et al. 2018); evaluation always attacks at the full eps.
"""
from .. import functional as F
from ..autograd import enable_grad, is_grad_enabled, no_grad
from ..explain.checks import check_number
from ..training.tasks import ClassificationTally, ClassificationTask
from .attacks import fgsm, pgd

ATTACKS = ("pgd", "fgsm")


class AdversarialTask(ClassificationTask):
    """Classification trained on `attack` examples ("pgd" with `steps` steps of `alpha`,
    Madry's 2.5 eps / steps by default, or "fgsm") of radius `eps` (L-inf), reached after
    `warmup_epochs` epochs."""
    metrics = {"accuracy": "acc", "robust_accuracy": "robust"}

    def __init__(self, attack="pgd", eps=0.3, steps=10, alpha=None, warmup_epochs=0):
        super().__init__(F.cross_entropy)
        if attack not in ATTACKS:
            raise ValueError(f"AdversarialTask: attack must be one of {', '.join(ATTACKS)}, "
                             f"got {attack!r}")
        check_number("AdversarialTask", "eps", eps, low=0)
        check_number("AdversarialTask", "steps", steps, low=1, integer=True)
        check_number("AdversarialTask", "warmup_epochs", warmup_epochs, low=0, integer=True)
        self.attack, self.eps, self.steps, self.alpha = attack, eps, steps, alpha
        self.warmup_epochs, self.training_eps = warmup_epochs, eps

    def on_epoch_start(self, epoch, model):
        if self.warmup_epochs:
            self.training_eps = self.eps * min(1.0, epoch / self.warmup_epochs)

    def adversarial_images(self, model, images, labels, training_step):
        """The attack's images for this batch (a training step: at the warm-up's radius, from
        a random start); the model's mode is put back afterwards."""
        training = model.training
        eps = self.training_eps if training_step else self.eps
        model.eval()
        try:
            with enable_grad():
                if self.attack == "fgsm":
                    return fgsm(model, images, labels, eps)
                return pgd(model, images, labels, eps, self.alpha, self.steps,
                           random_start=training_step)
        finally:
            model.train(training)

    def loss(self, model, batch):
        images, labels = batch
        # A training step (gradients on) starts PGD at random; evaluation (no_grad) does not.
        adversarial = self.adversarial_images(model, images, labels, is_grad_enabled())
        with no_grad():
            clean = model(images)
        robust = model(adversarial)
        return self.loss_fn(robust, labels), (clean, robust)

    def tally(self):
        return AdversarialTally()

    def final(self, evaluation, class_names):
        return {**super().final(evaluation, class_names),
                "val_robust_accuracy": evaluation["robust_accuracy"],
                "attack": {"name": self.attack, "eps": self.eps, "steps": self.steps,
                           "alpha": self.alpha, "warmup_epochs": self.warmup_epochs}}


class AdversarialTally:
    """Accuracy on the clean images and on the attack's, from (clean, robust) logits."""

    def __init__(self):
        self.clean, self.robust = ClassificationTally(), ClassificationTally()

    def add(self, outputs, batch):
        clean, robust = outputs
        self.clean.add(clean, batch)
        self.robust.add(robust, batch)

    def summary(self):
        return {**self.clean.summary(), "robust_accuracy": self.robust.summary()["accuracy"]}
