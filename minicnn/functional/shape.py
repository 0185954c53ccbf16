"""Ops that move elements without changing them: reshape, permute, cat, split, indexing.

None of them does arithmetic, so each backward only moves the gradient back to where the
element came from: reshape undoes reshape, permute undoes permute, split undoes cat (and
cat undoes split), and indexing scatters the gradient into the positions it read.

Dimensions follow Python's negative indexing, as in PyTorch: dim=-1 is the last one.
"""
import math

import numpy

from ..autograd import Function, Tensor
from ..backend import array_module, is_cupy_array
from .conversion import match_dtype

__all__ = ["reshape", "view", "permute", "transpose", "flatten", "squeeze", "unsqueeze",
           "cat", "concatenate", "stack", "split", "chunk", "index", "center_crop"]


# --- dimension arguments (shared with reduce.py) -------------------------------------------
def normalize_dim(op, dim, shape, argument="dim"):
    """`dim` as an axis in [0, len(shape)), counting negative dims from the end.

    A 0-d tensor accepts dim 0 and -1, as in PyTorch.
    """
    ndim = max(len(shape), 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, numpy.integer)):
        raise TypeError(f"{op}: '{argument}' must be an integer, got {dim!r}")
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: {argument} {dim} is out of range for input of shape "
                         f"{tuple(shape)} (expected {-ndim} <= {argument} < {ndim})")
    return int(dim) % ndim


def normalize_dims(op, dim, shape):
    """`dim` (None, an int, or a tuple/list of ints) as a sorted tuple of axes; None is all."""
    if dim is None:
        return tuple(range(len(shape)))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    axes = [normalize_dim(op, d, shape) for d in dims]
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dim {dim} names the same dimension more than once")
    return tuple(sorted(axes)) if shape else ()


def resolve_dim(op, dim, axis):
    """PyTorch's `dim` or NumPy's `axis`, whichever was given."""
    if dim is not None and axis is not None:
        raise TypeError(f"{op}: pass 'dim' or 'axis', not both (got dim={dim}, axis={axis})")
    return axis if dim is None else dim


def sizes_argument(args):
    """Accept f(x, 2, 3) as well as f(x, (2, 3)) and f(x, [2, 3])."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


# --- reshape ----------------------------------------------------------------------------------
class Reshape(Function):
    """y = the elements of x, in row-major order, laid out in `shape`.
    dL/dx = reshape(dL/dy, x.shape)."""

    saved = {}

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.inputs[0].shape)


def reshape(input, *shape):
    """`reshape(x, 2, 3)` or `reshape(x, (2, 3))`; one size may be -1, inferred from the rest.
    `view` is the same op (there is no separate view/copy distinction here)."""
    shape = _infer_shape(input.shape, sizes_argument(shape))
    return input if shape == input.shape else Reshape(shape)(input)


view = reshape


def _infer_shape(old, new):
    count = math.prod(old)
    known = math.prod(s for s in new if s != -1)
    if list(new).count(-1) > 1 or any(s < -1 for s in new):
        raise ValueError(f"reshape: sizes must be non-negative with at most one -1, got {new}")
    if -1 in new:
        if known == 0 or count % known:
            raise ValueError(f"reshape: cannot reshape input of shape {old} ({count} elements) "
                             f"into {new}")
        new = tuple(count // known if s == -1 else s for s in new)
    if math.prod(new) != count:
        raise ValueError(f"reshape: cannot reshape input of shape {old} ({count} elements) "
                         f"into {new} ({math.prod(new)} elements)")
    return tuple(int(s) for s in new)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim (inclusive) into one; a 0-d input becomes shape (1,)."""
    start = normalize_dim("flatten", start_dim, input.shape, "start_dim")
    end = normalize_dim("flatten", end_dim, input.shape, "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"(input shape {input.shape})")
    shape = input.shape
    return reshape(input, shape[:start] + (-1,) + shape[end + 1:])


def squeeze(input, dim=None):
    """Drop dims of size 1 (all of them, or those in `dim`; a named dim of another size stays)."""
    dims = normalize_dims("squeeze", dim, input.shape)
    return reshape(input, tuple(s for i, s in enumerate(input.shape) if not (i in dims and s == 1)))


def unsqueeze(input, dim):
    """Insert a dim of size 1 at position `dim` (-1 appends one at the end)."""
    dim = normalize_dim("unsqueeze", dim, input.shape + (1,))
    return reshape(input, input.shape[:dim] + (1,) + input.shape[dim:])


# --- permute ----------------------------------------------------------------------------------
class Permute(Function):
    """y = x with axes reordered: y.shape[i] = x.shape[dims[i]].
    dL/dx = permute(dL/dy, inverse of dims)."""

    saved = {}

    def __init__(self, dims):
        self.dims = dims

    def forward(self, x):
        return x.transpose(self.dims)

    def backward(self, gy):
        return permute(gy, tuple(int(i) for i in numpy.argsort(self.dims)))


def permute(input, *dims):
    """`permute(x, 2, 0, 1)` or `permute(x, (2, 0, 1))`: dims is a reordering of all axes."""
    requested = sizes_argument(dims)
    dims = tuple(normalize_dim("permute", d, input.shape) for d in requested)
    if sorted(dims) != list(range(input.ndim)):
        raise ValueError(f"permute: dims {requested} is not a reordering of the "
                         f"{input.ndim} dims of input {input.shape}")
    return input if dims == tuple(range(input.ndim)) else Permute(dims)(input)


def transpose(input, dim0, dim1):
    """Swap two dims (PyTorch's transpose; `x.T` reverses all of them)."""
    dims = list(range(input.ndim))
    first = normalize_dim("transpose", dim0, input.shape, "dim0")
    second = normalize_dim("transpose", dim1, input.shape, "dim1")
    if input.ndim:
        dims[first], dims[second] = dims[second], dims[first]
    return permute(input, dims)


# --- cat / split ------------------------------------------------------------------------------
class Concatenate(Function):
    """y = x_1, ..., x_n joined along `dim`.   dL/dx_i = the block of dL/dy that x_i filled."""

    saved = {}

    def __init__(self, dim):
        self.dim = dim

    def forward(self, *xs):
        return array_module(*xs).concatenate(xs, axis=self.dim)

    def backward(self, gy):
        blocks = split(gy, [x.shape[self.dim] for x in self.inputs], self.dim)
        return tuple(match_dtype(g, x) for g, x in zip(blocks, self.inputs))


class Split(Function):
    """y_k = the k-th block of x along `dim`, of size sizes[k].   dL/dx = cat(dL/dy_k)."""

    saved = {}

    def __init__(self, sizes, dim):
        self.sizes, self.dim = sizes, dim

    def forward(self, x):
        bounds = numpy.cumsum(self.sizes)[:-1].tolist()
        return tuple(array_module(x).split(x, bounds, axis=self.dim))

    def backward(self, *gys):
        return cat(gys, self.dim)


def cat(tensors, dim=0):
    """Join tensors along an existing dim; their shapes must agree in every other dim."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    first = tensors[0].shape
    dim = normalize_dim("cat", dim, first)
    for position, t in enumerate(tensors[1:], start=1):
        if len(t.shape) != len(first) or any(
                a != b for i, (a, b) in enumerate(zip(t.shape, first)) if i != dim):
            raise ValueError(f"cat: tensor {position} has shape {t.shape} but tensor 0 has shape "
                             f"{first}; shapes must match except in dim {dim}")
    return tensors[0] if len(tensors) == 1 else Concatenate(dim)(*tensors)


concatenate = cat


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dim: stack([a, b], 0).shape == (2,) + a.shape."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for position, t in enumerate(tensors[1:], start=1):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: tensor {position} has shape {t.shape} but tensor 0 has "
                             f"shape {tensors[0].shape}; all shapes must be equal")
    dim = normalize_dim("stack", dim, tensors[0].shape + (1,))
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def split(input, split_size_or_sections, dim=0):
    """A tuple of blocks along `dim`: of size `split_size_or_sections` each (the last may be
    smaller), or of the listed sizes, which must add up to the size of `dim`."""
    dim, length = _dim_and_length("split", dim, input)
    if isinstance(split_size_or_sections, (int, numpy.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [size] * (length // size) + ([length % size] if length % size else [])
        sizes = sizes or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != length or any(s < 0 for s in sizes):
            raise ValueError(f"split: sections {sizes} add up to {sum(sizes)} but input has size "
                             f"{length} in dim {dim} (shape {input.shape})")
    return Split(sizes, dim)(input)


def chunk(input, chunks, dim=0):
    """Split into `chunks` blocks of equal size (the last may be smaller, and there may be fewer)."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    _, length = _dim_and_length("chunk", dim, input)
    return split(input, max(1, -(-length // chunks)), dim)


def _dim_and_length(op, dim, input):
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have at least one dimension, got a 0-d tensor")
    dim = normalize_dim(op, dim, input.shape)
    return dim, input.shape[dim]


# --- indexing ---------------------------------------------------------------------------------
class Index(Function):
    """y = x[key], for basic slicing (ints, slices, None, ...) and integer or bool arrays.
    dL/dx = zeros of x's shape with dL/dy added at [key] (IndexBackward)."""

    saved = {}

    def __init__(self, key):
        self.key = key

    def forward(self, x):
        return x[self.key]

    def backward(self, gy):
        return IndexBackward(self.key, self.inputs[0].shape)(gy)


class IndexBackward(Function):
    """y = zeros(shape) with x added at [key], the scatter that is the adjoint of the gather x[key].
    dL/dx = dL/dy[key] (Index), so the gradient of indexing is differentiable too.

    An integer array may name an element twice (x[[0, 0]]); both reads contributed to the
    loss, so both gradients must be added. `y[key] += x` would keep only one of them:
    `xp.add.at` accumulates (CuPy has had `cupy.add.at` since v12).
    """

    saved = {}

    def __init__(self, key, shape):
        self.key, self.shape = key, shape

    def forward(self, x):
        xp = array_module(x)
        y = xp.zeros(self.shape, dtype=x.dtype)
        if any(hasattr(k, "dtype") and k.dtype.kind in "iu" for k in self.key):
            xp.add.at(y, self.key, x)
        else:                           # slices and masks never repeat a position
            y[self.key] = x
        return y

    def backward(self, gy):
        return Index(self.key)(gy)


def index(input, key):
    """input[key] (this is Tensor.__getitem__). Index tensors must be integer or bool."""
    xp = array_module(input.data if isinstance(input, Tensor) else input)
    return Index(_array_key(key, xp))(input)


def _array_key(key, xp):
    """The key as a tuple whose index arrays live on the input's device (CPU index arrays
    are copied to the GPU for a CUDA input, as PyTorch allows; the reverse is an error)."""
    items = key if isinstance(key, tuple) else (key,)
    converted = []
    for item in items:
        if isinstance(item, Tensor):
            item = item.data
        if isinstance(item, list):
            item = numpy.asarray(item, dtype=numpy.int64 if not item else None)
        if hasattr(item, "dtype"):
            if item.dtype.kind not in "iub":
                raise TypeError(f"index: index arrays must have an integer or bool dtype, got "
                                f"{item.dtype}")
            if is_cupy_array(item) and xp is numpy:
                raise RuntimeError("index: the index is on the GPU but the input is on the CPU; "
                                   "move the index with .cpu() first")
            item = xp.asarray(item)
        converted.append(item)
    return tuple(converted)


def center_crop(input, height, width):
    """The central height x width window of the last two axes of input (..., H, W), the
    top-left corner at ((H - height) // 2, (W - width) // 2): the U-Net's crop of a skip
    connection to the map it joins. Works on a Tensor (an index op, so dL/dinput is dL/dy
    inside the window and 0 outside) and on a NumPy array alike."""
    if input.ndim < 2 or not (0 < height <= input.shape[-2] and 0 < width <= input.shape[-1]):
        raise ValueError(f"center_crop: cannot take a {height} x {width} window from the last "
                         f"two axes of shape {tuple(input.shape)}")
    top, left = (input.shape[-2] - height) // 2, (input.shape[-1] - width) // 2
    return input[..., top:top + height, left:left + width]
