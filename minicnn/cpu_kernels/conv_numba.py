"""Convolution on the CPU with Numba: im2col and col2im per sample, a GEMM per group, batch split across threads.

The products are those of im2col.py, but taken one sample at a time so the columns of
one sample, (C * kernel_h * kernel_w, out_h * out_w), stay in a small per-thread buffer
that lives in cache, and so that each thread works on its own slice of the batch with
no locks: a sample's input gradient is written only by the thread that owns the sample.
Each chunk's loop over samples runs inside one Numba function compiled with nogil=True,
and np.dot there calls BLAS directly, so the threads of threads.parallel_for run in
parallel. Index math of one window (see conv_geometry.py):

    cols[(c * kernel_h + i) * kernel_w + j, oh * out_w + ow]
        = x[n, c, oh * stride_h - top + i * dilation_h, ow * stride_w - left + j * dilation_w]

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
def im2col_sample(x, n, geometry, cols):
    """Fill cols (C * kernel_h * kernel_w, out_h * out_w) with the windows of sample n of x (N, C, H, W)."""
    kernel_h, kernel_w, stride_h, stride_w, top, left, dilation_h, dilation_w, out_h, out_w = geometry
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    for c in range(channels):
        for i in range(kernel_h):
            h_lo, h_hi = _valid_outputs(i * dilation_h - top, stride_h, height, out_h)
            for j in range(kernel_w):
                row = (c * kernel_h + i) * kernel_w + j
                w_lo, w_hi = _valid_outputs(j * dilation_w - left, stride_w, width, out_w)
                for oh in range(out_h):
                    base = oh * out_w
                    if oh < h_lo or oh >= h_hi:
                        cols[row, base:base + out_w] = 0
                        continue
                    h = oh * stride_h - top + i * dilation_h
                    cols[row, base:base + w_lo] = 0
                    for ow in range(w_lo, w_hi):
                        cols[row, base + ow] = x[n, c, h, ow * stride_w - left + j * dilation_w]
                    cols[row, base + w_hi:base + out_w] = 0


@njit(nogil=True, cache=True)
def col2im_sample(cols, n, geometry, gx):
    """The adjoint of im2col_sample: add every entry of cols back into gx[n] where it was read."""
    kernel_h, kernel_w, stride_h, stride_w, top, left, dilation_h, dilation_w, out_h, out_w = geometry
    channels, height, width = gx.shape[1], gx.shape[2], gx.shape[3]
    for c in range(channels):
        for i in range(kernel_h):
            h_lo, h_hi = _valid_outputs(i * dilation_h - top, stride_h, height, out_h)
            for j in range(kernel_w):
                row = (c * kernel_h + i) * kernel_w + j
                w_lo, w_hi = _valid_outputs(j * dilation_w - left, stride_w, width, out_w)
                for oh in range(h_lo, h_hi):
                    h = oh * stride_h - top + i * dilation_h
                    base = oh * out_w
                    for ow in range(w_lo, w_hi):
                        gx[n, c, h, ow * stride_w - left + j * dilation_w] += cols[row, base + ow]


@njit(nogil=True, cache=True)
def _forward_chunk(x, weight, start, stop, geometry, cols, y):
    """y[n, group block] = weight[group] @ cols[group block] for samples start..stop-1.

    weight: (groups, O / groups, C / groups * kernel_h * kernel_w); y: (N, O, out_h * out_w).
    """
    groups, per_group, patch = weight.shape
    for n in range(start, stop):
        im2col_sample(x, n, geometry, cols)
        for g in range(groups):
            numpy.dot(weight[g], cols[g * patch:(g + 1) * patch], y[n, g * per_group:(g + 1) * per_group])


@njit(nogil=True, cache=True)
def _input_grad_chunk(gy, weight_t, start, stop, geometry, cols, gx):
    """cols[group block] = weight_t[group] @ gy[n, group block], then col2im into gx[n].

    weight_t: (groups, C / groups * kernel_h * kernel_w, O / groups); gy: (N, O, out_h * out_w).
    """
    groups, patch, per_group = weight_t.shape
    for n in range(start, stop):
        for g in range(groups):
            numpy.dot(weight_t[g], gy[n, g * per_group:(g + 1) * per_group], cols[g * patch:(g + 1) * patch])
        col2im_sample(cols, n, geometry, gx)


@njit(nogil=True, cache=True)
def _weight_grad_chunk(x, gy, start, stop, geometry, cols, gw):
    """gw[group] += gy[n, group block] @ cols[group block]^T, summed over samples start..stop-1."""
    groups, per_group, patch = gw.shape
    for n in range(start, stop):
        im2col_sample(x, n, geometry, cols)
        for g in range(groups):
            gw[g] += numpy.dot(gy[n, g * per_group:(g + 1) * per_group], cols[g * patch:(g + 1) * patch].T)


def forward(x, weight, geometry):
    """The correlation of x (N, C, H, W) with weight (O, C / groups, kh, kw): (N, O, out_h, out_w)."""
    x = numpy.ascontiguousarray(x)
    batch, out_channels = x.shape[0], weight.shape[0]
    matrix = numpy.ascontiguousarray(weight.reshape(geometry.groups, out_channels // geometry.groups, -1))
    y = numpy.empty((batch, out_channels, _pixels(geometry)), dtype=x.dtype)

    def chunk(start, stop):
        _forward_chunk(x, matrix, start, stop, geometry.numba_args, _columns(x, geometry), y)
    parallel_for(chunk, batch)
    return y.reshape((batch, out_channels) + geometry.out_size)


def input_grad(gy, weight, geometry):
    """dL/dx for the forward above, from gy (N, O, out_h, out_w): (N, C, H, W)."""
    batch, out_channels = gy.shape[:2]
    gy = numpy.ascontiguousarray(gy).reshape(batch, out_channels, -1)
    matrix_t = numpy.ascontiguousarray(
        weight.reshape(geometry.groups, out_channels // geometry.groups, -1).transpose(0, 2, 1))
    gx = numpy.zeros((batch, weight.shape[1] * geometry.groups) + geometry.in_size, dtype=gy.dtype)

    def chunk(start, stop):
        _input_grad_chunk(gy, matrix_t, start, stop, geometry.numba_args, _columns(gx, geometry), gx)
    parallel_for(chunk, batch)
    return gx


def weight_grad(x, gy, geometry):
    """dL/dweight for the forward above: (O, C / groups, kh, kw), each thread summing its samples."""
    x = numpy.ascontiguousarray(x)
    batch, out_channels = gy.shape[:2]
    gy = numpy.ascontiguousarray(gy).reshape(batch, out_channels, -1)
    shape = (out_channels, x.shape[1] // geometry.groups) + geometry.kernel
    partials = []

    def chunk(start, stop):
        gw = numpy.zeros((geometry.groups, out_channels // geometry.groups, shape[1] * shape[2] * shape[3]),
                         dtype=x.dtype)
        _weight_grad_chunk(x, gy, start, stop, geometry.numba_args, _columns(x, geometry), gw)
        partials.append(gw)
    parallel_for(chunk, batch)
    return sum(partials[1:], partials[0]).reshape(shape)


def _columns(x, geometry):
    """A per-thread im2col buffer for one sample: (C * kernel_h * kernel_w, out_h * out_w)."""
    return numpy.empty((x.shape[1] * geometry.kernel[0] * geometry.kernel[1], _pixels(geometry)), dtype=x.dtype)


def _patch(shape):
    return shape[1] * shape[2] * shape[3]


def _pixels(geometry):
    return geometry.out_size[0] * geometry.out_size[1]
