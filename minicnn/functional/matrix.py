"""Matrix products: matmul (batched, broadcasting, NumPy's rules for 1-D operands) and linear.

On the CPU the GEMMs are split across minicnn's thread pool (cpu_kernels/threads.py: BLAS
itself runs on one thread); CuPy arrays go to cuBLAS through cupy.matmul.
"""
from ..autograd import Function, Tensor, is_grad_enabled
from ..backend import array_module, is_cupy_array
from ..cpu_kernels import threads
from .broadcast import broadcast_shapes, unbroadcast
from .conversion import match_dtype
from .reduce import sum
from .shape import flatten, reshape, squeeze, transpose, unsqueeze

__all__ = ["matmul", "linear"]


class MatMul(Function):
    """y = a @ b for a (..., n, k) and b (..., k, m), the batch dims "..." broadcast: y (..., n, m).
    dL/da = dL/dy @ b^T   (..., n, k),   dL/db = a^T @ dL/dy   (..., k, m),
    each summed over the batch dims its input was broadcast along."""

    saved = {"a": "b", "b": "a"}

    def forward(self, a, b):
        if _stack_times_matrix(a, b):
            # NumPy multiplies a stack by a matrix one matrix at a time; folding the stack into
            # rows makes it one BLAS call, several times faster.
            return _product(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + b.shape[-1:])
        return _product(a, b)

    def backward(self, gy):
        a, b = self.inputs
        ga = unbroadcast(matmul(gy, transpose(b, -1, -2)), a)
        if _stack_times_matrix(a, b):
            # The same folding turns a stack of products, summed afterwards, into one product.
            return ga, match_dtype(matmul(transpose(flatten(a, 0, -2), 0, 1), flatten(gy, 0, -2)), b)
        return ga, unbroadcast(matmul(transpose(a, -1, -2), gy), b)


def _stack_times_matrix(a, b):
    return a.ndim > 2 and b.ndim == 2


def _product(a, b):
    return array_module(a, b).matmul(a, b) if is_cupy_array(a) else threads.matmul(a, b)


def matmul(input, other):
    """input @ other, as numpy.matmul and torch.matmul: a 1-D input is a row vector and a
    1-D other a column vector, and the dim added for it is dropped from the result."""
    _check_matmul(input.shape, other.shape)
    a = unsqueeze(input, 0) if input.ndim == 1 else input
    b = unsqueeze(other, -1) if other.ndim == 1 else other
    y = MatMul()(a, b)
    added = (-2,) * (input.ndim == 1) + (-1,) * (other.ndim == 1)
    return squeeze(y, added) if added else y


def _check_matmul(a, b):
    if not a or not b:
        raise ValueError(f"matmul: both arguments need at least 1 dimension, got input {a} @ "
                         f"other {b}")
    inner = b[-2] if len(b) > 1 else b[0]
    if a[-1] != inner:
        raise ValueError(f"matmul: inner dimensions differ: input {a} @ other {b} "
                         f"({a[-1]} != {inner})")
    try:
        broadcast_shapes("matmul", a[:-2], b[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions cannot be broadcast: input {a} @ other {b} "
                         f"(batch {a[:-2]} vs {b[:-2]})") from None


class Linear(Function):
    """y = x @ W^T + b, the fully connected layer: x (..., in), W (out, in), b (out,) -> y (..., out).

    With the leading dims of x and dL/dy flattened into rows (X (rows, in), G (rows, out)):
    dL/dx = dL/dy @ W,   dL/dW = G^T @ X,   dL/db = G summed over its rows.
    One Function instead of a transpose, a matmul and an add: this is the op at the end of
    every classifier, and three graph nodes cost more than its GEMM on small layers.
    """

    saved = {"x": "w", "w": "x"}

    def forward(self, x, w, b=None):
        y = _product(x.reshape(-1, x.shape[-1]), w.T).reshape(x.shape[:-1] + w.shape[:1])
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        x, w, b = self.inputs
        if not is_grad_enabled():
            # No graph to record (the usual backward): the same three formulas on arrays,
            # without the seven graph nodes below, which cost more than the GEMMs of a small layer.
            return _linear_grads(x, w, b, gy.data.reshape(-1, gy.shape[-1]))
        rows = reshape(gy, (-1, gy.shape[-1]))
        gw = matmul(transpose(rows, 0, 1), reshape(x, (-1, x.shape[-1])))
        gb = None if b is None else match_dtype(sum(rows, axis=0), b)
        # Mixed precision (float64 data, float32 weights) computes in float64; each input
        # still gets a gradient of its own dtype.
        return match_dtype(matmul(gy, w), x), match_dtype(gw, w), gb


def _linear_grads(x, w, b, rows):
    """Linear's (dL/dx, dL/dW, dL/db) from the rows G of dL/dy, as Tensors of their inputs'
    dtypes, None for an input that needs none."""
    gx = _product(rows, w.data).reshape(x.shape) if x.requires_grad else None
    gw = _product(rows.T, x.data.reshape(-1, x.shape[-1])) if w.requires_grad else None
    gb = rows.sum(axis=0) if b is not None and b.requires_grad else None
    return tuple(None if g is None else Tensor(g.astype(t.dtype, copy=False))
                 for g, t in ((gx, x), (gw, w), (gb, b)))


def linear(input, weight, bias=None):
    """y = input @ weight^T + bias, the fully connected layer (see Linear).

    input (..., in_features), weight (out_features, in_features), bias (out_features,)
    -> y (..., out_features).
    """
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                         f"{weight.shape}")
    out_features, in_features = weight.shape
    if input.ndim == 0 or input.shape[-1] != in_features:
        raise ValueError(f"linear: input has {input.shape[-1] if input.ndim else 0} features but "
                         f"weight expects {in_features} (input {input.shape}, weight {weight.shape})")
    if bias is not None and bias.shape != (out_features,):
        raise ValueError(f"linear: bias has shape {bias.shape} but weight {weight.shape} needs "
                         f"({out_features},)")
    return Linear()(input, weight, bias)
