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
from numba import njit
import scipy.linalg.cython_blas  # noqa: F401  np.dot in Numba calls this BLAS; loaded now so threads.py can limit it

from .threads import parallel_for


@njit(nogil=True, cache=True)
def _valid_outputs(offset, stride, size, count):
    """The range [lo, hi) of output positions o < count with 0 <= o * stride + offset < size."""
    lo = 0 if offset >= 0 else (-offset + stride - 1) // stride
    hi = 0 if size - offset <= 0 else min(count, (size - offset + stride - 1) // stride)
    return lo, max(lo, hi)


@njit(nogil=True, cache=True)
def im2col_block(x, first, count, geometry, cols):
    """Fill cols (C * kernel_h * kernel_w, block * L) with the windows of samples
    first .. first + count - 1 of x (N, C, H, W), sample b in columns b * L .. (b + 1) * L - 1.
    Columns of a block's unused tail (count < block) are left as they are."""
    kernel_h, kernel_w, stride_h, stride_w, top, left, dilation_h, dilation_w, out_h, out_w = geometry
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    pixels = out_h * out_w
    for b in range(count):
        for c in range(channels):
            image = x[first + b, c]
            for i in range(kernel_h):
                h_lo, h_hi = _valid_outputs(i * dilation_h - top, stride_h, height, out_h)
                for j in range(kernel_w):
                    row = cols[(c * kernel_h + i) * kernel_w + j, b * pixels:(b + 1) * pixels]
                    w_lo, w_hi = _valid_outputs(j * dilation_w - left, stride_w, width, out_w)
                    first_w = w_lo * stride_w + j * dilation_w - left
                    for oh in range(out_h):
                        # Loops count from 0 over 1-d views: LLVM then knows no index is
                        # negative, drops Python's wrap-around test and vectorises the copy.
                        out_row = row[oh * out_w:(oh + 1) * out_w]
                        if oh < h_lo or oh >= h_hi:
                            for t in range(out_w):
                                out_row[t] = 0
                            continue
                        source = image[oh * stride_h - top + i * dilation_h, first_w:]
                        for t in range(w_lo):
                            out_row[t] = 0
                        inside = out_row[w_lo:w_hi]
                        for t in range(w_hi - w_lo):
                            inside[t] = source[t * stride_w]
                        for t in range(w_hi, out_w):
                            out_row[t] = 0


@njit(nogil=True, cache=True)
def col2im_block(cols, first, count, geometry, gx):
    """The adjoint of im2col_block: add every column entry back into gx (N, C, H, W) where it was read."""
    kernel_h, kernel_w, stride_h, stride_w, top, left, dilation_h, dilation_w, out_h, out_w = geometry
    channels, height, width = gx.shape[1], gx.shape[2], gx.shape[3]
    pixels = out_h * out_w
    for b in range(count):
        for c in range(channels):
            image = gx[first + b, c]
            for i in range(kernel_h):
                h_lo, h_hi = _valid_outputs(i * dilation_h - top, stride_h, height, out_h)
                for j in range(kernel_w):
                    row = cols[(c * kernel_h + i) * kernel_w + j, b * pixels:(b + 1) * pixels]
                    w_lo, w_hi = _valid_outputs(j * dilation_w - left, stride_w, width, out_w)
                    if w_lo == w_hi:
                        continue
                    first_w = w_lo * stride_w + j * dilation_w - left
                    for oh in range(h_lo, h_hi):
                        target = image[oh * stride_h - top + i * dilation_h, first_w:]
                        inside = row[oh * out_w + w_lo:oh * out_w + w_hi]
                        for t in range(w_hi - w_lo):
                            target[t * stride_w] += inside[t]


@njit(nogil=True, cache=True)
def _gather_block(gy, first, count, buffer):
    """buffer[g, o, b * L + p] = gy[first + b, g, o, p], zero for b >= count.   gy: (N, G, O / G, L)."""
    pixels = gy.shape[3]
    for g in range(gy.shape[1]):
        for o in range(gy.shape[2]):
            for b in range(count):
                buffer[g, o, b * pixels:(b + 1) * pixels] = gy[first + b, g, o]
            buffer[g, o, count * pixels:] = 0


@njit(nogil=True, cache=True)
def _forward_chunk(x, weight, start, stop, geometry, cols, products, y):
    """y[n, g] = weight[g] @ (columns of sample n, group g) for samples start .. stop - 1, a block at a time.

    weight (G, O/G, P) with P = C/G * kernel_h * kernel_w; cols (G, P, block * L);
    products (G, O/G, block * L); y (N, G, O/G, L).
    """
    groups, pixels, block = weight.shape[0], y.shape[3], cols.shape[2] // y.shape[3]
    for first in range(start, stop, block):
        count = min(block, stop - first)
        im2col_block(x, first, count, geometry, cols.reshape(-1, cols.shape[2]))
        for g in range(groups):
            numpy.dot(weight[g], cols[g], products[g])
        for b in range(count):
            y[first + b] = products[:, :, b * pixels:(b + 1) * pixels]


@njit(nogil=True, cache=True)
def _input_grad_chunk(gy, weight_t, start, stop, geometry, cols, gathered, gx):
    """(columns of block, group g) = weight_t[g] @ gy[block, g], then col2im into gx.

    weight_t (G, P, O/G); gy (N, G, O/G, L); cols (G, P, block * L); gathered (G, O/G, block * L).
    """
    groups, block = weight_t.shape[0], gathered.shape[2] // gy.shape[3]
    for first in range(start, stop, block):
        count = min(block, stop - first)
        _gather_block(gy, first, count, gathered)
        for g in range(groups):
            numpy.dot(weight_t[g], gathered[g], cols[g])
        col2im_block(cols.reshape(-1, cols.shape[2]), first, count, geometry, gx)


@njit(nogil=True, cache=True)
def _weight_grad_chunk(x, gy, start, stop, geometry, cols, gathered, gw):
    """gw[g] += gy[block, g] @ (columns of block, group g)^T over samples start .. stop - 1.

    The gathered gy of a block's unused tail is zero, so stale columns there add nothing.
    """
    groups, block = gw.shape[0], gathered.shape[2] // gy.shape[3]
    for first in range(start, stop, block):
        count = min(block, stop - first)
        im2col_block(x, first, count, geometry, cols.reshape(-1, cols.shape[2]))
        _gather_block(gy, first, count, gathered)
        for g in range(groups):
            gw[g] += numpy.dot(gathered[g], cols[g].T)


# Samples per GEMM: enough columns (block * out_h * out_w) to keep BLAS efficient on small
# images, few enough that a block's columns stay in cache. Measured on shapes A-E of
# benchmarks/bench_conv.py.
_TARGET_COLUMNS = 1024
_MAX_BUFFER_BYTES = 4 << 20


def _block(geometry, channels, count, itemsize):
    pixels = geometry.out_size[0] * geometry.out_size[1]
    rows = channels * geometry.kernel[0] * geometry.kernel[1]
    by_columns = -(-_TARGET_COLUMNS // pixels)
    by_memory = _MAX_BUFFER_BYTES // (rows * pixels * itemsize)
    return max(1, min(count, by_columns, by_memory))


def _buffers(geometry, channels, out_channels, count, dtype):
    """Per-thread (cols, products) buffers for blocks of samples: (G, P, block L), (G, O/G, block L)."""
    groups, pixels = geometry.groups, geometry.out_size[0] * geometry.out_size[1]
    columns = _block(geometry, channels, count, numpy.dtype(dtype).itemsize) * pixels
    patch = channels // groups * geometry.kernel[0] * geometry.kernel[1]
    return (numpy.empty((groups, patch, columns), dtype=dtype),
            numpy.empty((groups, out_channels // groups, columns), dtype=dtype))


def _grouped(array, groups):
    """(N, O, ...) -> contiguous (N, G, O/G, pixels)."""
    return numpy.ascontiguousarray(array).reshape(array.shape[0], groups, array.shape[1] // groups, -1)


def forward(x, weight, geometry):
    """The correlation of x (N, C, H, W) with weight (O, C / groups, kh, kw): (N, O, out_h, out_w)."""
    x, groups = numpy.ascontiguousarray(x), geometry.groups
    (batch, channels), out_channels = x.shape[:2], weight.shape[0]
    matrix = numpy.ascontiguousarray(weight.reshape(groups, out_channels // groups, -1))
    y = numpy.empty((batch, groups, out_channels // groups, _pixels(geometry)), dtype=x.dtype)

    def chunk(start, stop):
        cols, products = _buffers(geometry, channels, out_channels, stop - start, x.dtype)
        _forward_chunk(x, matrix, start, stop, geometry.numba_args, cols, products, y)
    parallel_for(chunk, batch)
    return y.reshape((batch, out_channels) + geometry.out_size)


def input_grad(gy, weight, geometry):
    """dL/dx for the forward above, from gy (N, O, out_h, out_w): (N, C, H, W)."""
    groups, (batch, out_channels) = geometry.groups, gy.shape[:2]
    channels = weight.shape[1] * groups
    gy = _grouped(gy, groups)
    matrix_t = numpy.ascontiguousarray(
        weight.reshape(groups, out_channels // groups, -1).transpose(0, 2, 1))
    gx = numpy.zeros((batch, channels) + geometry.in_size, dtype=gy.dtype)

    def chunk(start, stop):
        cols, gathered = _buffers(geometry, channels, out_channels, stop - start, gy.dtype)
        _input_grad_chunk(gy, matrix_t, start, stop, geometry.numba_args, cols, gathered, gx)
    parallel_for(chunk, batch)
    return gx


def weight_grad(x, gy, geometry):
    """dL/dweight for the forward above: (O, C / groups, kh, kw), each thread summing its samples."""
    x, groups = numpy.ascontiguousarray(x), geometry.groups
    (batch, channels), out_channels = x.shape[:2], gy.shape[1]
    gy = _grouped(gy, groups)
    partials = []

    def chunk(start, stop):
        cols, gathered = _buffers(geometry, channels, out_channels, stop - start, x.dtype)
        gw = numpy.zeros((groups, out_channels // groups, cols.shape[1]), dtype=x.dtype)
        _weight_grad_chunk(x, gy, start, stop, geometry.numba_args, cols, gathered, gw)
        partials.append(gw)
    parallel_for(chunk, batch)
    shape = (out_channels, channels // groups) + geometry.kernel
    return sum(partials[1:], partials[0]).reshape(shape)


def _pixels(geometry):
    return geometry.out_size[0] * geometry.out_size[1]
