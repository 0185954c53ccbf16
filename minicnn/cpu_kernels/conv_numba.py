"""Convolution on the CPU with Numba: im2col and col2im a block of samples at a time, a GEMM
per sample and group, the batch split across threads.

The products are those of im2col.py, but taken over a block of a few samples, so that the
block's columns, (block, C * kernel_h * kernel_w, out_h * out_w), stay in a per-thread
buffer that lives in cache, and so that each thread works on its own slice of the batch
with no locks: a sample's input gradient is written only by the thread that owns it.
The columns are kept sample by sample, in the layout of y (N, O, out_h * out_w), so one
stacked NumPy matmul reads gy and writes y in place, with no copy between the GEMM and the
batch. The copies are Numba functions compiled with nogil=True and the GEMMs NumPy matmuls,
which release the GIL too, so the threads of threads.parallel_for run in parallel. Index
math of one window (see conv_geometry.py), with L = out_h * out_w:

    cols[b, (c * kernel_h + i) * kernel_w + j, oh * out_w + ow]
        = x[first + b, c, oh * stride_h - top + i * dilation_h, ow * stride_w - left + j * dilation_w]

with zeros where the row or column falls in the padding. The tests compare the three
products with reference/conv.py, their definition.

At stride_w = 2 the window's row is read every other element, and LLVM does not vectorize
a strided copy: it copies one float at a time. So each input plane is first split into its
even and odd columns, phases[q, h, m] = x[h, 2 m + q] (a loop that LLVM does vectorize).
Column w = 2 ow + j * dilation_w - left then lies in phase w % 2 at m = w // 2, and m grows
by one with ow: every copy reads a contiguous run of a phase (col2im adds into the phases
and merges them back into the plane). At larger strides the split does not pay: a 3x3
window at stride 3 reads each input float once anyway, and a split of general stride is
itself a loop of one float at a time. Those read the plane with their stride.
(benchmarks/README.md has the measurements behind the choices made here.)
"""
import numpy
from numba import uint64

from .bias import add_bias
from .jit import kernel
from .row_products import add_row_products
from .scratch import scratch
from .threads import parallel_for


@kernel
def _valid_outputs(offset, stride, size, count):
    """The range [lo, hi) of output positions o < count with 0 <= o * stride + offset < size."""
    lo = 0 if offset >= 0 else min(count, (-offset + stride - 1) // stride)
    hi = 0 if size - offset <= 0 else min(count, (size - offset + stride - 1) // stride)
    return lo, max(lo, hi)


# The copy loops below index flat arrays with unsigned integers (uint64): Numba then knows
# no index is negative, skips Python's wrap-around test on every element and vectorises the
# loop (3x faster than 4-d signed indexing). In Numba, int64 mixed with uint64 becomes
# float64, so every index term is made uint64.

@kernel
def _window_walk(images, cols, first, count, geometry, to_columns, phases):
    """Visit every (window row, output row) pair of samples first .. first + count - 1.

    to_columns=True is im2col: cols (count * C * kernel_h * kernel_w, L) gets the windows of
    images (N, C, H, W), sample b in rows b * C * kernel_h * kernel_w onwards, zeros in the padding.
    to_columns=False is col2im, its adjoint: every column entry is added back into images
    where it was read. Both are one walk, so the two cannot disagree on an index.
    phases (2, H, ceil(W / 2)) is scratch for one plane's phases at stride_w = 2, unused else.
    """
    kernel_h, kernel_w, stride_h, stride_w, top, left, dilation_h, dilation_w, out_h, out_w = geometry
    channels, height, width = images.shape[1], images.shape[2], images.shape[3]
    # Read from the two phases at stride 2 (one float apart), else from the plane as its only
    # phase, stride_w floats apart.
    split = stride_w == 2
    phase_count, step = (2, uint64(1)) if split else (1, uint64(stride_w))
    phase_width = -(-width // phase_count)
    columns, zero = cols.ravel(), uint64(0)
    for b in range(count):
        for c in range(channels):
            plane = images[first + b, c]
            if not split:
                source = plane.reshape(1, height, width)
            else:
                source = phases
                if to_columns:
                    _phase_walk(plane, phases, True)
                else:
                    phases[:] = 0
            pixels = source.ravel()
            for i in range(kernel_h):
                h_lo, h_hi = _valid_outputs(i * dilation_h - top, stride_h, height, out_h)
                for j in range(kernel_w):
                    row = (b * channels + c) * kernel_h * kernel_w + i * kernel_w + j
                    w_lo, w_hi = _valid_outputs(j * dilation_w - left, stride_w, width, out_w)
                    first_w = w_lo * stride_w + j * dilation_w - left   # the first column read
                    phase, first_m = first_w % phase_count, first_w // phase_count
                    for oh in range(out_h):
                        out = uint64((row * out_h + oh) * out_w)
                        inside = out + uint64(w_lo)
                        h = oh * stride_h - top + i * dilation_h
                        start = uint64(max(0, (phase * height + h) * phase_width + first_m))
                        if not to_columns:
                            if h_lo <= oh < h_hi:
                                for t in range(zero, uint64(w_hi - w_lo)):
                                    pixels[start + t * step] += columns[inside + t]
                        elif oh < h_lo or oh >= h_hi:
                            for t in range(zero, uint64(out_w)):
                                columns[out + t] = 0
                        else:
                            for t in range(zero, uint64(w_lo)):
                                columns[out + t] = 0
                            for t in range(zero, uint64(w_hi - w_lo)):
                                columns[inside + t] = pixels[start + t * step]
                            for t in range(uint64(w_hi), uint64(out_w)):
                                columns[out + t] = 0
            if split and not to_columns:
                _phase_walk(plane, phases, False)


@kernel
def _phase_walk(plane, phases, to_phases):
    """Visit every column w of plane (H, W) and its place m = w // 2 in phase w % 2.

    to_phases=True splits: phases[q, h, m] = plane[h, 2 m + q]. to_phases=False is its
    adjoint, the merge: plane[h, 2 m + q] += phases[q, h, m]. The stride is the constant 2,
    so LLVM vectorizes the pair of accesses with shuffles.
    """
    height, width = plane.shape
    pairs = width // 2
    for h in range(height):
        for m in range(pairs):
            if to_phases:
                phases[0, h, m], phases[1, h, m] = plane[h, 2 * m], plane[h, 2 * m + 1]
            else:
                plane[h, 2 * m] += phases[0, h, m]
                plane[h, 2 * m + 1] += phases[1, h, m]
        if width % 2:   # the last, even column has no odd partner
            if to_phases:
                phases[0, h, pairs] = plane[h, width - 1]
            else:
                plane[h, width - 1] += phases[0, h, pairs]


@kernel
def im2col_block(x, first, count, geometry, cols, phases):
    """cols (count * C * kernel_h * kernel_w, L) = the windows of samples first .. first + count - 1 of x."""
    _window_walk(x, cols, first, count, geometry, True, phases)


@kernel
def col2im_block(cols, first, count, geometry, gx, phases):
    """The adjoint of im2col_block: add every column entry back into gx (N, C, H, W) where it was read."""
    _window_walk(gx, cols, first, count, geometry, False, phases)


# Samples per block: enough columns (block * out_h * out_w) that the Python loop over blocks
# costs little on small images, few enough that a block's columns stay in cache.
_TARGET_COLUMNS = 4096
# A thread is only worth handing a slice of the batch when the slice holds about this many
# multiply-adds: below it the hand-off costs more than the second core saves.
_MIN_MULTIPLY_ADDS_PER_THREAD = 2_000_000
_MAX_BUFFER_BYTES = 4 << 20
# Rows of at least this many output pixels go to row_products.py's kernel for the weight
# gradient; on shorter rows BLAS is faster (the kernel sums each 4 x 4 tile across vector
# lanes at the end of every row).
_LONG_ROWS = 256


class _BlockBuffers:
    """One thread's buffers for the columns of a block of samples and for one plane's phases
    (its scratch buffers, see scratch.py), reused for every block of its chunk; a shorter last
    block uses a prefix of the columns."""

    def __init__(self, geometry, channels, count, dtype):
        self.groups, self.pixels = geometry.groups, geometry.out_size[0] * geometry.out_size[1]
        self.patch = channels // self.groups * geometry.kernel[0] * geometry.kernel[1]
        block = max(1, min(count, -(-_TARGET_COLUMNS // self.pixels),
                           _MAX_BUFFER_BYTES // (self.groups * self.patch * self.pixels * dtype.itemsize)))
        self.block = -(-count // -(-count // block))   # equal blocks: 16 samples by 3 -> 4 blocks of 4
        self.cols = scratch("conv columns", self.block * self.groups * self.patch * self.pixels, dtype)
        (height, width), stride_w = geometry.in_size, geometry.stride[1]
        phases = (2, height, -(-width // 2)) if stride_w == 2 else (0, 0, 0)
        self.phases = scratch("conv phases", phases, dtype)

    def blocks(self, start, stop):
        """(first sample, count, cols (count, G, P, L)) per block."""
        for first in range(start, stop, self.block):
            count = min(self.block, stop - first)
            cols = self.cols[:count * self.groups * self.patch * self.pixels]
            yield first, count, cols.reshape(count, self.groups, self.patch, self.pixels)


# Each thread loops over its blocks in Python, calling Numba for the copies and NumPy's
# matmul (which releases the GIL) for the GEMMs: NumPy's BLAS is faster than the one np.dot
# inside Numba reaches through SciPy, and the loop runs once per block of samples, not per
# sample or pixel. A stacked matmul calls BLAS once per (sample, group)
# of the block, straight on the slices of x's columns and of y or gy.

def forward(x, weight, geometry, bias=None):
    """The correlation of x (N, C, H, W) with weight (O, C / groups, kh, kw), plus bias[o] if
    given: (N, O, out_h, out_w).

    Per block: cols = im2col(block), y[block, g] = weight[g] @ cols[:, g] (+ bias, added while
    the block's outputs are in cache).
    """
    x, groups = numpy.ascontiguousarray(x), geometry.groups
    (batch, channels), out_channels = x.shape[:2], weight.shape[0]
    matrix = numpy.ascontiguousarray(weight.reshape(groups, out_channels // groups, -1))
    y = numpy.empty((batch, groups, out_channels // groups, _pixels(geometry)), dtype=x.dtype)

    def chunk(start, stop):
        buffers = _BlockBuffers(geometry, channels, stop - start, x.dtype)
        for first, count, cols in buffers.blocks(start, stop):
            im2col_block(x, first, count, geometry.numba_args, _rows(cols), buffers.phases)
            numpy.matmul(matrix, cols, out=y[first:first + count])
            add_bias(y[first:first + count].reshape(count, out_channels, -1), bias)
    parallel_for(chunk, batch, _samples_per_thread(weight.shape, geometry))
    return y.reshape((batch, out_channels) + geometry.out_size)


def input_grad(gy, weight, geometry, bias=None):
    """dL/dx for the forward above, from gy (N, O, out_h, out_w): (N, C, H, W), plus bias[c]
    if given (a transposed convolution layer's bias).

    Per block: cols[:, g] = weight[g]^T @ gy[block, g], then col2im adds the columns into gx,
    which starts at the bias (or 0).
    """
    groups, (batch, out_channels) = geometry.groups, gy.shape[:2]
    channels = weight.shape[1] * groups
    gy = _grouped(gy, groups)
    matrix_t = numpy.ascontiguousarray(
        weight.reshape(groups, out_channels // groups, -1).transpose(0, 2, 1))
    gx = numpy.empty((batch, channels) + geometry.in_size, dtype=gy.dtype)

    def chunk(start, stop):
        # By the thread that adds into these samples, while they are in its cache.
        gx[start:stop] = 0 if bias is None else bias.reshape(-1, 1, 1)
        buffers = _BlockBuffers(geometry, channels, stop - start, gy.dtype)
        for first, count, cols in buffers.blocks(start, stop):
            numpy.matmul(matrix_t, gy[first:first + count], out=cols)
            col2im_block(_rows(cols), first, count, geometry.numba_args, gx, buffers.phases)
    parallel_for(chunk, batch, _samples_per_thread(weight.shape, geometry))
    return gx


def weight_grad(x, gy, geometry):
    """dL/dweight for the forward above: (O, C / groups, kh, kw).

    Per block: gw[g]^T += sum over the block's samples of cols[n, g] @ gy[n, g]^T; each thread
    sums into its own array (no two threads add to one), and the threads' sums are added at the end.
    The products are rows of out_h * out_w pixels times rows: from _LONG_ROWS pixels on, the
    kernel of row_products.py computes them, below it BLAS.
    """
    x, groups = numpy.ascontiguousarray(x), geometry.groups
    (batch, channels), out_channels = x.shape[:2], gy.shape[1]
    gy = _grouped(gy, groups)
    long_rows = _pixels(geometry) >= _LONG_ROWS

    def chunk(start, stop):
        buffers = _BlockBuffers(geometry, channels, stop - start, x.dtype)
        # Transposed, (patch, O / G) per group: BLAS computes cols @ gy^T a little faster
        # than gy @ cols^T.
        gw_t = numpy.zeros((groups, buffers.patch, out_channels // groups), dtype=x.dtype)
        for first, count, cols in buffers.blocks(start, stop):
            im2col_block(x, first, count, geometry.numba_args, _rows(cols), buffers.phases)
            if long_rows:
                add_row_products(cols, gy[first:first + count], gw_t)
            else:
                gw_t += numpy.matmul(cols, gy[first:first + count].transpose(0, 1, 3, 2)).sum(axis=0)
        return gw_t
    sums = parallel_for(chunk, batch, _samples_per_thread((out_channels, channels // groups), geometry))
    return sum(sums).transpose(0, 2, 1).reshape((out_channels, channels // groups) + geometry.kernel)


def _rows(cols):
    """A block's columns (count, G, P, L) as the 2-d (count * G * P, L) the Numba walks index."""
    return cols.reshape(-1, cols.shape[3])


def _samples_per_thread(weight_shape, geometry):
    """The parallel_for min_chunk of every kernel here: each GEMM of one sample does
    out_channels * (C / groups * kernel_h * kernel_w) * out_h * out_w multiply-adds."""
    per_sample = weight_shape[0] * weight_shape[1] * geometry.kernel[0] * geometry.kernel[1] * _pixels(geometry)
    return -(-_MIN_MULTIPLY_ADDS_PER_THREAD // max(1, per_sample))


def _grouped(array, groups):
    """(N, O, ...) -> contiguous (N, G, O/G, pixels)."""
    return numpy.ascontiguousarray(array).reshape(array.shape[0], groups, array.shape[1] // groups, -1)


def _pixels(geometry):
    return geometry.out_size[0] * geometry.out_size[1]
