"""Reading a layer's output by its name, through a forward hook.

    with LayerOutput("GradCAM", model, "features.3") as layer:
        scores = model(images)
    layer.output            # the Tensor features.3 produced, (N, K, h, w)

With stop_gradient=True the hook hands the rest of the network a copy of the output that
is a leaf requiring gradients: `grad(scores, layer.output)` then gives d scores / d output,
and the backward pass stops there instead of going on through the layers below (Grad-CAM).
With stop_gradient=False the output is kept as it is, part of the graph from the input
(activation maximization differentiates it with respect to the input). The hook is removed
when the block ends, also when an error interrupts it.
"""
from ..autograd import Tensor
from .checks import find_layer


class LayerOutput:
    def __init__(self, op, model, name, stop_gradient=True):
        self.op, self.name, self.stop_gradient = op, name, stop_gradient
        self.layer = find_layer(op, model, name)
        self.output, self.calls = None, 0

    def __enter__(self):
        self.handle = self.layer.register_forward_hook(self._keep)
        return self

    def __exit__(self, *error):
        self.handle.remove()
        return False

    def _keep(self, module, args, output):
        if not isinstance(output, Tensor):
            raise TypeError(f"{self.op}: layer {self.name!r} ({module.describe()}) returns a "
                            f"{type(output).__name__}, not a Tensor")
        self.calls += 1
        if self.calls > 1:
            raise ValueError(f"{self.op}: layer {self.name!r} runs more than once in a forward "
                             "pass (a shared module), so its output is ambiguous; choose a "
                             "layer that runs once")
        self.output = Tensor(output.data, requires_grad=True) if self.stop_gradient else output
        return self.output

    def result(self):
        """The captured output; an error if the layer did not run."""
        if self.output is None:
            raise ValueError(f"{self.op}: layer {self.name!r} did not run in the model's forward "
                             "pass; choose a layer that the forward pass uses")
        return self.output
