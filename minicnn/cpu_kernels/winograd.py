"""3x3 stride-1 convolution on the CPU by Winograd's minimal filtering, F(4x4, 3x3).

DRAFT
"""
import numpy
from numba import njit, uint64

from .conv_numba import _valid_outputs
from .scratch import scratch
from .threads import parallel_for

TILE = 4                       # outputs per tile side: m in F(m x m, 3 x 3)
WINDOW = TILE + 2              # inputs per tile side: m + r - 1 = 6

# The interpolation points 0, 1, -1, 2, -2 and infinity (Lavin and Gray, 2016).
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
    """True where these kernels compute the correlation: a 3x3 kernel, stride 1, no dilation, one group."""
    return (geometry.kernel == (3, 3) and geometry.stride == (1, 1) and geometry.dilation == (1, 1)
            and geometry.groups == 1)


# As in conv_numba.py, the loops index flat arrays with unsigned integers, so that Numba
# drops the test for negative indices and vectorises the innermost loop.

@njit(nogil=True, cache=True)
def _sandwich(left, tiles, half, out):
    """out[k, l, t] = sum_{r, s} left[k, r] left[l, s] tiles[r, s, t], that is left @ tile @ left^T
    for every tile t at once: tiles (a, a, T) -> out (b, b, T) for left (b, a), through
    half[k, s, t] = sum_r left[k, r] tiles[r, s, t] (b, a, T). The loop over t is innermost
    and contiguous, so it runs in SIMD lanes; the zeros of left are skipped."""
    b, a = left.shape
    count = uint64(tiles.shape[2])
    source, middle, target, zero = tiles.ravel(), half.ravel(), out.ravel(), uint64(0)
    for k in range(b):
        for s in range(a):
            into = uint64(k * a + s) * count
            for t in range(zero, count):
                middle[into + t] = 0
            for r in range(a):
                weight = left[k, r]
                if weight != 0:
                    start = uint64(r * a + s) * count
                    for t in range(zero, count):
                        middle[into + t] += weight * source[start + t]
    for k in range(b):
        for l in range(b):
            into = uint64(k * b + l) * count
            for t in range(zero, count):
                target[into + t] = 0
            for s in range(a):
                weight = left[l, s]
                if weight != 0:
                    start = uint64(k * a + s) * count
                    for t in range(zero, count):
                        target[into + t] += weight * middle[start + t]


@njit(nogil=True, cache=True)
def _gather_tiles(source, first_row, rows, offset_h, offset_w, tiles_h, tiles_w, tiles):
    """tiles[r, s, c, t] = source[n, c, TILE th + offset_h + r, TILE tw + offset_w + s], zero
    outside source, for tile t = (row - first_row) tiles_w + tw of tile row row = n tiles_h + th,
    rows first_row .. first_row + rows - 1; tiles is (size, size, C, rows tiles_w).
    Neighbouring tiles overlap by size - TILE rows and columns, so most pixels are copied
    to more than one tile."""
    size, channels = tiles.shape[0], tiles.shape[2]
    height, width = source.shape[2], source.shape[3]
    count, step, zero = uint64(tiles.shape[3]), uint64(TILE), uint64(0)
    pixels, target = source.ravel(), tiles.ravel()
    for c in range(channels):
        for row in range(rows):
            n, th = divmod(first_row + row, tiles_h)
            for r in range(size):
                h = TILE * th + offset_h + r
                for s in range(size):
                    lo, hi = _valid_outputs(offset_w + s, TILE, width, tiles_w)
                    if h < 0 or h >= height:
                        lo = hi = tiles_w
                    into = uint64((r * size + s) * channels + c) * count + uint64(row * tiles_w)
                    start = uint64(max(0, ((n * channels + c) * height + h) * width + offset_w + s + TILE * lo))
                    for tw in range(zero, uint64(lo)):
                        target[into + tw] = 0
                    inside = into + uint64(lo)
                    for tw in range(zero, uint64(hi - lo)):
                        target[inside + tw] = pixels[start + tw * step]
                    for tw in range(uint64(hi), uint64(tiles_w)):
                        target[into + tw] = 0


@njit(nogil=True, cache=True)
def _scatter_tiles(tiles, first_row, rows, tiles_h, tiles_w, out):
    """out[n, o, TILE th + r, TILE tw + s] = tiles[r, s, o, t] where inside out: the index math
    of _gather_tiles with offsets 0, backwards, cropping the tiles at the bottom and right edges."""
    channels, height, width = out.shape[1], out.shape[2], out.shape[3]
    count, step = uint64(tiles.shape[3]), uint64(TILE)
    values, target = tiles.ravel(), out.ravel()
    for row in range(rows):
        n, th = divmod(first_row + row, tiles_h)
        for r in range(min(TILE, height - TILE * th)):
            for s in range(TILE):
                _, hi = _valid_outputs(s, TILE, width, tiles_w)
                for o in range(channels):
                    start = uint64(((r * TILE + s) * channels + o)) * count + uint64(row * tiles_w)
                    into = uint64(((n * channels + o) * height + TILE * th + r) * width + s)
                    for tw in range(uint64(0), uint64(hi)):
                        target[into + tw * step] = values[start + tw]


_TARGET_TILES = 128
_MIN_MULTIPLY_ADDS_PER_THREAD = 2_000_000


class _Tiling:
    """The output cut into TILE x TILE tiles, tiles_h x tiles_w per sample, and the batch's
    tile rows (n, th) cut into blocks of about _TARGET_TILES tiles."""

    def __init__(self, batch, out_size, channels):
        self.tiles_h, self.tiles_w = (-(-size // TILE) for size in out_size)
        self.rows = batch * self.tiles_h
        self.block_rows = max(1, _TARGET_TILES // self.tiles_w)
        # parallel_for's min_chunk: 36 multiply-adds per (tile, position, channel pair)
        per_row = self.tiles_w * WINDOW * WINDOW * channels
        self.min_rows = -(-_MIN_MULTIPLY_ADDS_PER_THREAD // per_row)

    def blocks(self, start, stop):
        """(first tile row, tile rows, tiles) per block of rows start .. stop - 1."""
        for first in range(start, stop, self.block_rows):
            rows = min(self.block_rows, stop - first)
            yield first, rows, rows * self.tiles_w


def _transform(left, tiles, name):
    """left @ tile @ left^T for every tile of tiles (a, a, ...): (b, b, ...), in this thread's
    scratch buffer `name`."""
    (b, a), rest = left.shape, tiles.shape[2:]
    flat = tiles.reshape(a, a, -1)
    half = scratch("winograd half", (b, a, flat.shape[2]), tiles.dtype)
    out = scratch(name, (b, b, flat.shape[2]), tiles.dtype)
    _sandwich(left, flat, half, out)
    return out.reshape((b, b) + rest)


def _transformed_tiles(source, block, offset, tiling, left, name):
    """The tiles of `source` in block (first row, rows, count), each left @ tile @ left^T:
    (b * b, C, count) for left (b, a), in this thread's scratch buffer `name`."""
    (first, rows, count), (b, a), channels = block, left.shape, source.shape[1]
    tiles = scratch("winograd tiles", (a, a, channels, count), source.dtype)
    _gather_tiles(source, first, rows, offset[0], offset[1], tiling.tiles_h, tiling.tiles_w, tiles)
    return _transform(left, tiles, name).reshape(b * b, channels, count)


def _matrices(dtype):
    """B^T, G, A^T in the arrays' dtype."""
    return tuple(numpy.asarray(m, dtype=dtype) for m in (INPUT_T, FILTER, OUTPUT_T))


def _correlate(x, weight, offset, out_size):
    """y[n, o, h, w] = sum_{c, i, j} weight[o, c, i, j] x[n, c, h + offset_h + i, w + offset_w + j]
    (zero outside x), for y of spatial size out_size."""
    x = numpy.ascontiguousarray(x)
    input_t, filter_, output_t = _matrices(x.dtype)
    (batch, channels), out_channels = x.shape[:2], weight.shape[0]
    kernels = numpy.ascontiguousarray(weight.transpose(2, 3, 0, 1), dtype=x.dtype)
    filters = _transform(filter_, kernels, "winograd filters").reshape(-1, out_channels, channels).copy()
    y = numpy.empty((batch, out_channels) + tuple(out_size), dtype=x.dtype)
    tiling = _Tiling(batch, out_size, channels * out_channels)

    def chunk(start, stop):
        for block in tiling.blocks(start, stop):
            inputs = _transformed_tiles(x, block, offset, tiling, input_t, "winograd inputs")
            products = scratch("winograd products", (WINDOW, WINDOW, out_channels, block[2]), x.dtype)
            numpy.matmul(filters, inputs, out=products.reshape(-1, out_channels, block[2]))
            outputs = _transform(output_t, products, "winograd outputs")
            _scatter_tiles(outputs, block[0], block[1], tiling.tiles_h, tiling.tiles_w, y)
    parallel_for(chunk, tiling.rows, tiling.min_rows)
    return y


def forward(x, weight, geometry):
    (top, _), (left, _) = geometry.padding
    return _correlate(x, weight, (-top, -left), geometry.out_size)


def input_grad(gy, weight, geometry):
    (top, _), (left, _) = geometry.padding
    flipped = weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    return _correlate(gy, flipped, (top - 2, left - 2), geometry.in_size)


def weight_grad(x, gy, geometry):
    x, gy = numpy.ascontiguousarray(x), numpy.ascontiguousarray(gy)
    input_t, filter_, output_t = _matrices(x.dtype)
    (batch, channels), out_channels = x.shape[:2], gy.shape[1]
    (top, _), (left, _) = geometry.padding
    tiling = _Tiling(batch, geometry.out_size, channels * out_channels)
    partials = []

    def chunk(start, stop):
        total = scratch("winograd weight grad", (WINDOW * WINDOW, out_channels, channels), x.dtype)
        total[...] = 0
        product = scratch("winograd products", total.shape, x.dtype)
        for block in tiling.blocks(start, stop):
            inputs = _transformed_tiles(x, block, (-top, -left), tiling, input_t, "winograd inputs")
            grads = _transformed_tiles(gy, block, (0, 0), tiling, numpy.ascontiguousarray(output_t.T), "winograd output grads")
            numpy.matmul(grads, inputs.transpose(0, 2, 1), out=product)
            total += product
        partials.append(total)
    parallel_for(chunk, tiling.rows, tiling.min_rows)
    summed = sum(partials[1:], partials[0]).reshape(WINDOW, WINDOW, out_channels, channels)
    gw = _transform(numpy.ascontiguousarray(filter_.T), summed, "winograd filters")
    return gw.transpose(2, 3, 0, 1).copy()
