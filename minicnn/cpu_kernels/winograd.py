"""3x3 stride-1 convolution on the CPU by Winograd's minimal filtering, F(4x4, 3x3).

A direct 3x3 correlation takes 9 multiply-adds per output pixel and channel pair, which
conv_numba.py hands to BLAS as GEMMs. Winograd's minimal filtering (S. Winograd, Arithmetic
Complexity of Computations, 1980; A. Lavin and S. Gray, Fast Algorithms for Convolutional
Neural Networks, 2016) computes a tile of outputs with fewer products, paid for with
additions before and after them that are done once per tile and channel, not per pair.

One dimension, F(2, 3): two outputs of a 3-tap correlation of inputs d0..d3 with taps g0..g2,

    y0 = d0 g0 + d1 g1 + d2 g2,     y1 = d1 g0 + d2 g1 + d3 g2          (6 products)

come from four products,

    m1 = (d0 - d2) g0               m2 = (d1 + d2) (g0 + g1 + g2) / 2
    m4 = (d1 - d3) g2               m3 = (d2 - d1) (g0 - g1 + g2) / 2

as y0 = m1 + m2 + m3 and y1 = m2 - m3 - m4 (expand m2 + m3 and m2 - m3 to check). The sums
of taps are made once per filter. In matrices, y = A^T [(G g) * (B^T d)] with * elementwise:

    B^T = [1  0 -1  0]     G = [1    0    0  ]     A^T = [1  1  1  0]
          [0  1  1  0]         [1/2  1/2  1/2]           [0  1 -1 -1]
          [0 -1  1  0]         [1/2 -1/2  1/2]
          [0  1  0 -1]         [0    0    1  ]

Where they come from: a correlation is a product of polynomials (Toom-Cook). Evaluate the
data and the filter polynomials at m + r - 1 points (here 0, 1, -1 and infinity; B^T and G
evaluate), multiply the values (one product per point), and interpolate the product
polynomial's coefficients back (A^T). F(m, r) thus takes m + r - 1 products for m outputs.

Two dimensions nest the one-dimensional algorithm, along the rows and then the columns of a
tile: a (m + 2) x (m + 2) input tile d and a 3x3 filter g give the m x m outputs

    Y = A^T [(G g G^T) * (B^T d B)] A.

This module uses F(4x4, 3x3), points 0, 1, -1, 2, -2 and infinity: 36 products for 16
outputs instead of 144, with the 6x6 B^T, 6x3 G and 4x6 A^T of INPUT_T, FILTER and OUTPUT_T
below (test_winograd.py checks the 1-d identity). Measured on the 2-core machine of
benchmarks/README.md, 1 thread, float32, forward / input grad / weight grad in ms, shapes of
benchmarks/bench_conv.py: shape C, F(4x4) 27 / 28 / 29, F(2x2) 40 / 38 / 42, conv_numba
48 / 47 / 51; shape E, F(4x4) 11 / 13 / 10, F(2x2) 16 / 19 / 17, conv_numba 21 / 21 / 22.
The price is float32 rounding: the largest error over the largest output is 2e-6 (a few
channels) to 1e-5 (128 to 256 channels) for F(4x4), 1e-7 to 6e-7 for F(2x2) and direct
convolution, as the entries up to 8 of A^T and 5 of B^T scale rounding errors up before the
differences of the output transform. That is far below the noise of float32 training, so
F(4x4). (F(6x6, 3x3) would save a further fifth of the products, with larger constants in
its transforms and so larger errors; not tried here.)

A layer sums over its input channels c, and that sum passes through A^T ... A, so for the
output tile of channel o

    Y[o] = A^T [sum_c U[o, c] * V[c]] A,    U[o, c] = G g[o, c] G^T,   V[c] = B^T d[c] B,

and at each of the 36 positions (k, l) of a transformed tile the sum over c, for all tiles
at once, is a matrix product: M[k, l] (O x tiles) = U[k, l] (O x C) @ V[k, l] (C x tiles).
So a block of tiles is: gather the 6x6 input tiles (zeros in the padding and past the edge),
transform them (V), 36 GEMMs (M), transform back (Y), and scatter the 4x4 output tiles into
y, cropping those that overhang the bottom or right edge. The transforms cost O(tiles x
channels); the GEMMs, O(tiles x channel pairs), are where the time goes.

Gradients. The input gradient of a correlation with padding (top, left) is a correlation too:

    gx[n, c, h, w] = sum_{o, i, j} gy[n, o, h + top - i, w + left - j] g[o, c, i, j]
                   = sum_{o, i, j} gy[n, o, h - (2 - top) + i, w - (2 - left) + j] g[o, c, 2 - i, 2 - j],

the correlation of gy, padded by 2 - top and 2 - left, with the filters flipped in both
axes and their channel axes swapped, (C, O, 3, 3): forward's code, run on gy.
The weight gradient follows the forward steps back. Y = A^T M A, M = sum_c U * V and
U = G g G^T are each linear, and the adjoint of a linear map is its transpose, so with
dY the 4x4 tile of gy (zeros past the edge):

    dM = A dY A^T,    dU[o, c] = sum over tiles of dM[o] * V[c],    dg = G^T dU G,

where the sum over tiles is again a GEMM per position, dU[k, l] (O x C) = dM[k, l] (O x
tiles) @ V[k, l]^T (tiles x C). It is the exact gradient of what forward computes, which
is the direct correlation up to rounding.

Work is split as in conv_numba.py: the tile rows (n, th) of the batch are divided among the
threads of threads.parallel_for, each thread walks its share a block of tiles (_BLOCK_BYTES)
at a time through its own scratch buffers (scratch.py), the transforms are Numba
functions compiled with nogil=True and the GEMMs stacked NumPy matmuls, which release the
GIL too. Each thread sums its own weight gradient; the threads' sums are added at the end.
"""
import numpy
from numba import njit, uint64

from .conv_geometry import add_bias
from .scratch import scratch
from .threads import parallel_for

TILE = 4                       # outputs per tile side: m in F(m x m, 3 x 3)
WINDOW = TILE + 2              # inputs per tile side: m + r - 1 = 6

# F(4, 3) at the points 0, 1, -1, 2, -2 and infinity, as in Lavin and Gray (2016). The rows of
# G evaluate the filter polynomial g0 + g1 x + g2 x^2 at the points (the last row is its leading
# coefficient, its "value at infinity"), scaled by 1/4, -1/6, -1/6, 1/24, 1/24 and 1; the
# columns of A^T hold the powers 1, p, p^2, p^3 of each point p (the last, infinity's, is
# (0, 0, 0, 1)); B^T is then fixed by the identity, and with these scalings its entries are integers.
INPUT_T = numpy.array([        # B^T: 6 x 6
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1]], dtype=numpy.float64)
FILTER = numpy.array([         # G: 6 x 3
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1]], dtype=numpy.float64)
OUTPUT_T = numpy.array([       # A^T: 4 x 6
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 0],
    [0, 1, 1, 4, 4, 0],
    [0, 1, -1, 8, -8, 1]], dtype=numpy.float64)


def supports(geometry):
    """Whether these kernels compute this correlation: a 3x3 kernel, stride 1, no dilation, one group
    (any padding)."""
    return (geometry.kernel == (3, 3) and geometry.stride == (1, 1) and geometry.dilation == (1, 1)
            and geometry.groups == 1)


# As in conv_numba.py, the loops index flat arrays with unsigned integers, so that Numba
# drops the test for negative indices and vectorises the innermost loop.

# Tiles transformed at a time by _sandwich: its working space half, (b, a, _STRETCH), then
# stays in L2 between the two products instead of going out to memory and back. Measured on
# shape E: 20-30% less time than each product over all tiles in turn; 256 to 1024 about equal.
_STRETCH = 512


@njit(nogil=True, cache=True)
def _sandwich(left, tiles, half, out):
    """out[k, l, q] = sum_{r, s} left[k, r] left[l, s] tiles[r, s, q]: left @ tile @ left^T for
    every tile q at once, tiles (a, a, Q) -> out (b, b, Q) for left (b, a); half is working
    space (b, a, stretch). A stretch of tiles at a time, in two products:
    half[k, s, q] = sum_r left[k, r] tiles[r, s, q] (left @ tile), then
    out[k, l, q] = sum_s left[l, s] half[k, s, q] ((left @ tile) @ left^T).
    The loops over q are innermost and contiguous, so they run in SIMD lanes; the zeros of
    left are skipped."""
    b, a = left.shape
    count, stretch, zero = tiles.shape[2], half.shape[2], uint64(0)
    source, middle, target = tiles.ravel(), half.ravel(), out.ravel()
    for first in range(0, count, stretch):
        length = uint64(min(stretch, count - first))
        for k in range(b):
            for s in range(a):
                into = uint64((k * a + s) * stretch)
                for q in range(zero, length):
                    middle[into + q] = 0
                for r in range(a):
                    weight = left[k, r]
                    if weight != 0:
                        start = uint64((r * a + s) * count + first)
                        for q in range(zero, length):
                            middle[into + q] += weight * source[start + q]
        for k in range(b):
            for l in range(b):
                into = uint64((k * b + l) * count + first)
                for q in range(zero, length):
                    target[into + q] = 0
                for s in range(a):
                    weight = left[l, s]
                    if weight != 0:
                        start = uint64((k * a + s) * stretch)
                        for q in range(zero, length):
                            target[into + q] += weight * middle[start + q]


@njit(nogil=True, cache=True)
def _gather_tiles(source, first_row, rows, offset_h, offset_w, tiles_h, tiles_w, lines, tiles):
    """tiles[r, s, c, t] = source[n, c, TILE th + offset_h + r, TILE tw + offset_w + s], zero
    outside source, for tile t = (row - first_row) tiles_w + tw of tile row row = n tiles_h + th,
    rows first_row .. first_row + rows - 1; tiles is (size, size, C, rows tiles_w).

    Neighbouring tiles overlap by size - TILE columns, so each source row a tile row reads is
    first copied whole into lines[row, r, q] = source[n, c, h, q + offset_w] (zeros outside),
    one contiguous copy, and the tiles are cut from it: tiles[r, s, c, t] = lines[row, r, TILE tw + s].
    lines holds rows x size x (TILE (tiles_w - 1) + size) entries: one channel's rows for the
    whole block, so that the tiles are then written one (r, s, c) run of all the block's tiles
    at a time. Written a tile row at a time instead, the 36 runs of tiles_w values lie
    C x tiles apart, a multiple of 4 KiB on shape E, and evicted each other from the L1 cache:
    the gather of 256 channels took 2.8 ms instead of 1.8 ms (shape E, one thread).
    """
    size, channels = tiles.shape[0], tiles.shape[2]
    height, width = source.shape[2], source.shape[3]
    count, zero, step = uint64(tiles.shape[3]), uint64(0), uint64(TILE)
    length = TILE * (tiles_w - 1) + size
    lo, hi = max(0, -offset_w), min(length, width - offset_w)   # the q whose column is inside
    pixels, buffer, target = source.ravel(), lines.ravel(), tiles.ravel()
    buffer[:] = 0
    for c in range(channels):
        for row in range(rows):
            n, th = divmod(first_row + row, tiles_h)
            for r in range(size):
                h = TILE * th + offset_h + r
                inside = 0 <= h < height
                into = uint64((row * size + r) * length + lo)
                start = uint64(max(0, ((n * channels + c) * height + h) * width + offset_w + lo))
                for q in range(zero, uint64(max(0, hi - lo))):
                    buffer[into + q] = pixels[start + q] if inside else 0
        for r in range(size):
            for s in range(size):
                into = uint64((r * size + s) * channels + c) * count
                for row in range(rows):
                    start = uint64((row * size + r) * length + s)
                    at = into + uint64(row * tiles_w)
                    for tw in range(zero, uint64(tiles_w)):
                        target[at + tw] = buffer[start + tw * step]


@njit(nogil=True, cache=True)
def _scatter_tiles(tiles, first_row, rows, tiles_h, tiles_w, line, out):
    """out[n, o, TILE th + r, TILE tw + s] = tiles[r, s, o, t] where inside out: _gather_tiles's
    index math with offsets 0, backwards, cropping the tiles at the bottom and right edges.
    Each row of a tile row is put together in line (TILE tiles_w) and copied out whole."""
    channels, height, width = out.shape[1], out.shape[2], out.shape[3]
    count, zero, step = uint64(tiles.shape[3]), uint64(0), uint64(TILE)
    values, target = tiles.ravel(), out.ravel()
    for o in range(channels):
        for row in range(rows):
            n, th = divmod(first_row + row, tiles_h)
            for r in range(min(TILE, height - TILE * th)):
                for s in range(TILE):
                    start = uint64((r * TILE + s) * channels + o) * count + uint64(row * tiles_w)
                    for tw in range(zero, uint64(tiles_w)):
                        line[uint64(s) + tw * step] = values[start + tw]
                into = uint64(((n * channels + o) * height + TILE * th + r) * width)
                for w in range(zero, uint64(width)):
                    target[into + w] = line[w]


# Bytes of a block's transformed inputs and products together, 36 (C + O) entries per tile,
# so that they stay in L2 and L3 between the transforms and the GEMMs. Measured, in tiles per
# block: shape C (C + O = 128) was fastest at 64 to 256, shape E (C + O = 384) at 32 to 48,
# 12% faster than at 128 on two threads. This budget gives at most 112 and 36.
_BLOCK_BYTES = 2 << 20
# As in conv_numba.py: a thread's share must be worth handing over.
_MIN_MULTIPLY_ADDS_PER_THREAD = 2_000_000


class _Tiling:
    """The output cut into TILE x TILE tiles, tiles_h x tiles_w per sample, and the batch's
    tile rows (n, th) cut into blocks of about _BLOCK_BYTES."""

    def __init__(self, batch, out_size, channels, out_channels, dtype):
        self.tiles_h, self.tiles_w = (-(-size // TILE) for size in out_size)
        self.rows = batch * self.tiles_h
        per_tile = WINDOW * WINDOW * (channels + out_channels) * numpy.dtype(dtype).itemsize
        self.block_rows = max(1, _BLOCK_BYTES // (per_tile * self.tiles_w))
        # parallel_for's min_chunk: the GEMMs do 36 multiply-adds per tile and channel pair.
        per_row = self.tiles_w * WINDOW * WINDOW * channels * out_channels
        self.min_rows = -(-_MIN_MULTIPLY_ADDS_PER_THREAD // per_row)

    def blocks(self, start, stop):
        """(first tile row, tile rows, tiles) per block of rows start .. stop - 1: as few blocks
        as hold at most block_rows each, all of the same size (within a row), as a small
        last block multiplies too few tiles for an efficient GEMM."""
        count = -(-(stop - start) // self.block_rows)
        bounds = [start + (stop - start) * k // count for k in range(count + 1)]
        for first, end in zip(bounds, bounds[1:]):
            yield first, end - first, (end - first) * self.tiles_w


def _both_sides(left, tiles, name):
    """left @ tile @ left^T for every tile of tiles (a, a, ...): (b, b, ...), in this thread's
    scratch buffer `name`."""
    (b, a), rest = left.shape, tiles.shape[2:]
    half = scratch("winograd half", (b, a, _STRETCH), tiles.dtype)
    out = scratch(name, (b, b) + rest, tiles.dtype)
    _sandwich(left, tiles.reshape(a, a, -1), half, out.reshape(b, b, -1))
    return out


def _transformed_tiles(source, block, offset, tiling, left, name):
    """left @ tile @ left^T for the tiles of `source` in block (first row, rows, count):
    (b * b, C, count) for left (b, a), in this thread's scratch buffer `name`."""
    (first, rows, count), (b, a), channels = block, left.shape, source.shape[1]
    lines = scratch("winograd lines", (rows, a, TILE * (tiling.tiles_w - 1) + a), source.dtype)
    tiles = scratch("winograd tiles", (a, a, channels, count), source.dtype)
    _gather_tiles(source, first, rows, offset[0], offset[1], tiling.tiles_h, tiling.tiles_w, lines, tiles)
    return _both_sides(left, tiles, name).reshape(b * b, channels, count)


def _matrices(dtype):
    """B^T, G, A^T in the arrays' dtype."""
    return tuple(numpy.asarray(m, dtype=dtype) for m in (INPUT_T, FILTER, OUTPUT_T))


def _correlate(x, weight, offset, out_size):
    """y[n, o, h, w] = sum_{c, i, j} weight[o, c, i, j] x[n, c, h + offset_h + i, w + offset_w + j]
    (zero outside x), for y of spatial size out_size: (N, O) + out_size.

    Per block of tiles: V = B^T d B (36, C, tiles), M[k, l] = U[k, l] @ V[k, l] (36, O, tiles),
    Y = A^T M A scattered into y.
    """
    x = numpy.ascontiguousarray(x)
    input_t, filter_, output_t = _matrices(x.dtype)
    (batch, channels), out_channels = x.shape[:2], weight.shape[0]
    kernels = numpy.ascontiguousarray(weight.transpose(2, 3, 0, 1), dtype=x.dtype)   # (3, 3, O, C)
    filters = _both_sides(filter_, kernels, "winograd filters").reshape(-1, out_channels, channels)
    y = numpy.empty((batch, out_channels) + tuple(out_size), dtype=x.dtype)
    tiling = _Tiling(batch, out_size, channels, out_channels, x.dtype)

    def chunk(start, stop):
        line = scratch("winograd output line", TILE * tiling.tiles_w, x.dtype)
        for block in tiling.blocks(start, stop):
            (first, rows, count) = block
            inputs = _transformed_tiles(x, block, offset, tiling, input_t, "winograd inputs")
            products = scratch("winograd products", (WINDOW, WINDOW, out_channels, count), x.dtype)
            numpy.matmul(filters, inputs, out=products.reshape(-1, out_channels, count))
            outputs = _both_sides(output_t, products, "winograd outputs")
            _scatter_tiles(outputs, first, rows, tiling.tiles_h, tiling.tiles_w, line, y)
    parallel_for(chunk, tiling.rows, tiling.min_rows)
    return y


def forward(x, weight, geometry, bias=None):
    """The correlation of x (N, C, H, W) with weight (O, C, 3, 3) at stride 1, plus bias[o]
    if given: (N, O, out_h, out_w)."""
    (top, _), (left, _) = geometry.padding
    return add_bias(_correlate(x, weight, (-top, -left), geometry.out_size), bias)


def input_grad(gy, weight, geometry, bias=None):
    """dL/dx for forward, from gy (N, O, out_h, out_w): (N, C, H, W), the correlation of gy,
    padded by 2 - top and 2 - left, with the flipped filters weight[:, :, ::-1, ::-1] as (C, O, 3, 3);
    plus bias[c] if given (a transposed convolution layer's bias)."""
    (top, _), (left, _) = geometry.padding
    flipped = weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    return add_bias(_correlate(gy, flipped, (top - 2, left - 2), geometry.in_size), bias)


def weight_grad(x, gy, geometry):
    """dL/dweight for forward: (O, C, 3, 3). Per block of tiles: V = B^T d B (36, C, tiles),
    dM = A dY A^T (36, O, tiles), dU[k, l] += dM[k, l] @ V[k, l]^T; then dg = G^T dU G per thread,
    and the threads' dg are added."""
    x, gy = numpy.ascontiguousarray(x), numpy.ascontiguousarray(gy)
    input_t, filter_, output_t = _matrices(x.dtype)
    output, filter_t = numpy.ascontiguousarray(output_t.T), numpy.ascontiguousarray(filter_.T)   # A, G^T
    (batch, channels), out_channels = x.shape[:2], gy.shape[1]
    (top, _), (left, _) = geometry.padding
    tiling = _Tiling(batch, geometry.out_size, channels, out_channels, x.dtype)

    def chunk(start, stop):
        total = scratch("winograd weight grad", (WINDOW * WINDOW, out_channels, channels), x.dtype)
        product = scratch("winograd products", total.shape, x.dtype)
        for index, block in enumerate(tiling.blocks(start, stop)):
            inputs = _transformed_tiles(x, block, (-top, -left), tiling, input_t, "winograd inputs")
            grads = _transformed_tiles(gy, block, (0, 0), tiling, output, "winograd output grads")   # dM
            # The first block's product is the sum so far: no zeroing, no addition.
            numpy.matmul(grads, inputs.transpose(0, 2, 1), out=product if index else total)
            if index:
                total += product
        # G^T dU G is linear, so each thread applies it to its own sum, in parallel, and only
        # the 3x3 results, a quarter the size of the 6x6 sums, are added at the end.
        total = total.reshape(WINDOW, WINDOW, out_channels, channels)
        return _both_sides(filter_t, total, "winograd filter grads")
    return sum(parallel_for(chunk, tiling.rows, tiling.min_rows)).transpose(2, 3, 0, 1).copy()
