"""Gradient checking: compare the analytic Jacobian from backward() with finite differences.

For a function y = f(x), column k of the Jacobian is estimated by central differences,

    dy/dx_k ~= (f(x + eps e_k) - f(x - eps e_k)) / (2 eps),

whose error is O(eps^2), and compared with what backward() computes (row m of the
Jacobian is the gradient of y_m). Elements must agree within |a - n| <= atol + rtol |n|,
the same rule and defaults as torch.autograd.gradcheck. float64 is required because with
float32's 7 digits the difference quotient loses most of its precision at eps = 1e-6.
"""
import numpy

from ..backend import array_module, to_numpy
from ..backend.dtypes import float64
from ..backend.random import generator
from .engine import grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when backward() disagrees with finite differences."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, nondet_tol=0.0, fast_mode=False,
              raise_exception=True, allow_low_precision=False):
    """Check the gradients of `fn(*inputs)` for every input that requires grad.

    fn:       callable taking the inputs, returning a Tensor or a tuple of Tensors
    inputs:   a Tensor or a tuple; those with requires_grad=True are checked
    fast_mode: compare one random projection v^T J u per input instead of the whole J,
              which costs two evaluations and one backward instead of one per element
    nondet_tol: how far two analytic Jacobians of the same input may differ
    Returns True, or raises GradcheckError (returns False if raise_exception=False).
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    for i in checked:
        if inputs[i].dtype != float64 and not allow_low_precision:
            raise TypeError(
                f"gradcheck: input {i} has dtype {inputs[i].dtype}; finite differences need "
                "float64 (pass allow_low_precision=True to check anyway, with loose tolerances)")
    try:
        if fast_mode:
            _check_projection(fn, inputs, checked, eps, atol, rtol)
        else:
            _check_jacobian(fn, inputs, checked, eps, atol, rtol, nondet_tol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  nondet_tol=0.0, fast_mode=False, raise_exception=True,
                  allow_low_precision=False):
    """Check second derivatives: gradcheck of (inputs, v) -> v^T dfn/dinputs.

    The backward pass is built with create_graph=True, so its own gradients come from the
    backward of the ops the first backward used. `grad_outputs` (v) defaults to random
    float64 tensors that require grad, so mixed second derivatives are checked too.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outputs = _floating_outputs(fn(*inputs))
    if grad_outputs is None:
        grad_outputs = tuple(Tensor(_random_like(y.data), requires_grad=True) for y in outputs)
    grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    count = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:count], args[count:]
        ys = _floating_outputs(fn(*xs))
        differentiable = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        grads = grad(ys, differentiable, vs, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps, atol, rtol, nondet_tol,
                     fast_mode, raise_exception, allow_low_precision)


def _check_jacobian(fn, inputs, checked, eps, atol, rtol, nondet_tol):
    outputs = _floating_outputs(fn(*inputs))
    for i in checked:
        numerical = _numerical_jacobian(fn, inputs, i, eps)
        analytical = _analytical_jacobian(inputs, outputs, i)
        if nondet_tol is not None:
            again = _analytical_jacobian(inputs, _floating_outputs(fn(*inputs)), i)
            for j, (first, second) in enumerate(zip(analytical, again)):
                gap = numpy.max(numpy.abs(first - second), initial=0.0)
                if gap > nondet_tol:
                    raise GradcheckError(
                        f"gradcheck: backward is not reentrant for input {i}, output {j}: two "
                        f"runs differ by {gap:.3g} > nondet_tol={nondet_tol}")
        for j, (n, a) in enumerate(zip(numerical, analytical)):
            excess = numpy.abs(a - n) - (atol + rtol * numpy.abs(n))
            if excess.size and excess.max() > 0:
                row, column = numpy.unravel_index(numpy.argmax(excess), excess.shape)
                out_index = numpy.unravel_index(row, outputs[j].shape)
                in_index = numpy.unravel_index(column, inputs[i].shape)
                raise GradcheckError(
                    f"gradcheck: Jacobian mismatch for input {i} (shape {inputs[i].shape}) "
                    f"and output {j} (shape {outputs[j].shape}); worst element: input index "
                    f"{tuple(int(k) for k in in_index)}, output index "
                    f"{tuple(int(k) for k in out_index)}: numerical {n[row, column]:.8g}, "
                    f"analytical {a[row, column]:.8g} (atol={atol}, rtol={rtol})")


def _numerical_jacobian(fn, inputs, i, eps):
    """One (output size x input size) matrix per output, by central differences."""
    x = inputs[i]
    columns = []
    for flat in range(x.numel()):
        index = numpy.unravel_index(flat, x.shape)
        original = x.data[index].item()
        x.data[index] = original + eps
        plus = [to_numpy(y.data).astype(float64).ravel() for y in _floating_outputs(fn(*inputs))]
        x.data[index] = original - eps
        minus = [to_numpy(y.data).astype(float64).ravel() for y in _floating_outputs(fn(*inputs))]
        x.data[index] = original
        columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    sizes = [y.size for y in plus] if columns else []
    return [numpy.stack([column[j] for column in columns], axis=1) if columns
            else numpy.zeros((size, 0)) for j, size in enumerate(sizes)]


def _analytical_jacobian(inputs, outputs, i):
    x = inputs[i]
    jacobians = []
    for y in outputs:
        rows = numpy.zeros((int(y.data.size), x.numel()))
        if y.requires_grad:
            xp = array_module(y.data)
            for flat in range(int(y.data.size)):
                one_hot = xp.zeros(y.data.size, dtype=y.dtype)
                one_hot[flat] = 1
                (g,) = grad([y], [x], [Tensor(one_hot.reshape(y.shape))], retain_graph=True,
                            allow_unused=True)
                if g is not None:
                    rows[flat] = to_numpy(g.data).ravel()
        jacobians.append(rows)
    return jacobians


def _check_projection(fn, inputs, checked, eps, atol, rtol):
    outputs = _floating_outputs(fn(*inputs))
    projections = [_random_like(y.data) for y in outputs]
    for i in checked:
        x = inputs[i]
        direction = _random_like(x.data)
        analytical = 0.0
        differentiable = [(y, v) for y, v in zip(outputs, projections) if y.requires_grad]
        if differentiable:
            (g,) = grad([y for y, _ in differentiable], [x],
                        [Tensor(v) for _, v in differentiable], retain_graph=True,
                        allow_unused=True)
            analytical = 0.0 if g is None else float((g.data * direction).sum())
        original = x.data.copy()
        x.data[...] = original + eps * direction
        plus = _floating_outputs(fn(*inputs))
        x.data[...] = original - eps * direction
        minus = _floating_outputs(fn(*inputs))
        x.data[...] = original
        numerical = sum(float((((p.data - m.data) / (2 * eps)) * v).sum())
                        for p, m, v in zip(plus, minus, projections))
        if abs(analytical - numerical) > atol + rtol * abs(numerical):
            raise GradcheckError(
                f"gradcheck (fast mode): projection v^T J u mismatch for input {i} (shape "
                f"{x.shape}): numerical {numerical:.8g}, analytical {analytical:.8g} "
                f"(atol={atol}, rtol={rtol})")


def _floating_outputs(result):
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    for position, y in enumerate(outputs):
        if not isinstance(y, Tensor):
            raise TypeError(f"gradcheck: output {position} of fn is a {type(y).__name__}, "
                            "expected a Tensor")
    return tuple(y for y in outputs if y.dtype.kind == "f")


def _random_like(array):
    xp = array_module(array)
    return xp.asarray(generator().standard_normal(array.shape).astype(array.dtype))
