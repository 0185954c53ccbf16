"""Checks shared by the layer tests: gradcheck through a layer's input and parameters, and
parity with the PyTorch layer of the same name given the same weights."""
import numpy

import minicnn
from tests.helpers import assert_close


def gradcheck_layer(layer, x, seed=None):
    """gradcheck of (x, *parameters) -> layer(x). The parameters are perturbed in place and
    the layer reads them from its attributes. An integer x (Embedding) is held fixed.
    `seed` reseeds before every call, for layers that draw random numbers (dropout)."""
    params = tuple(p for p in layer.parameters() if p.requires_grad)
    differentiable_input = x.dtype.kind == "f"

    def run(*inputs):
        if seed is not None:
            minicnn.manual_seed(seed)
        return layer(inputs[0] if differentiable_input else x)

    return minicnn.gradcheck(run, ((x,) if differentiable_input else ()) + params)


def copy_torch_weights(torch, ours, theirs):
    """Load the torch layer's state into ours (float64), through NumPy."""
    ours.load_state_dict({name: value.detach().numpy()
                          for name, value in theirs.state_dict().items()})


def check_parity(torch, ours, theirs, x, rtol=1e-7, atol=1e-9):
    """Same weights -> same output, same input gradient and same parameter gradients."""
    ours, theirs = ours.double(), theirs.double()
    copy_torch_weights(torch, ours, theirs)
    y = ours(x)
    x_torch = torch.tensor(x.numpy(), requires_grad=x.dtype.kind == "f")
    y_torch = theirs(x_torch)
    assert_close(y, y_torch, rtol, atol)
    if y.dtype.kind != "f" or not y.requires_grad:
        return
    grad_output = numpy.random.standard_normal(y.shape)
    y.backward(minicnn.tensor(grad_output, device=x.device))
    y_torch.backward(torch.tensor(grad_output))
    if x.requires_grad:
        assert_close(x.grad, x_torch.grad, rtol, atol)
    torch_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        assert_close(param.grad, torch_params[name].grad, rtol, atol)
    for name, buffer in theirs.named_buffers():
        assert_close(dict(ours.named_buffers())[name], buffer, rtol, atol)
