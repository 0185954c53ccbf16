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
below (test_winograd.py checks the 1-d identity). On layers of 64 channels or more it
takes about half the time of F(2x2, 3x3) and of conv_numba.py's direct convolution
(benchmarks/README.md). The price is float32 rounding: the largest error over the largest output is 2e-6 (a few
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
So a block of tiles is: gather the 6x6 input tiles (zeros in the padding and past the edge)
and transform them (V), a group of channels at a time so that the tiles never leave the
cache; 36 GEMMs (M); transform back (Y) and scatter the 4x4 output tiles into y, cropping
those that overhang the bottom or right edge, again a group of channels at a time. The
transforms cost O(tiles x channels); the GEMMs, O(tiles x channel pairs), are where the
time goes.

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
is the direct correlation up to rounding: the tests compare all three products with
reference/conv.py.

Work is split as in conv_numba.py: the tile rows (n, th) of the batch are divided among the
threads of threads.parallel_for, each thread walks its share a block of tiles (_BLOCK_BYTES)
at a time through its own scratch buffers (scratch.py), the transforms are Numba
functions compiled with nogil=True and the GEMMs stacked NumPy matmuls, which release the
GIL too. Each thread sums its own weight gradient; the threads' sums are added at the end.
"""
import numpy
from numba import uint64

from .bias import add_bias
from .jit import kernel
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

# Tiles transformed at a time by _transform (by _sandwich, and in groups of channels by
# _gather_transformed and _transform_scattered): its working space half, (b, a, _STRETCH),
# then stays in L2 between the two products instead of going out to memory and back.
_STRETCH = 512


@kernel
def _weighted_sum(weights, source, start, step, target, into, length):
    """target[into + q] = sum_j weights[j] source[start + j step + q] for q < length. The loop
    over q is innermost and contiguous, so it runs in SIMD lanes; zero weights are skipped, and
    the sum starts from its first term rather than from zeros (a pass fewer, the same bits:
    0 + x is x)."""
    zero, started = uint64(0), False
    for j in range(weights.size):
        weight = weights[j]
        if weight != 0:
            at = start + uint64(j) * step
            if started:
                for q in range(zero, length):
                    target[into + q] += weight * source[at + q]
            else:
                for q in range(zero, length):
                    target[into + q] = weight * source[at + q]
            started = True
    if not started:
        target[into:into + length] = 0


@kernel
def _transform(left, source, source_at, source_step, half, target, target_at, target_step, length):
    """left @ tile @ left^T for `length` tiles at once, left (b, a): for q < length,

        target[target_at + (k b + l) target_step + q]
            = sum_{r, s} left[k, r] left[l, s] source[source_at + (r a + s) source_step + q],

    entry (r, s) of tile q read source_step apart, entry (k, l) of its result written
    target_step apart; half is working space of b a length entries. Two products, each a
    _weighted_sum per entry: half[k, s, q] = sum_r left[k, r] tile[r, s, q] (left @ tile),
    then target[k, l, q] = sum_s left[l, s] half[k, s, q] ((left @ tile) @ left^T)."""
    b, a = left.shape
    length = uint64(length)
    source_at, source_step = uint64(source_at), uint64(source_step)
    target_at, target_step = uint64(target_at), uint64(target_step)
    for k in range(b):
        for s in range(a):
            _weighted_sum(left[k], source, source_at + uint64(s) * source_step, uint64(a) * source_step,
                          half, uint64(k * a + s) * length, length)
    for k in range(b):
        for l in range(b):
            _weighted_sum(left[l], half, uint64(k * a) * length, length,
                          target, target_at + uint64(k * b + l) * target_step, length)


@kernel
def _sandwich(left, tiles, half, out):
    """out[k, l, q] = sum_{r, s} left[k, r] left[l, s] tiles[r, s, q]: left @ tile @ left^T for
    every tile q, tiles (a, a, Q) -> out (b, b, Q) for left (b, a); _transform on a stretch of
    tiles at a time, half (b, a, stretch) its working space."""
    count, stretch = tiles.shape[2], half.shape[2]
    source, middle, target = tiles.ravel(), half.ravel(), out.ravel()
    for first in range(0, count, stretch):
        _transform(left, source, first, count, middle, target, first, count, min(stretch, count - first))


@kernel
def _deinterleave(lines, at, windows, into, span, count, columns):
    """windows[into + s span + t] = lines[at + TILE t + s] for t < count, s < columns: column s
    of each of count tiles whose columns lie TILE apart. columns is a constant at each call,
    so the loop over s unrolls and the loop over t runs in SIMD lanes, TILE loads taken apart
    by shuffles (nearly three times as fast as the same copy with columns a variable)."""
    zero, step = uint64(0), uint64(TILE)
    for t in range(zero, count):
        for s in range(columns):
            windows[into + uint64(s) * span + t] = lines[at + step * t + uint64(s)]


@kernel
def _gather_transformed(left, source, first_row, rows, offset_h, offset_w, tiles_h, tiles_w, group,
                        lines, window, half, out):
    """out[k, l, c, t] = (left @ d @ left^T)[k, l] for the a x a window of channel c of tile t,
    d[r, s] = source[n, c, TILE th + offset_h + r, TILE tw + offset_w + s] (zero outside
    source), left (b, a) with a = TILE or WINDOW, tile t = (row - first_row) tiles_w + tw of
    tile row row = n tiles_h + th, rows first_row .. first_row + rows - 1; out is
    (b, b, C, rows tiles_w).

    `group` channels at a time (see _working_space), the group's windows are cut into
    window[r, s, member count + t] and _transform takes them into
    out[:, :, first .. first + members - 1, :], one contiguous run per (k, l). So the
    windows, 2.25 times the pixels they hold, stay in L1 and L2 instead of being written to
    memory whole and read back.

    The cut. Row r of the windows of tile row `row` is the line m = member rows + row of the
    group, source[n, c, h, offset_w ...] for h = TILE th + offset_h + r; its first TILE
    tiles_w columns are copied, one contiguous copy, into lines[r, m TILE tiles_w + j]
    (zeros outside source). Tile t = m tiles_w + tw of the group then has its column s < TILE
    at lines[r, TILE t + s]: for all of the group's tiles at once, entries TILE apart, which
    _deinterleave copies with SIMD. Neighbouring windows overlap by a - TILE columns: a
    window's columns TILE + s, where a = WINDOW, are the next tile's columns s,
    lines[r, TILE (t + 1) + s], for every tile but the last of each line, whose two are
    taken from source after. (Faster than cutting each tile out of a line one value at a time.)
    """
    a = left.shape[1]
    channels, height, width = source.shape[1], source.shape[2], source.shape[3]
    count, run = uint64(rows * tiles_w), TILE * tiles_w
    span = uint64(window.shape[2])
    lo, hi = max(0, -offset_w), min(run, width - offset_w)   # the j whose column is inside source
    pixels, buffer, windows, middle, target = (source.ravel(), lines.ravel(), window.ravel(),
                                               half.ravel(), out.ravel())
    per_row, zero = uint64(lines.shape[1]), uint64(0)
    buffer[:] = 0    # the columns outside source, which the copies below skip, stay zero
    for first in range(0, channels, group):
        members = min(group, channels - first)
        for member in range(members):
            c = first + member
            for row in range(rows):
                n, th = divmod(first_row + row, tiles_h)
                for r in range(a):
                    h = TILE * th + offset_h + r
                    inside = 0 <= h < height
                    into = uint64(r) * per_row + uint64((member * rows + row) * run + lo)
                    start = uint64(max(0, ((n * channels + c) * height + h) * width + offset_w + lo))
                    for j in range(zero, uint64(max(0, hi - lo))):
                        buffer[into + j] = pixels[start + j] if inside else 0
        for r in range(a):
            at, into = uint64(r) * per_row, uint64(r * a) * span
            _deinterleave(buffer, at, windows, into, span, uint64(members) * count, TILE)
            if a > TILE:   # the next tile's first columns, wrong only for each line's last tile
                _deinterleave(buffer, at + uint64(TILE), windows, into + uint64(TILE) * span, span,
                              uint64(members) * count, WINDOW - TILE)
        for member in range(members if a > TILE else 0):   # each line's last tile, from source
            c = first + member
            for row in range(rows):
                n, th = divmod(first_row + row, tiles_h)
                for r in range(a):
                    h = TILE * th + offset_h + r
                    last = (uint64(r * a + TILE) * span + uint64(member) * count
                            + uint64((row + 1) * tiles_w - 1))
                    for s in range(a - TILE):
                        w = run + s + offset_w
                        inside = 0 <= h < height and 0 <= w < width
                        pixel = ((n * channels + c) * height + h) * width + w
                        windows[last + uint64(s) * span] = pixels[pixel] if inside else 0
        _transform(left, windows, 0, span, middle, target, first * count, channels * count,
                   members * count)


@kernel
def _interleave(windows, at, lines, into, span, count):
    """lines[into + TILE t + s] = windows[at + s span + t] for t < count, s < TILE: _deinterleave
    backwards, the TILE columns of count tiles put side by side."""
    zero, step = uint64(0), uint64(TILE)
    for t in range(zero, count):
        for s in range(TILE):
            lines[into + step * t + uint64(s)] = windows[at + uint64(s) * span + t]


@kernel
def _transform_scattered(left, products, first_row, rows, tiles_h, tiles_w, group,
                         lines, window, half, out):
    """out[n, o, TILE th + r, TILE tw + s] = (left @ m @ left^T)[r, s] where inside out, for the
    a x a tile m[k, l] = products[k, l, o, t] of tile t and left (TILE, a): _gather_transformed's
    index math with offsets 0, backwards, cropping the tiles at the bottom and right edges.
    A group of channels at a time, as there: _transform takes the group's tiles, contiguous
    runs of products, into window[r, s, member count + t]; _interleave puts row r of them side
    by side, lines[r, TILE t + s], which for tile t = m tiles_w + tw is the output row of line
    m = member rows + row, TILE tw + s; and the first `width` columns of each line are copied
    into out (while the group is in cache, rather than after all the block's tiles)."""
    channels, height, width = out.shape[1], out.shape[2], out.shape[3]
    count, run = uint64(products.shape[3]), TILE * tiles_w
    values, middle, tiles, buffer, target = (products.ravel(), half.ravel(), window.ravel(),
                                             lines.ravel(), out.ravel())
    span = uint64(window.shape[2])
    per_row, zero = uint64(lines.shape[1]), uint64(0)
    for first in range(0, channels, group):
        members = min(group, channels - first)
        _transform(left, values, first * count, channels * count, middle, tiles, 0, span,
                   members * count)
        for r in range(TILE):
            _interleave(tiles, uint64(r * TILE) * span, buffer, uint64(r) * per_row, span,
                        uint64(members) * count)
        for member in range(members):
            o = first + member
            for row in range(rows):
                n, th = divmod(first_row + row, tiles_h)
                for r in range(min(TILE, height - TILE * th)):
                    at = uint64(r) * per_row + uint64((member * rows + row) * run)
                    into = uint64(((n * channels + o) * height + TILE * th + r) * width)
                    for w in range(zero, uint64(width)):
                        target[into + w] = buffer[at + w]


# Bytes of a block's transformed inputs and products together, 36 (C + O) entries per tile,
# so that they stay in L2 and L3 between the transforms and the GEMMs.
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


def _working_space(left, rows, tiles_w, dtype):
    """(group, (lines, window, half)) for _gather_transformed or _transform_scattered with left
    (b, a) on a block of `rows` tile rows, count = rows tiles_w tiles: group = max(1, _STRETCH
    // count) channels at a time, and this thread's buffers for them, lines (side, TILE group
    count + TILE), window (side, side, group count) and half (b, a, group count), side the
    larger of a and b. A row of lines has TILE entries to spare because _gather_transformed
    reads up to TILE entries past the end of the last line (values it then overwrites)."""
    (b, a), count = left.shape, rows * tiles_w
    side, group = max(a, b), max(1, _STRETCH // count)
    return group, (scratch("winograd lines", (side, TILE * group * count + TILE), dtype),
                   scratch("winograd window", (side, side, group * count), dtype),
                   scratch("winograd half", (b, a, group * count), dtype))


def _transformed_tiles(source, block, offset, tiling, left, name):
    """left @ tile @ left^T for the tiles of `source` in block (first row, rows, count):
    (b * b, C, count) for left (b, a), in this thread's scratch buffer `name`."""
    (first, rows, count), b, channels = block, left.shape[0], source.shape[1]
    group, space = _working_space(left, rows, tiling.tiles_w, source.dtype)
    out = scratch(name, (b * b, channels, count), source.dtype)
    _gather_transformed(left, source, first, rows, offset[0], offset[1], tiling.tiles_h, tiling.tiles_w,
                        group, *space, out)
    return out


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
        for block in tiling.blocks(start, stop):
            (first, rows, count) = block
            inputs = _transformed_tiles(x, block, offset, tiling, input_t, "winograd inputs")
            products = scratch("winograd products", (WINDOW, WINDOW, out_channels, count), x.dtype)
            numpy.matmul(filters, inputs, out=products.reshape(-1, out_channels, count))
            group, space = _working_space(output_t, rows, tiling.tiles_w, x.dtype)
            _transform_scattered(output_t, products, first, rows, tiling.tiles_h, tiling.tiles_w,
                                 group, *space, y)
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
