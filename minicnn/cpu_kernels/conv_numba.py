"""Convolution on the CPU with Numba: im2col and col2im a block of samples at a time, a GEMM
per group, the batch split across threads.

The products are those of im2col.py, but taken over a block of a few samples, so that the
block's columns, (C * kernel_h * kernel_w, block * out_h * out_w), stay in a per-thread
buffer that lives in cache, and so that each thread works on its own slice of the batch
with no locks: a sample's input gradient is written only by the thread that owns it.
Each chunk's loop over blocks runs inside one Numba function compiled with nogil=True,
and np.dot there calls BLAS directly, so the threads of threads.parallel_for run in
parallel. Index math of one window (see conv_geometry.py), with L = out_h * out_w:

    cols[(c * kernel_h + i) * kernel_w + j, b * L + oh * out_w + ow]
        = x[first + b, c, oh * stride_h - top + i * dilation_h, ow * stride_w - left + j * dilation_w]

with zeros where the row or column falls in the padding.
"""
import numpy
from numba import njit, uint64
import scipy.linalg.cython_blas  # noqa: F401  np.dot in Numba calls this BLAS; loaded now so threads.py can limit it

from .threads import parallel_for


@njit(nogil=True, cache=True)
def _valid_outputs(offset, stride, size, count):
    """The range [lo, hi) of output positions o < count with 0 <= o * stride + offset < size."""
    lo = 0 if offset >= 0 else (-offset + stride - 1) // stride
    hi = 0 if size - offset <= 0 else min(count, (size - offset + stride - 1) // stride)
    return lo, max(lo, hi)


# The copy loops below index flat arrays with unsigned integers (uint64): Numba then knows
# no index is negative, skips Python's wrap-around test on every element and vectorises the
# loop. Measured 3x faster than 4-d signed indexing on the shapes of benchmarks/bench_conv.py.
# (In Numba, int64 mixed with uint64 becomes float64, so every index term is made uint64.)

@njit(nogil=True, cache=True)
def im2col_block(x, first, count, geometry, cols):
    """Fill cols (C * kernel_h * kernel_w, count * L) with the windows of samples
    first .. first + count - 1 of x (N, C, H, W), sample b in columns b * L .. (b + 1) * L - 1."""
    kernel_h, kernel_w, stride_h, stride_w, top, left, dilation_h, dilation_w, out_h, out_w = geometry
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    source, target = x.ravel(), cols.ravel()
    row_length, step, zero = cols.shape[1], uint64(stride_w), uint64(0)
    for b in range(count):
        for c in range(channels):
            image = ((first + b) * channels + c) * height * width
            for i in range(kernel_h):
                h_lo, h_hi = _valid_outputs(i * dilation_h - top, stride_h, height, out_h)
                for j in range(kernel_w):
                    row = (c * kernel_h + i) * kernel_w + j
                    w_lo, w_hi = _valid_outputs(j * dilation_w - left, stride_w, width, out_w)
                    first_w = w_lo * stride_w + j * dilation_w - left
                    for oh in range(out_h):
                        out = uint64(row * row_length + (b * out_h + oh) * out_w)
                        if oh < h_lo or oh >= h_hi:
                            for t in range(zero, uint64(out_w)):
                                target[out + t] = 0
                            continue
                        start = uint64(image + (oh * stride_h - top + i * dilation_h) * width + first_w)
                        for t in range(zero, uint64(w_lo)):
                            target[out + t] = 0
                        inside = out + uint64(w_lo)
                        for t in range(zero, uint64(w_hi - w_lo)):
                            target[inside + t] = source[start + t * step]
                        for t in range(uint64(w_hi), uint64(out_w)):
                            target[out + t] = 0


@njit(nogil=True, cache=True)
def col2im_block(cols, first, count, geometry, gx):
    """The adjoint of im2col_block: add every column entry back into gx (N, C, H, W) where it was read."""
    kernel_h, kernel_w, stride_h, stride_w, top, left, dilation_h, dilation_w, out_h, out_w = geometry
    channels, height, width = gx.shape[1], gx.shape[2], gx.shape[3]
    source, target = cols.ravel(), gx.ravel()
    row_length, step, zero = cols.shape[1], uint64(stride_w), uint64(0)
    for b in range(count):
        for c in range(channels):
            image = ((first + b) * channels + c) * height * width
            for i in range(kernel_h):
                h_lo, h_hi = _valid_outputs(i * dilation_h - top, stride_h, height, out_h)
                for j in range(kernel_w):
                    row = (c * kernel_h + i) * kernel_w + j
                    w_lo, w_hi = _valid_outputs(j * dilation_w - left, stride_w, width, out_w)
                    first_w = w_lo * stride_w + j * dilation_w - left
                    for oh in range(h_lo, h_hi):
                        inside = uint64(row * row_length + (b * out_h + oh) * out_w + w_lo)
                        start = uint64(image + (oh * stride_h - top + i * dilation_h) * width + first_w)
                        for t in range(zero, uint64(w_hi - w_lo)):
                            target[start + t * step] += source[inside + t]


@njit(nogil=True, cache=True)
def _block_view(memory, groups, rows, columns):
    """The first groups * rows * columns elements of a 1-d buffer as a contiguous (groups, rows, columns)."""
    return memory[:groups * rows * columns].reshape(groups, rows, columns)


@njit(nogil=True, cache=True)
def _copy_rows(source, target):
    for t in range(uint64(0), uint64(target.shape[0])):
        target[t] = source[t]


@njit(nogil=True, cache=True)
def _to_samples(products, first, count, y):
    """y[first + b, g, o, :] = products[g, o, b * L:(b + 1) * L]   (a GEMM's block -> samples)."""
    pixels = y.shape[3]
    for b in range(count):
        for g in range(y.shape[1]):
            for o in range(y.shape[2]):
                _copy_rows(products[g, o, b * pixels:(b + 1) * pixels], y[first + b, g, o])


@njit(nogil=True, cache=True)
def _from_samples(gy, first, count, gathered):
    """gathered[g, o, b * L:(b + 1) * L] = gy[first + b, g, o, :]   (samples -> a GEMM's block)."""
    pixels = gy.shape[3]
    for b in range(count):
        for g in range(gy.shape[1]):
            for o in range(gy.shape[2]):
                _copy_rows(gy[first + b, g, o], gathered[g, o, b * pixels:(b + 1) * pixels])


@njit(nogil=True, cache=True)
def _forward_chunk(x, weight, start, stop, block, geometry, cols_memory, products_memory, y):
    """y[n, g] = weight[g] @ (columns of sample n, group g) for samples start .. stop - 1.

    weight (G, O/G, P) with P = C/G * kernel_h * kernel_w; y (N, G, O/G, L); the 1-d
    buffers hold a block's columns (G, P, block * L) and products (G, O/G, block * L).
    """
    groups, per_group, patch = weight.shape
    pixels = y.shape[3]
    for first in range(start, stop, block):
        count = min(block, stop - first)
        cols = _block_view(cols_memory, groups, patch, count * pixels)
        products = _block_view(products_memory, groups, per_group, count * pixels)
        im2col_block(x, first, count, geometry, cols.reshape(groups * patch, count * pixels))
        for g in range(groups):
            numpy.dot(weight[g], cols[g], products[g])
        _to_samples(products, first, count, y)


@njit(nogil=True, cache=True)
def _input_grad_chunk(gy, weight_t, start, stop, block, geometry, cols_memory, gathered_memory, gx):
    """(columns of the block, group g) = weight_t[g] @ gy[block, g], then col2im into gx.

    weight_t (G, P, O/G); gy (N, G, O/G, L); gx (N, C, H, W).
    """
    groups, patch, per_group = weight_t.shape
    pixels = gy.shape[3]
    for first in range(start, stop, block):
        count = min(block, stop - first)
        cols = _block_view(cols_memory, groups, patch, count * pixels)
        gathered = _block_view(gathered_memory, groups, per_group, count * pixels)
        _from_samples(gy, first, count, gathered)
        for g in range(groups):
            numpy.dot(weight_t[g], gathered[g], cols[g])
        col2im_block(cols.reshape(groups * patch, count * pixels), first, count, geometry, gx)


@njit(nogil=True, cache=True)
def _weight_grad_chunk(x, gy, start, stop, block, geometry, cols_memory, gathered_memory, gw):
    """gw[g] += gy[block, g] @ (columns of the block, group g)^T over samples start .. stop - 1."""
    groups, per_group, patch = gw.shape
    pixels = gy.shape[3]
    for first in range(start, stop, block):
        count = min(block, stop - first)
        cols = _block_view(cols_memory, groups, patch, count * pixels)
        gathered = _block_view(gathered_memory, groups, per_group, count * pixels)
        im2col_block(x, first, count, geometry, cols.reshape(groups * patch, count * pixels))
        _from_samples(gy, first, count, gathered)
        for g in range(groups):
            gw[g] += numpy.dot(gathered[g], cols[g].T)


# Samples per GEMM: enough columns (block * out_h * out_w) to keep BLAS efficient on small
# images, few enough that a block's columns stay in cache. Measured on shapes A-E of
# benchmarks/bench_conv.py.
_TARGET_COLUMNS = 1024
_MAX_BUFFER_BYTES = 4 << 20


def _run_chunks(kernel, geometry, first_array, output, channels, out_channels, *arrays):
    """parallel_for over the batch: each chunk gets its own block buffers and calls
    kernel(*arrays, start, stop, block, geometry, cols, products_or_gathered, output())."""
    batch, dtype = first_array.shape[0], first_array.dtype
    pixels = geometry.out_size[0] * geometry.out_size[1]
    patch = channels * geometry.kernel[0] * geometry.kernel[1]   # all groups together

    def chunk(start, stop):
        count = stop - start
        block = max(1, min(count, -(-_TARGET_COLUMNS // pixels),
                           _MAX_BUFFER_BYTES // (patch * pixels * dtype.itemsize)))
        block = -(-count // -(-count // block))   # equal blocks: 16 samples by 3 -> 4 by 4
        cols = numpy.empty(patch * block * pixels, dtype=dtype)
        products = numpy.empty(out_channels * block * pixels, dtype=dtype)
        kernel(*arrays, start, stop, block, geometry.numba_args, cols, products, output())
    parallel_for(chunk, batch)


def _grouped(array, groups):
    """(N, O, ...) -> contiguous (N, G, O/G, pixels)."""
    return numpy.ascontiguousarray(array).reshape(array.shape[0], groups, array.shape[1] // groups, -1)


def forward(x, weight, geometry):
    """The correlation of x (N, C, H, W) with weight (O, C / groups, kh, kw): (N, O, out_h, out_w)."""
    x, groups = numpy.ascontiguousarray(x), geometry.groups
    (batch, channels), out_channels = x.shape[:2], weight.shape[0]
    matrix = numpy.ascontiguousarray(weight.reshape(groups, out_channels // groups, -1))
    y = numpy.empty((batch, groups, out_channels // groups, _pixels(geometry)), dtype=x.dtype)
    _run_chunks(_forward_chunk, geometry, x, lambda: y, channels, out_channels, x, matrix)
    return y.reshape((batch, out_channels) + geometry.out_size)


def input_grad(gy, weight, geometry):
    """dL/dx for the forward above, from gy (N, O, out_h, out_w): (N, C, H, W)."""
    groups, (batch, out_channels) = geometry.groups, gy.shape[:2]
    channels = weight.shape[1] * groups
    matrix_t = numpy.ascontiguousarray(
        weight.reshape(groups, out_channels // groups, -1).transpose(0, 2, 1))
    gx = numpy.zeros((batch, channels) + geometry.in_size, dtype=gy.dtype)
    _run_chunks(_input_grad_chunk, geometry, gy, lambda: gx, channels, out_channels, _grouped(gy, groups), matrix_t)
    return gx


def weight_grad(x, gy, geometry):
    """dL/dweight for the forward above: (O, C / groups, kh, kw), each thread summing its samples."""
    x, groups = numpy.ascontiguousarray(x), geometry.groups
    (batch, channels), out_channels = x.shape[:2], gy.shape[1]
    shape = (out_channels, channels // groups) + geometry.kernel
    partials = []

    def partial():   # each chunk sums into its own array: no two threads add to one
        partials.append(numpy.zeros((groups, out_channels // groups, shape[1] * shape[2] * shape[3]),
                                    dtype=x.dtype))
        return partials[-1]
    _run_chunks(_weight_grad_chunk, geometry, x, partial, channels, out_channels, x, _grouped(gy, groups))
    return sum(partials[1:], partials[0]).reshape(shape)


def _pixels(geometry):
    return geometry.out_size[0] * geometry.out_size[1]
