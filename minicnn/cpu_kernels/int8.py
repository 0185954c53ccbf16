"""Quantized convolution, linear layer and add on the CPU, as Numba kernels on integer codes.

The arithmetic is reference/int8.py's (read that first): uint8 activation codes minus their
zero point, times int8 weight codes minus theirs, summed in int32; the int32 bias added;
requantized to uint8 by a fixed-point multiplier and shift. No float is touched.

Layout. A convolution is a matrix product over the windows of each sample, as in
conv_numba.py, but here the window of one output pixel is a contiguous row. Each sample is
first written channels last, (H, W, C), so that a window is kernel_h runs of kernel_w * C
consecutive numbers (kernel_h * kernel_w runs of C with dilation), copied as such:

    cols[p, (i * kernel_w + j) * C + c] = x[c, oh s - top + i d, ow s - left + j d] - x_zero_point
    acc[o, p] = sum_k cols[p, k] * weight[o, k]                  (p = oh * out_w + ow)

with the weight's rows put in the same (i, j, c) order. (Written in the weight's own
(c, i, j) order, a 3x3 window is 3 numbers per copy, and building the columns of ResNet-20's
first stage took as long as their products: 8.3 ms against 1.2 ms channels last, for 64
images.) Each output is then one dot product of two contiguous int16 rows. The codes are
widened to int16 (x86 has no 8-bit multiply; its pmaddwd multiplies 16-bit lanes in pairs
and adds each pair into a 32-bit lane), and the sum is truncated to int32 on return: then
only the low 32 bits of the sum matter and LLVM sums 32-bit lanes with pmaddwd (or AVX-512
VNNI's vpdpwssd), 64 numbers a step. A row's last numbers that do not fill a step go
through a slower loop with a sum across lanes of its own, so the rows are widened with
zeros to a multiple of _DOT_WIDTH: 144 numbers as 192 ran at 25 instead of 22.5 useful
GMAC/s, 288 as 320 at 36 instead of 30, 150 as 192 at 27 instead of 21. A tile of several
dot products at once measured slower: LLVM then kept the sums in 64-bit lanes, or used
32-bit multiplies (vpmulld) instead of pmaddwd. An output channel's sums go to an int32
row first, and one pass of requantization over the row (the same steps for every element,
which LLVM vectorizes) writes the uint8 codes. The batch is split across threads
(threads.py).

Short windows. A dot product of a few dozen numbers is mostly loop overhead and a final sum
across vector lanes: LeNet-5's first layer (25 numbers per window) ran at 10 GMAC/s so,
against 20-45 from 150 numbers on. Below _SHORT_WINDOW numbers per window the columns are
laid out the other way, as conv_numba.py's im2col writes them (and with its kernel),

    cols[k, p],    acc[o, p] = sum_k weight[o, k] * cols[k, p],

and the sums run along the pixels p, four output channels at a time: each column number
loaded serves four multiply-adds, the sums stay in vector lanes, no sum across lanes is
needed. On LeNet-5's first layer this took the convolution from 6.1 to 4.6 ms (batch 256,
one thread). With the channels-last columns, the dot products beat this layout on every
window of 64 numbers or more that was measured, also where the pixels far outnumber the
window's numbers (ResNet-20's first stage, 144 numbers and 1,024 pixels: 8.7 against 11.5
ms for 64 images).

VNNI. Where the CPU has AVX-512 VNNI, whose vpdpbusd multiplies 64 uint8 codes by int8
weights an instruction without widening them, the products run on int8_vnni.py's kernels
instead (its docstring has their layout), if the weight codes minus their zero points fit
in int8, as the symmetric weights of the default qconfig always do. The uint8 codes go in
as they are, the padding is the code x_zero_point, and x_zero_point's share of the sum is
one number per channel; the requantization is the same pass as above. The kernels above
stay for every other CPU and weight, and tests run both (USE_VNNI).
"""
import numpy
from numba import uint64

from . import int8_vnni
from .conv_numba import im2col_block
from .jit import kernel
from .scratch import scratch
from .simd import has_vnni
from .threads import parallel_for

# Whether conv2d and linear take int8_vnni's kernels where the weights fit in int8: where
# the CPU has VNNI (the tests switch it off to check the portable kernels on such a CPU).
USE_VNNI = has_vnni()

# A thread is handed a share of the batch only when it holds this many multiply-adds (as
# for the float kernels, conv_numba.py): below it the hand-off costs more than it saves.
_MIN_MULTIPLY_ADDS_PER_THREAD = 2_000_000
_INT32_MIN, _INT32_MAX = -2 ** 31, 2 ** 31 - 1
# Elements an add handles per block: its sums stay in the first-level cache.
_ADD_BLOCK = 4096
# Windows shorter than this take the pixel-major layout (see the module docstring); its sums
# run over blocks of _PIXEL_BLOCK pixels, so that four channels' sums stay in the first-level
# cache.
_SHORT_WINDOW = 64
_PIXEL_BLOCK = 256
# The dot products run over rows widened with zeros to a multiple of this many numbers: LLVM
# vectorizes _dot 64 numbers a step and finishes a row's rest with a slower loop and a second
# sum across lanes (module docstring).
_DOT_WIDTH = 64


@kernel
def requantize_one(acc, multiplier, shift, zero_point, low, high):
    """clamp(zero_point + round(acc * multiplier * 2^(shift - 31)), low, high): one value of
    reference.int8.requantize (int64 here), its two roundings each one addition and one
    arithmetic shift (a floor division by a power of two):

        gemmlowp's (p + nudge) / 2^31 truncated   = floor((p + 2^30) / 2^31) for either sign of p
        round(h / 2^right), halves away from 0    = floor((h + 2^(right-1) - [h < 0]) / 2^right)

    (the second with nothing added when right = 0). Fewer steps than the reference's, for the
    pass over a row of sums that LLVM vectorizes: 0.75 -> 0.48 ns a value."""
    shifted = acc << shift if shift > 0 else acc
    shifted = min(max(shifted, _INT32_MIN), _INT32_MAX)
    if shifted == _INT32_MIN and multiplier == _INT32_MIN:
        high_product = _INT32_MAX
    else:
        high_product = (shifted * multiplier + (1 << 30)) >> 31
    right = -shift if shift < 0 else 0
    nudge = ((1 << right) - (1 if high_product < 0 else 0)) >> 1
    return min(max(((high_product + nudge) >> right) + zero_point, low), high)


@kernel
def _dot(u, v):
    """sum_k u[k] * v[k] of two int16 rows, in int32 (see the module docstring)."""
    total = 0
    for k in range(u.shape[0]):
        total += numpy.int32(u[k]) * numpy.int32(v[k])
    return numpy.int32(total)


@kernel
def _centered_padded(image, zero_point, top, left, padded):
    """padded (H + top + bottom, W + left + right, C) int16 = image (C, H, W) uint8 codes minus
    zero_point, channels last, with zeros around: the real zeros of the padding."""
    padded[:] = 0
    channels, height, width = image.shape
    for h in range(height):
        for w in range(width):
            for c in range(channels):
                padded[top + h, left + w, c] = numpy.int16(image[c, h, w]) - zero_point


@kernel
def _im2col(padded, geometry, cols):
    """cols (out_h * out_w, K'): row p = oh * out_w + ow starts with the window of output pixel
    (oh, ow) in the channels-last padded planes (Hp, Wp, C), in (i, j, c) order (K =
    kernel_h * kernel_w * C numbers; the rest of the row is left as it is). Each tap's C
    channels are one contiguous copy, and so is a whole row of taps when the dilation along
    the width is 1. Unsigned indices let LLVM skip negative-index checks."""
    kernel_h, kernel_w, stride_h, stride_w, _, _, dilation_h, dilation_w, out_h, out_w = geometry
    padded_h, padded_w, channels = padded.shape
    pixels, columns, width = padded.ravel(), cols.ravel(), uint64(cols.shape[1])
    taps, run = (1, kernel_w * channels) if dilation_w == 1 else (kernel_w, channels)
    for oh in range(out_h):
        for ow in range(out_w):
            k = uint64(oh * out_w + ow) * width
            for i in range(kernel_h):
                for j in range(taps):
                    start = uint64(((oh * stride_h + i * dilation_h) * padded_w
                                    + ow * stride_w + j * dilation_w) * channels)
                    for t in range(uint64(run)):
                        columns[k + t] = pixels[start + t]
                    k += uint64(run)


@kernel
def _products_requantized(rows, weight, bias, multiplier, shift, zero_point, low, high, sums, out):
    """out[o, p] = requantize(rows[p] . weight[o] + bias[o]) for rows (P, K), weight (O, K);
    sums (P,) int32 is scratch: a channel's dot products first, then one requantization pass
    over them, a loop of the same steps for every p that LLVM vectorizes."""
    for o in range(weight.shape[0]):
        w, out_row = weight[o], out[o]
        for p in range(rows.shape[0]):
            sums[p] = _dot(rows[p], w)
        for p in range(rows.shape[0]):
            out_row[p] = requantize_one(numpy.int64(sums[p]) + bias[o], multiplier[o], shift[o],
                                        zero_point, low, high)


@kernel
def _conv_samples(x, x_zero_point, weight, bias, multiplier, shift, zero_point, low, high,
                  geometry, padded, cols, sums, out, first, last):
    top, left = geometry[4], geometry[5]
    for n in range(first, last):
        _centered_padded(x[n], x_zero_point, top, left, padded)
        _im2col(padded, geometry, cols)
        _products_requantized(cols, weight, bias, multiplier, shift, zero_point, low, high,
                              sums, out[n])


@kernel
def _linear_rows(x, x_zero_point, weight, bias, multiplier, shift, zero_point, low, high,
                 rows, sums, out, first, last):
    for n in range(first, last):
        for k in range(x.shape[1]):
            rows[n - first, k] = numpy.int16(x[n, k]) - x_zero_point
    _products_requantized(rows[:last - first], weight, bias, multiplier, shift, zero_point,
                          low, high, sums, out[:, first:last])


@kernel
def _channel_sums(cols, weight, sums, block):
    """sums[o, p] = sum_k weight[o, k] * cols[k, p]: cols (K, P) and weight (O, K) int16, sums
    (O, P) int32; four channels at a time (then one at a time for the rest) over blocks of
    `block` pixels."""
    patch, pixels = cols.shape
    channels = weight.shape[0]
    fours = channels - channels % 4
    for first in range(0, pixels, block):
        last = min(pixels, first + block)
        for o in range(0, fours, 4):
            s0, s1 = sums[o, first:last], sums[o + 1, first:last]
            s2, s3 = sums[o + 2, first:last], sums[o + 3, first:last]
            s0[:] = 0
            s1[:] = 0
            s2[:] = 0
            s3[:] = 0
            for k in range(patch):
                w0, w1 = numpy.int32(weight[o, k]), numpy.int32(weight[o + 1, k])
                w2, w3 = numpy.int32(weight[o + 2, k]), numpy.int32(weight[o + 3, k])
                column = cols[k, first:last]
                for p in range(last - first):
                    value = numpy.int32(column[p])
                    s0[p] += w0 * value
                    s1[p] += w1 * value
                    s2[p] += w2 * value
                    s3[p] += w3 * value
        for o in range(fours, channels):
            row = sums[o, first:last]
            row[:] = 0
            for k in range(patch):
                w = numpy.int32(weight[o, k])
                column = cols[k, first:last]
                for p in range(last - first):
                    row[p] += w * numpy.int32(column[p])


@kernel
def _requantized_rows(sums, bias, multiplier, shift, zero_point, low, high, out):
    """out[o, p] = requantize(sums[o, p] + bias[o]) for sums (O, P) int32."""
    for o in range(sums.shape[0]):
        row, out_row = sums[o], out[o]
        for p in range(row.shape[0]):
            out_row[p] = requantize_one(numpy.int64(row[p]) + bias[o], multiplier[o], shift[o],
                                        zero_point, low, high)


@kernel
def _conv_short_samples(centered, weight, bias, multiplier, shift, zero_point, low, high,
                        geometry, cols, phases, sums, block, out):
    for n in range(centered.shape[0]):
        im2col_block(centered, n, 1, geometry, cols, phases)
        _channel_sums(cols, weight, sums, block)
        _requantized_rows(sums, bias, multiplier, shift, zero_point, low, high, out[n])


def _conv_short_windows(x, x_zero_point, weight, bias, multiplier, shift, zero_point, low, high,
                        geometry, out):
    """conv2d of samples x into out in the pixel-major layout (module docstring)."""
    centered = x.astype(numpy.int16) - numpy.int16(x_zero_point)
    pixels = out.shape[2]
    cols = scratch("int8 conv columns", (weight.shape[1], pixels), numpy.int16)
    sums = scratch("int8 channel sums", (weight.shape[0], pixels), numpy.int32)
    (height, width), stride_w = geometry.in_size, geometry.stride[1]
    phases = scratch("int8 conv phases", (2, height, -(-width // 2)) if stride_w == 2 else (0, 0, 0),
                     numpy.int16)
    _conv_short_samples(centered, weight, bias, multiplier, shift, zero_point, low, high,
                        geometry.numba_args, cols, phases, sums, _PIXEL_BLOCK, out)


@kernel
def _conv_samples_vnni(x, x_zero_point, words, init, offsets, tiles, phase_h, phase_w, bias,
                       multiplier, shift, zero_point, low, high, geometry, planes, sums, out,
                       first, last):
    """out[n, o, oh out_w + ow] = requantize(sums[o, oh phase_w + ow] + bias[o]) for the
    samples n in [first, last), the sums of each sample's quad planes by int8_vnni."""
    _, _, stride_h, stride_w, top, left, _, _, out_h, out_w = geometry
    for n in range(first, last):
        int8_vnni.quad_planes(x[n], x_zero_point, top, left, stride_h, stride_w, phase_h,
                              phase_w, planes)
        int8_vnni.tile_sums(planes, offsets, words, init, tiles, sums)
        for o in range(out.shape[1]):
            for oh in range(out_h):
                row = sums[o, oh * phase_w:oh * phase_w + out_w]
                out_row = out[n, o, oh * out_w:(oh + 1) * out_w]
                for ow in range(out_w):
                    out_row[ow] = requantize_one(numpy.int64(row[ow]) + bias[o], multiplier[o],
                                                 shift[o], zero_point, low, high)


def conv2d(x, x_zero_point, weight, bias, multiplier, shift, zero_point, low, high, geometry):
    """Output codes (N, O, out_h, out_w) uint8 of a quantized convolution (groups = 1).

    x (N, C, H, W) uint8 codes; weight (O, C * kernel_h * kernel_w) int16, the weight codes
    minus their zero points; bias, multiplier, shift (O,) int64; the outputs are clamped to
    [low, high] (low = zero_point for a fused ReLU).
    """
    x = numpy.ascontiguousarray(x)
    batch, pixels = x.shape[0], geometry.out_size[0] * geometry.out_size[1]
    out = numpy.empty((batch, weight.shape[0], pixels), numpy.uint8)
    packed = _packed_weight(weight, x.shape[1], geometry.kernel, x_zero_point)

    if packed is not None:
        words, init = packed
        offsets, phase_h, phase_w, tiles, plane_words = int8_vnni.conv_layout(geometry, x.shape[1])

        def chunk(start, stop):
            planes = scratch("int8 quad planes", plane_words, numpy.int32)
            sums = scratch("int8 tile sums", (len(words), tiles * int8_vnni.TILE_PIXELS),
                           numpy.int32)
            _conv_samples_vnni(x, x_zero_point, words, init, offsets, tiles, phase_h, phase_w,
                               bias, multiplier, shift, zero_point, low, high,
                               geometry.numba_args, planes, sums, out, start, stop)
    elif weight.shape[1] < _SHORT_WINDOW:
        def chunk(start, stop):
            _conv_short_windows(x[start:stop], x_zero_point, weight, bias, multiplier, shift,
                                zero_point, low, high, geometry, out[start:stop])
    else:
        (top, bottom), (left, right) = geometry.padding
        padded_shape = (x.shape[2] + top + bottom, x.shape[3] + left + right, x.shape[1])
        # The weight rows in the windows' (i, j, c) order, widened with zeros.
        rows = _widened(weight.reshape((weight.shape[0], x.shape[1]) + tuple(geometry.kernel))
                        .transpose(0, 2, 3, 1).reshape(weight.shape))

        def chunk(start, stop):
            padded = scratch("int8 conv padded planes", padded_shape, numpy.int16)
            # The columns past the window are left as they are: their weights are zeros.
            cols = scratch("int8 conv columns", (pixels, rows.shape[1]), numpy.int16)
            sums = scratch("int8 sums", pixels, numpy.int32)
            _conv_samples(x, x_zero_point, rows, bias, multiplier, shift, zero_point, low, high,
                          geometry.numba_args, padded, cols, sums, out, start, stop)
    parallel_for(chunk, batch, _min_chunk(weight.size * pixels))
    return out.reshape((batch, weight.shape[0]) + geometry.out_size)


@kernel
def _linear_rows_vnni(x, words, init, bias, multiplier, shift, zero_point, low, high, planes,
                      sums, out, first, last):
    """out[o, n] = requantize(sums[o, n - first] + bias[o]) for the rows n in [first, last)
    of x, their sums by int8_vnni with the rows as the pixels (planes: scratch of at least
    quads * (last - first) + TILE_PIXELS words, for the last tile's reads)."""
    count = last - first
    int8_vnni.packed_rows(x, first, last, planes)
    offsets = numpy.arange(words.shape[1]) * count
    int8_vnni.tile_sums(planes, offsets, words, init, -(-count // int8_vnni.TILE_PIXELS), sums)
    for o in range(out.shape[0]):
        row, out_row = sums[o], out[o, first:last]
        for n in range(count):
            out_row[n] = requantize_one(numpy.int64(row[n]) + bias[o], multiplier[o], shift[o],
                                        zero_point, low, high)


def linear(x, x_zero_point, weight, bias, multiplier, shift, zero_point, low, high):
    """Output codes (N, O) uint8 of a quantized linear layer: x (N, K) uint8 codes, weight
    (O, K) int16 (codes minus zero points), the rest as for conv2d."""
    x = numpy.ascontiguousarray(x)
    batch = x.shape[0]
    out_t = numpy.empty((weight.shape[0], batch), numpy.uint8)   # (O, N): rows of a channel
    packed = _packed_weight(weight, weight.shape[1], (), x_zero_point)

    if packed is not None:
        words, init = packed

        def chunk(start, stop):
            tiles = -(-(stop - start) // int8_vnni.TILE_PIXELS)
            planes = scratch("int8 quad planes", words.shape[1] * (stop - start)
                             + int8_vnni.TILE_PIXELS, numpy.int32)
            sums = scratch("int8 tile sums", (len(words), tiles * int8_vnni.TILE_PIXELS),
                           numpy.int32)
            _linear_rows_vnni(x, words, init, bias, multiplier, shift, zero_point, low, high,
                              planes, sums, out_t, start, stop)
    else:
        wide = _widened(weight)

        def chunk(start, stop):
            rows = scratch("int8 linear rows", (stop - start, wide.shape[1]), numpy.int16)
            sums = scratch("int8 sums", stop - start, numpy.int32)
            _linear_rows(x, x_zero_point, wide, bias, multiplier, shift, zero_point, low, high,
                         rows, sums, out_t, start, stop)
    parallel_for(chunk, batch, _min_chunk(weight.size))
    return out_t.T.copy()


@kernel
def _rescaled_codes(zero_point, multiplier, shift, left_shift):
    """table[q] = ((q - zero_point) << left_shift) * multiplier * 2^(shift - 31) for every
    uint8 code q: an input of an add has 256 codes, so its rescaling is a table lookup."""
    table = numpy.empty(256, numpy.int32)
    for code in range(256):
        table[code] = requantize_one((numpy.int64(code) - zero_point) << left_shift, multiplier,
                                     shift, 0, _INT32_MIN, _INT32_MAX)
    return table


@kernel
def _add(a, a_table, b, b_table, zero_point, multiplier, shift, low, high, sums, out, first, last):
    """out[k] = requantize(a_table[a[k]] + b_table[b[k]]) for k in [first, last), a block of
    len(sums) at a time: the lookups first, then the requantization, a loop of the same steps
    for every k that LLVM vectorizes (with the lookups in it, it did not)."""
    for start in range(first, last, sums.shape[0]):
        stop = min(start + sums.shape[0], last)
        a_block, b_block, out_block = a[start:stop], b[start:stop], out[start:stop]
        for k in range(stop - start):
            sums[k] = a_table[a_block[k]] + b_table[b_block[k]]
        for k in range(stop - start):
            out_block[k] = requantize_one(numpy.int64(sums[k]), multiplier, shift, zero_point,
                                          low, high)


def add(a, a_zero_point, a_multiplier, a_shift, b, b_zero_point, b_multiplier, b_shift,
        zero_point, multiplier, shift, low, high, left_shift):
    """Codes of a + b, uint8 arrays of one shape (reference.int8.add has the formula)."""
    shape = a.shape
    a, b = numpy.ascontiguousarray(a).ravel(), numpy.ascontiguousarray(b).ravel()
    a_table = _rescaled_codes(a_zero_point, a_multiplier, a_shift, left_shift)
    b_table = _rescaled_codes(b_zero_point, b_multiplier, b_shift, left_shift)
    out = numpy.empty(a.shape, numpy.uint8)

    def chunk(start, stop):
        sums = scratch("int8 add sums", _ADD_BLOCK, numpy.int32)
        _add(a, a_table, b, b_table, zero_point, multiplier, shift, low, high, sums, out, start, stop)
    parallel_for(chunk, len(a), _MIN_MULTIPLY_ADDS_PER_THREAD // 16)
    return out.reshape(shape)


def _packed_weight(rows, channels, kernel_size, x_zero_point):
    """int8_vnni.packed_weight's (words, init) where USE_VNNI, else (or where a centred
    weight is outside int8) None: then the portable kernels run."""
    return int8_vnni.packed_weight(rows, channels, kernel_size, x_zero_point) if USE_VNNI else None


def _widened(rows):
    """rows (O, K) with zeros appended up to a multiple of _DOT_WIDTH numbers."""
    wide = numpy.zeros((rows.shape[0], -(-rows.shape[1] // _DOT_WIDTH) * _DOT_WIDTH), numpy.int16)
    wide[:, :rows.shape[1]] = rows
    return wide


def _min_chunk(multiply_adds_per_sample):
    return -(-_MIN_MULTIPLY_ADDS_PER_THREAD // max(1, multiply_adds_per_sample))
