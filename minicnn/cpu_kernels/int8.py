"""Quantized convolution, linear layer and add on the CPU, as Numba kernels on integer codes.

The arithmetic is reference/int8.py's (read that first): uint8 activation codes minus their
zero point, times int8 weight codes minus theirs, summed in int32; the int32 bias added;
requantized to uint8 by a fixed-point multiplier and shift. No float is touched.

Layout. A convolution is a matrix product over the windows of each sample, as in
conv_numba.py, but here the window of one output pixel is a contiguous row:

    cols[p, (c * kernel_h + i) * kernel_w + j] = x[c, oh s - top + i d, ow s - left + j d] - x_zero_point
    acc[o, p] = sum_k cols[p, k] * weight[o, k]                  (p = oh * out_w + ow)

so each output is one dot product of two contiguous int16 rows. The codes are widened to
int16 (x86 has no 8-bit multiply; its pmaddwd multiplies 16-bit lanes in pairs and adds each
pair into a 32-bit lane), and the sum is truncated to int32 on return: then only the low
32 bits of the sum matter and LLVM sums 32-bit lanes with pmaddwd (or AVX-512 VNNI's
vpdpwssd). A tile of several dot products at once measured slower here: LLVM then kept the
sums in 64-bit lanes. An output channel's sums go to an int32 row first, and one pass of
requantization over the row (the same steps for every element, which LLVM vectorizes)
writes the uint8 codes. The batch is split across threads (threads.py).

Short windows. A dot product of a few dozen numbers is mostly loop overhead and a final sum
across vector lanes: LeNet-5's first layer (25 numbers per window) ran at 10 GMAC/s so,
against 20-45 from 150 numbers on. Below _SHORT_WINDOW numbers per window the columns are
laid out the other way, as conv_numba.py's im2col writes them (and with its kernel),

    cols[k, p],    acc[o, p] = sum_k weight[o, k] * cols[k, p],

and the sums run along the pixels p, four output channels at a time: each column number
loaded serves four multiply-adds, the sums stay in vector lanes, no sum across lanes is
needed. On LeNet-5's first layer this took the convolution from 6.1 to 4.6 ms (batch 256,
one thread). It also wins where the pixels far outnumber the window's numbers, the sums then
running along long rows: ResNet-20's first stage (144 numbers, 1,024 pixels) 15.6 -> 13.3 ms
for 64 images, while with 150 numbers and 100 pixels (LeNet-5's second layer) or 288 and 256
the dot products stayed faster (5.8 against 6.2 ms, 9.8 against 11.7).
"""
import numpy
from numba import njit, uint64

from .conv_numba import im2col_block
from .scratch import scratch
from .threads import parallel_for

# A thread is handed a share of the batch only when it holds this many multiply-adds (as
# for the float kernels, conv_numba.py): below it the hand-off costs more than it saves.
_MIN_MULTIPLY_ADDS_PER_THREAD = 2_000_000
_INT32_MIN, _INT32_MAX = -2 ** 31, 2 ** 31 - 1
# Elements an add handles per block: its sums stay in the first-level cache.
_ADD_BLOCK = 4096
# Windows shorter than this, or with at least _PIXELS_PER_NUMBER output pixels for each of
# their numbers, take the pixel-major layout (see the module docstring); its sums run over
# blocks of _PIXEL_BLOCK pixels, so that four channels' sums stay in the first-level cache.
_SHORT_WINDOW = 64
_PIXELS_PER_NUMBER = 4
_PIXEL_BLOCK = 256


@njit(nogil=True, cache=True)
def requantize_one(acc, multiplier, shift, zero_point, low, high):
    """clamp(zero_point + round(acc * multiplier * 2^(shift - 31)), low, high): one value of
    reference.int8.requantize, in the same integer steps (int64 here)."""
    shifted = acc << shift if shift > 0 else acc
    shifted = min(max(shifted, _INT32_MIN), _INT32_MAX)
    # round(shifted * multiplier / 2^31), halves away from zero; C's truncating division.
    if shifted == _INT32_MIN and multiplier == _INT32_MIN:
        high_product = _INT32_MAX
    else:
        product = shifted * multiplier
        total = product + ((1 << 30) if product >= 0 else 1 - (1 << 30))
        high_product = total >> 31 if total >= 0 else -((-total) >> 31)
    right = -shift if shift < 0 else 0
    mask = (1 << right) - 1
    threshold = (mask >> 1) + (1 if high_product < 0 else 0)
    value = (high_product >> right) + (1 if (high_product & mask) > threshold else 0)
    return min(max(value + zero_point, low), high)


@njit(nogil=True, cache=True)
def _dot(u, v):
    """sum_k u[k] * v[k] of two int16 rows, in int32 (see the module docstring)."""
    total = 0
    for k in range(u.shape[0]):
        total += numpy.int32(u[k]) * numpy.int32(v[k])
    return numpy.int32(total)


@njit(nogil=True, cache=True)
def _centered_padded(image, zero_point, top, left, padded):
    """padded (C, H + top + bottom, W + left + right) int16 = image (C, H, W) uint8 codes minus
    zero_point, with zeros around: the real zeros of the padding."""
    padded[:] = 0
    channels, height, width = image.shape
    for c in range(channels):
        for h in range(height):
            for w in range(width):
                padded[c, top + h, left + w] = numpy.int16(image[c, h, w]) - zero_point


@njit(nogil=True, cache=True)
def _im2col(padded, geometry, cols):
    """cols (out_h * out_w, C * kernel_h * kernel_w): row p = oh * out_w + ow holds the window
    of output pixel (oh, ow) in the padded planes (C, Hp, Wp), in the weight's (c, i, j) order.
    Unsigned indices let LLVM skip negative-index checks (see conv_numba.py)."""
    kernel_h, kernel_w, stride_h, stride_w, _, _, dilation_h, dilation_w, out_h, out_w = geometry
    channels, padded_h, padded_w = padded.shape
    pixels, columns, patch = padded.ravel(), cols.ravel(), cols.shape[1]
    for oh in range(out_h):
        for ow in range(out_w):
            k = uint64((oh * out_w + ow) * patch)
            for c in range(channels):
                for i in range(kernel_h):
                    start = uint64(((c * padded_h + oh * stride_h + i * dilation_h) * padded_w
                                    + ow * stride_w))
                    for j in range(uint64(kernel_w)):
                        columns[k] = pixels[start + j * uint64(dilation_w)]
                        k += uint64(1)


@njit(nogil=True, cache=True)
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


@njit(nogil=True, cache=True)
def _conv_samples(x, x_zero_point, weight, bias, multiplier, shift, zero_point, low, high,
                  geometry, padded, cols, sums, out, first, last):
    top, left = geometry[4], geometry[5]
    for n in range(first, last):
        _centered_padded(x[n], x_zero_point, top, left, padded)
        _im2col(padded, geometry, cols)
        _products_requantized(cols, weight, bias, multiplier, shift, zero_point, low, high,
                              sums, out[n])


@njit(nogil=True, cache=True)
def _linear_rows(x, x_zero_point, weight, bias, multiplier, shift, zero_point, low, high,
                 rows, sums, out, first, last):
    for n in range(first, last):
        for k in range(x.shape[1]):
            rows[n - first, k] = numpy.int16(x[n, k]) - x_zero_point
    _products_requantized(rows[:last - first], weight, bias, multiplier, shift, zero_point,
                          low, high, sums, out[:, first:last])


@njit(nogil=True, cache=True)
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


@njit(nogil=True, cache=True)
def _requantized_rows(sums, bias, multiplier, shift, zero_point, low, high, out):
    """out[o, p] = requantize(sums[o, p] + bias[o]) for sums (O, P) int32."""
    for o in range(sums.shape[0]):
        row, out_row = sums[o], out[o]
        for p in range(row.shape[0]):
            out_row[p] = requantize_one(numpy.int64(row[p]) + bias[o], multiplier[o], shift[o],
                                        zero_point, low, high)


@njit(nogil=True, cache=True)
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


def conv2d(x, x_zero_point, weight, bias, multiplier, shift, zero_point, low, high, geometry):
    """Output codes (N, O, out_h, out_w) uint8 of a quantized convolution (groups = 1).

    x (N, C, H, W) uint8 codes; weight (O, C * kernel_h * kernel_w) int16, the weight codes
    minus their zero points; bias, multiplier, shift (O,) int64; the outputs are clamped to
    [low, high] (low = zero_point for a fused ReLU).
    """
    x = numpy.ascontiguousarray(x)
    batch, pixels = x.shape[0], geometry.out_size[0] * geometry.out_size[1]
    out = numpy.empty((batch, weight.shape[0], pixels), numpy.uint8)

    (top, bottom), (left, right) = geometry.padding
    padded_shape = (x.shape[1], x.shape[2] + top + bottom, x.shape[3] + left + right)

    def chunk(start, stop):
        if weight.shape[1] < _SHORT_WINDOW or pixels >= _PIXELS_PER_NUMBER * weight.shape[1]:
            _conv_short_windows(x[start:stop], x_zero_point, weight, bias, multiplier, shift,
                                zero_point, low, high, geometry, out[start:stop])
            return
        padded = scratch("int8 conv padded planes", padded_shape, numpy.int16)
        cols = scratch("int8 conv columns", (pixels, weight.shape[1]), numpy.int16)
        sums = scratch("int8 sums", pixels, numpy.int32)
        _conv_samples(x, x_zero_point, weight, bias, multiplier, shift, zero_point, low, high,
                      geometry.numba_args, padded, cols, sums, out, start, stop)
    parallel_for(chunk, batch, _min_chunk(weight.size * pixels))
    return out.reshape((batch, weight.shape[0]) + geometry.out_size)


def linear(x, x_zero_point, weight, bias, multiplier, shift, zero_point, low, high):
    """Output codes (N, O) uint8 of a quantized linear layer: x (N, K) uint8 codes, weight
    (O, K) int16 (codes minus zero points), the rest as for conv2d."""
    x = numpy.ascontiguousarray(x)
    batch = x.shape[0]
    out_t = numpy.empty((weight.shape[0], batch), numpy.uint8)   # (O, N): rows of a channel

    def chunk(start, stop):
        rows = scratch("int8 linear rows", (stop - start, x.shape[1]), numpy.int16)
        sums = scratch("int8 sums", stop - start, numpy.int32)
        _linear_rows(x, x_zero_point, weight, bias, multiplier, shift, zero_point, low, high,
                     rows, sums, out_t, start, stop)
    parallel_for(chunk, batch, _min_chunk(weight.size))
    return out_t.T.copy()


@njit(nogil=True, cache=True)
def _rescaled_codes(zero_point, multiplier, shift, left_shift):
    """table[q] = ((q - zero_point) << left_shift) * multiplier * 2^(shift - 31) for every
    uint8 code q: an input of an add has 256 codes, so its rescaling is a table lookup."""
    table = numpy.empty(256, numpy.int32)
    for code in range(256):
        table[code] = requantize_one((numpy.int64(code) - zero_point) << left_shift, multiplier,
                                     shift, 0, _INT32_MIN, _INT32_MAX)
    return table


@njit(nogil=True, cache=True)
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


def _min_chunk(multiply_adds_per_sample):
    return -(-_MIN_MULTIPLY_ADDS_PER_THREAD // max(1, multiply_adds_per_sample))
