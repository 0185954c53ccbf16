"""Helpers shared by the test modules.

`covers(*names)` marks a test as the gradcheck case of public functional names; the
coverage test imports every test module and fails if a differentiable function in
`minicnn.functional` has no such case.
"""
import numpy

import minicnn

GRADCHECKED = set()


def covers(*names):
    def mark(test):
        GRADCHECKED.update(names)
        return test
    return mark


def leaf(array, device="cpu", requires_grad=True, dtype=numpy.float64):
    """A float64 leaf tensor from a NumPy array (or shape), on `device`."""
    if isinstance(array, tuple):
        array = numpy.random.standard_normal(array)
    return minicnn.tensor(numpy.asarray(array, dtype=dtype), requires_grad=requires_grad,
                          device=device)


def to_torch(torch, x, requires_grad=None):
    """The same values as a torch tensor, float64 stays float64."""
    data = x.numpy() if isinstance(x, minicnn.Tensor) else numpy.asarray(x)
    flag = x.requires_grad if requires_grad is None and isinstance(x, minicnn.Tensor) else bool(requires_grad)
    return torch.tensor(data, requires_grad=flag)


def assert_close(ours, theirs, rtol=1e-7, atol=1e-9):
    """Compare a minicnn tensor/array with a torch tensor/array elementwise."""
    ours = ours.numpy() if isinstance(ours, minicnn.Tensor) else numpy.asarray(ours)
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else numpy.asarray(theirs)
    assert ours.shape == theirs.shape, f"shape {ours.shape} != {theirs.shape}"
    numpy.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)
