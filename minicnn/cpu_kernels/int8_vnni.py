"""The products of the int8 kernels with AVX-512 VNNI: 64 uint8 x int8 multiply-adds an instruction.

cpu_kernels/int8.py runs these where the CPU has VNNI (simd.has_vnni) and the weight codes
minus their zero points fit in int8, which they always do for the symmetric weights of the
default qconfig; its portable kernels compute the same integers everywhere else.

The sum. vpdpbusd (simd.dot4) multiplies unsigned by signed bytes, so the activation codes x
go in as they are, and their zero point z comes out of the sum as one number per channel:

    acc[o, p] = sum_k (x[p, k] - z) w[o, k] = init[o] + sum_k x[p, k] w[o, k],
    init[o] = -z sum_k w[o, k]

(w: the weight codes minus their zero points). The padding holds the code z, which stands
for 0. Every step wraps modulo 2^32, as the int32 sums of reference/int8.py do, so acc is the
reference's to the bit.

The layout. One 32-bit lane of vpdpbusd takes 4 bytes of a window: here the codes of 4
consecutive channels (a "quad") at one pixel, so each sample is first rewritten as planes of
int32 words, one word per quad and pixel of the padded input, in s_h * s_w phases for a
stride s (the even and odd rows and columns for s = 2; one phase for s = 1):

    planes[((q s_h + a) s_w + b) Hph Wph + r Wph + c] = the bytes t < 4 of
        padded[4 q + t, s_h r + a, s_w c + b],     Hph = ceil(Hp / s_h), Wph = ceil(Wp / s_w),

where padded is the input with top, left, bottom, right borders of code z (and channels
beyond C, which meet zero weights). Quad g = (q, i, j) of the window of output pixel (oh, ow),
padded[4 q + t, s_h oh + d_h i, s_w ow + d_w j], is then planes[offsets[g] + oh Wph + ow] with

    offsets[g] = ((q s_h + (d_h i) % s_h) s_w + (d_w j) % s_w) Hph Wph
                 + ((d_h i) // s_h) Wph + (d_w j) // s_w:

along a row of output pixels, consecutive words. So 16 output pixels' quads are one load of
16 words, straight from the planes: no im2col is built, each input word is written once and
read by every tap. The kernel computes "virtual" pixels v = oh Wph + ow for every ow < Wph
(those with ow >= out_w read past the row's end, and are thrown away: 6% more pixels on
ResNet-20's 32x32 maps, 25% on its 8x8 ones), in the sums

    sums[o, v] = init[o] + sum_g sum_t planes[offsets[g] + v]_t * words[o, g]_t,

words[o, g] holding the 4 weight bytes of channel o for quad g (packed_weight). A linear
layer is the same product with the batch as its pixels: planes[g Npad + n] = the bytes
x[n, 4 g + t], offsets[g] = g Npad (packed_rows).

The tile. tile_sums keeps 4 output channels x 32 virtual pixels of sums in eight int32x16
registers while it runs through the quads g: per quad two loads of 16 activation words and
four weight words, each broadcast to 16 lanes (LLVM folds the broadcast into vpdpbusd,
which reads it from memory), for eight vpdpbusd. Each activation word loaded serves four
channels and each weight word 32 pixels, and the sums leave the registers once, at the end
(fbgemm and gemmlowp tile their GEMMs the same way). On ResNet-20's 3x3 layers this ran at
150-220 G multiply-adds/s on one core, against 17-30 for the int16 dot products of the
portable kernels (benchmarks/README.md).
"""
import functools
import math

import numpy

from .jit import kernel
from .simd import dot4, load16, splat, store16

TILE_CHANNELS = 4              # output channels per tile (tile_sums spells out four)
TILE_PIXELS = 32               # virtual pixels per tile: two vectors of 16 lanes
_BYTES_PER_WORD = 4            # a quad: the 4 bytes that one lane of vpdpbusd multiplies


def packed_weight(rows, channels, kernel_size, x_zero_point):
    """(words (O', G) int32, init (O',) int32), O' = O rounded up to TILE_CHANNELS, for the
    weight rows (O, channels * kernel_h * kernel_w) int16 in (c, i, j) order: words[o, g] the
    4 bytes w[o, 4 q + t, i, j] of quad g = (q, i, j), zero past the channels and the rows;
    init[o] = -x_zero_point sum_k w[o, k] modulo 2^32. None if a number is outside int8."""
    if rows.size and (rows.min() < -128 or rows.max() > 127):
        return None
    taps = math.prod(kernel_size)
    out_channels = -(-rows.shape[0] // TILE_CHANNELS) * TILE_CHANNELS
    words = numpy.zeros((out_channels, -(-channels // _BYTES_PER_WORD) * taps), numpy.uint32)
    init = numpy.zeros(out_channels, numpy.int32)
    _pack_words(rows, channels, taps, x_zero_point, words, init)
    return words.view(numpy.int32), init


@kernel
def _pack_words(rows, channels, taps, x_zero_point, words, init):
    """The words and init of packed_weight (zeroed on entry): w[o, c, tap] is byte c % 4 of
    words[o, (c // 4) taps + tap]. A loop, because NumPy's transpose of strided bytes took
    several times as long, on every call of the layer (benchmarks/README.md)."""
    for o in range(rows.shape[0]):
        total = 0
        for c in range(channels):
            for tap in range(taps):
                value = rows[o, c * taps + tap]
                total += value
                words[o, c // _BYTES_PER_WORD * taps + tap] |= (
                    numpy.uint32(value & 0xFF) << (8 * (c % _BYTES_PER_WORD)))
        init[o] = numpy.int32(numpy.uint32((-x_zero_point * total) & 0xFFFFFFFF))


@functools.lru_cache(maxsize=256)
def conv_layout(geometry, channels):
    """(offsets (G,) int64, phase_h, phase_w, virtual pixel tiles, plane words) of a
    convolution's quad planes (module docstring): Hph, Wph, how many tiles of TILE_PIXELS
    cover the out_h * Wph virtual pixels, and the words of planes that covers every read."""
    (kernel_h, kernel_w), (stride_h, stride_w) = geometry.kernel, geometry.stride
    (dilation_h, dilation_w), (padded_h, padded_w) = geometry.dilation, geometry.padded_size
    phase_h, phase_w = -(-padded_h // stride_h), -(-padded_w // stride_w)
    plane = phase_h * phase_w
    q, i, j = numpy.meshgrid(numpy.arange(-(-channels // _BYTES_PER_WORD)),
                             numpy.arange(kernel_h) * dilation_h,
                             numpy.arange(kernel_w) * dilation_w, indexing="ij")
    offsets = (((q * stride_h + i % stride_h) * stride_w + j % stride_w) * plane
               + i // stride_h * phase_w + j // stride_w).ravel().astype(numpy.int64)
    tiles = -(-geometry.out_size[0] * phase_w // TILE_PIXELS)
    words = max(q.max() + 1, 1) * stride_h * stride_w * plane
    return offsets, phase_h, phase_w, tiles, int(max(words, offsets.max() + tiles * TILE_PIXELS))


@kernel
def _row_words(image, c, h, words):
    """words[w] = the int32 of the bytes image[c + t, h, w], t < 4 (low to high); 0 for the
    channels c + t past the image's, which meet zero weights."""
    channels = image.shape[0]
    if c + _BYTES_PER_WORD <= channels:      # a whole quad: one loop that LLVM vectorizes
        r0, r1, r2, r3 = image[c, h], image[c + 1, h], image[c + 2, h], image[c + 3, h]
        for w in range(words.shape[0]):
            words[w] = (numpy.uint32(r0[w]) | numpy.uint32(r1[w]) << 8
                        | numpy.uint32(r2[w]) << 16 | numpy.uint32(r3[w]) << 24)
    else:
        words[:] = 0
        for t in range(channels - c):
            row = image[c + t, h]
            for w in range(words.shape[0]):
                words[w] |= numpy.uint32(row[w]) << (8 * t)


@kernel
def quad_planes(image, x_zero_point, top, left, stride_h, stride_w, phase_h, phase_w, planes):
    """The quad planes (module docstring) of one image (C, H, W) uint8 into planes (int32;
    the words past the last plane are filled with the code x_zero_point too). Each image row
    of a quad is made words once, in one vectorized loop, then copied into its phases:
    gathering four byte rows into each phase took twice as long (benchmarks/README.md)."""
    channels, height, width = image.shape
    plane = phase_h * phase_w
    planes[:] = numpy.int32(numpy.uint32(x_zero_point) * numpy.uint32(0x01010101))
    words = numpy.empty(width, numpy.uint32)
    for quad in range(-(-channels // _BYTES_PER_WORD)):
        for h in range(height):
            _row_words(image, _BYTES_PER_WORD * quad, h, words)
            a, row = (h + top) % stride_h, (h + top) // stride_h
            for b in range(stride_w):
                # Phase b holds the columns w = stride_w col + b - left; the first in the image:
                first_col = (left - b + stride_w - 1) // stride_w
                start = first_col * stride_w + b - left
                count = max(0, -(-(width - start) // stride_w))
                out = planes[((quad * stride_h + a) * stride_w + b) * plane + row * phase_w
                             + first_col:][:count]
                if stride_w == 1:    # a constant step: LLVM vectorizes the copy
                    for k in range(count):
                        out[k] = numpy.int32(words[start + k])
                else:
                    for k in range(count):
                        out[k] = numpy.int32(words[start + k * stride_w])


@kernel
def packed_rows(x, first, last, planes):
    """planes[g * (last - first) + n - first] = the bytes x[n, 4 g + t] (zero past the row)
    for the rows n in [first, last) of x (N, K) uint8: a linear layer's quads, batch-major."""
    count, features = last - first, x.shape[1]
    for g in range(-(-features // _BYTES_PER_WORD)):
        for n in range(first, last):
            word = numpy.uint32(0)
            for t in range(min(_BYTES_PER_WORD, features - _BYTES_PER_WORD * g)):
                word |= numpy.uint32(x[n, _BYTES_PER_WORD * g + t]) << (8 * t)
            planes[g * count + n - first] = numpy.int32(word)


@kernel
def tile_sums(planes, offsets, words, init, tiles, sums):
    """sums[o, v] = init[o] + sum_g dot4(planes[offsets[g] + v], words[o, g]) for every
    channel o of words (O', G) and virtual pixel v < tiles * TILE_PIXELS, a tile of
    TILE_CHANNELS x TILE_PIXELS at a time (module docstring)."""
    for o in range(0, words.shape[0], TILE_CHANNELS):
        w0, w1, w2, w3 = words[o], words[o + 1], words[o + 2], words[o + 3]
        for tile in range(tiles):
            v = tile * TILE_PIXELS
            s00, s01 = splat(init[o]), splat(init[o])
            s10, s11 = splat(init[o + 1]), splat(init[o + 1])
            s20, s21 = splat(init[o + 2]), splat(init[o + 2])
            s30, s31 = splat(init[o + 3]), splat(init[o + 3])
            for g in range(offsets.shape[0]):
                x0, x1 = load16(planes, offsets[g] + v), load16(planes, offsets[g] + v + 16)
                w = splat(w0[g])
                s00, s01 = dot4(s00, x0, w), dot4(s01, x1, w)
                w = splat(w1[g])
                s10, s11 = dot4(s10, x0, w), dot4(s11, x1, w)
                w = splat(w2[g])
                s20, s21 = dot4(s20, x0, w), dot4(s21, x1, w)
                w = splat(w3[g])
                s30, s31 = dot4(s30, x0, w), dot4(s31, x1, w)
            store16(sums[o], v, s00)
            store16(sums[o], v + 16, s01)
            store16(sums[o + 1], v, s10)
            store16(sums[o + 1], v + 16, s11)
            store16(sums[o + 2], v, s20)
            store16(sums[o + 2], v + 16, s21)
            store16(sums[o + 3], v, s30)
            store16(sums[o + 3], v + 16, s31)
