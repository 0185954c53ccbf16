"""What every attribution method shares: the model it explains, the checks on its inputs and
target, the model held still while it runs, and the gradient of a class score.

    method = Saliency(model)              # any method: GradCAM(model, "features.3"), ...
    maps = method(images, target=labels)  # a Tensor, one map per image

`target` picks the class score y_c that is explained: an int, one per image, or None for
each image's predicted class. The score is the model's output before any softmax (the
logit), as in Grad-CAM and Captum: the softmax would mix in every other class.
"""
from ..autograd import Tensor, grad, no_grad
from ..nn import frozen_eval
from .checks import check_images, check_targets, one_hot


class Attribution:
    """Base class: __call__ checks the images, holds the model in eval mode with frozen
    weights (nn.frozen_eval, restored after) and returns `attribute`'s array as a Tensor."""

    def __init__(self, model):
        self.model = model

    @property
    def name(self):
        return type(self).__name__

    def __call__(self, inputs, target=None, **options):
        inputs = check_images(self.name, inputs)
        with frozen_eval(self.model, self.name):
            return Tensor(self.attribute(inputs, target, **options))

    def attribute(self, inputs, target, **options):
        raise NotImplementedError(f"{self.name} must define attribute(inputs, target, ...)")

    def targets(self, inputs, target):
        """The class of each image as an int array: `target` checked against the model's
        output, or the predicted classes when it is None (one forward pass)."""
        with no_grad():
            return check_targets(self.name, target, self.model(inputs))

    def input_gradient(self, inputs, target):
        """d y[n, target[n]] / d inputs[n] for every image n: an array like inputs.data.
        `target` may be None (the predicted classes of these inputs)."""
        x = Tensor(inputs.data, requires_grad=True)
        outputs = self.model(x)
        targets = check_targets(self.name, target, outputs)
        (gradient,) = grad(outputs, x, one_hot(targets, outputs))
        return gradient.data
