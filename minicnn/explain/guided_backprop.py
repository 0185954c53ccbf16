"""Guided Backpropagation (Springenberg et al. 2015): the input gradient computed with ReLU's
backward rule changed so that only positive gradients pass back through a ReLU:

    plain ReLU:   dL/dx = dL/dy * [x > 0]
    guided ReLU:  dL/dx = max(dL/dy, 0) * [x > 0]

The rule is swapped on the ReLU Function itself (functional/activation.py) for as long as
the explanation runs, so that it reaches every ReLU however the model calls it (nn.ReLU
modules and F.relu inside a forward alike), and the plain rule is put back afterwards, also
when an error interrupts the explanation. Captum reaches only nn.ReLU modules, by hooks;
on a model whose ReLUs are all modules the two agree.

Adebayo et al. 2018 (sanity.py) show that its maps hardly change when the model's weights
are randomized: they mostly show the input's edges, not what the model learned.
"""
import contextlib

from ..functional import activation, relu
from .attribution import Attribution


@contextlib.contextmanager
def guided_relu_backward():
    """Inside the block, ReLU's backward passes max(dL/dy, 0) * [x > 0]."""
    plain = activation.ReLU.backward

    def guided(function, gy):
        return plain(function, relu(gy))

    activation.ReLU.backward = guided
    try:
        yield
    finally:
        activation.ReLU.backward = plain


class GuidedBackprop(Attribution):
    """The input gradient of the class score through guided ReLUs, (N, C, H, W), signed."""

    def attribute(self, inputs, target):
        with guided_relu_backward():
            return self.input_gradient(inputs, target)
