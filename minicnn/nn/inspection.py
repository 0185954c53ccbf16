"""`frozen_eval(model, caller)`: a trained model held still while a method reads it.

Attributions (minicnn.explain) and attacks (minicnn.adversarial) differentiate a trained
model with respect to its input, not its weights. For the length of a `with` block the model
is put in eval mode (dropout off, batch norm on its running statistics, so that each image's
result does not depend on the rest of the batch or on chance) and its parameters stop
requiring gradients (the backward pass then skips every weight gradient). When the block
ends, even by an error, each module gets back its own mode and each parameter its own
`requires_grad`, so the caller's model is exactly as it was.
"""
import contextlib
import warnings


@contextlib.contextmanager
def frozen_eval(model, caller):
    """Eval mode and frozen parameters for the block; `caller` names the method in the
    warning given when the model arrives in training mode."""
    modes = [(module, module.training) for module in model.modules()]
    flags = [(parameter, parameter.requires_grad) for parameter in model.parameters()]
    if any(training for _, training in modes):
        warnings.warn(f"{caller}: the model is in training mode; it is run in eval mode "
                      "(dropout off, batch norm with its running statistics) and put back in "
                      "training mode afterwards", stacklevel=3)
    model.eval()
    model.requires_grad_(False)
    try:
        yield model
    finally:
        for module, training in modes:
            module.training = training
        for parameter, requires_grad in flags:
            parameter.requires_grad = requires_grad
