"""Adversarial examples: small changes of an image, found with the model's own gradient, that
change its prediction (Szegedy et al. 2014; Goodfellow et al. 2015; Madry et al. 2018).

Both attacks here move every pixel by at most eps (the L-infinity ball around x) and keep
the image in [0, 1]. The loss L is the cross-entropy of the model's output against y:

    fgsm   x_adv = clip(x + eps sign(dL/dx), 0, 1)               one step of the full size
    pgd    x_0 = x, or x + uniform(-eps, eps) with random_start (clipped to [0, 1])
           x_{t+1} = clip(x + clip(x_t + alpha sign(dL/dx_t) - x, -eps, eps), 0, 1)

Untargeted (the default), y holds the true labels and the step climbs L, away from them.
Targeted (targeted=True), y holds the classes to reach and the step descends L (it climbs
-L), towards them. The arithmetic is torchattacks' (FGSM, PGD), operation by operation: with
random_start=False the results equal its results bit for bit in float64. In float32 the two
libraries sum the input gradient in different orders, so a gradient within rounding of zero
may get the other sign and move its pixel the other way (14 of 200,704 pixels for FGSM on
256 test digits of a trained LeNet-5).

The model is run in eval mode with frozen weights (nn.frozen_eval): an attack reads a
trained model and changes nothing in it; the inputs are not changed either.
"""
from .. import functional as F
from ..autograd import Tensor, grad
from ..backend import array_module
from ..backend.random import generator
from ..explain.checks import check_images, check_number, check_targets
from ..nn import frozen_eval


def fgsm(model, x, y, eps, targeted=False):
    """The fast gradient sign method: one step of size eps (N, C, H, W) -> a new Tensor."""
    images = _checked_images("fgsm", x, eps)
    with frozen_eval(model, "fgsm"):
        step = _gradient_sign("fgsm", model, images, y, targeted)
    return Tensor(array_module(step).clip(images + eps * step, 0, 1))


def pgd(model, x, y, eps, alpha=None, steps=10, random_start=True, targeted=False):
    """Projected gradient descent: `steps` signed steps of size `alpha`, each projected back
    into the eps ball around x and into [0, 1] -> a new Tensor. The default alpha,
    2.5 eps / steps, is Madry et al.'s rule: enough to cross the ball and move along its edge."""
    original = _checked_images("pgd", x, eps)
    check_number("pgd", "steps", steps, low=1, integer=True)
    if alpha is None:
        alpha = 2.5 * eps / steps
    check_number("pgd", "alpha", alpha, low=0)
    xp = array_module(original)
    adversarial = original.copy()
    if random_start:
        start = generator().uniform(-eps, eps, original.shape).astype(original.dtype)
        adversarial = xp.clip(adversarial + xp.asarray(start), 0, 1)
    with frozen_eval(model, "pgd"):
        for _ in range(steps):
            adversarial = adversarial + alpha * _gradient_sign("pgd", model, adversarial, y,
                                                                  targeted)
            change = xp.clip(adversarial - original, -eps, eps)
            adversarial = xp.clip(original + change, 0, 1)
    return Tensor(adversarial)


def _gradient_sign(op, model, images, y, targeted):
    """sign(dL/dx) of the mean cross-entropy L (of -L when targeted), as an array."""
    x = Tensor(images, requires_grad=True)
    outputs = model(x)
    labels = check_targets(op, y, outputs)
    loss = F.cross_entropy(outputs, Tensor(array_module(images).asarray(labels)))
    (gradient,) = grad(-loss if targeted else loss, x)
    return array_module(gradient.data).sign(gradient.data)


def _checked_images(op, x, eps):
    check_number(op, "eps", eps, low=0)
    images = check_images(op, x)
    low, high = float(images.data.min()), float(images.data.max())
    if low < 0 or high > 1:
        raise ValueError(f"{op}: x must hold images in [0, 1] (the attack clips to that range), "
                         f"got values from {low:.3g} to {high:.3g}")
    return images.data
