"""Pooling and index scatter as Numba kernels on (planes, H, W) arrays.

Every kernel works on planes, p = n * C + c for an (N, C, H, W) input, because pooling
never mixes channels or images. A window along one axis is described by three things,

    start[o], count[o], step:   output index o reads input positions start[o] + i * step,
                                i in [0, count[o]), skipping those outside [0, size)

which covers both kinds of pooling (see functional/pool.py for how they are built):

    fixed windows     start[o] = o * stride - padding,  count[o] = kernel,  step = dilation
    adaptive windows  start[o] = floor(o * size / out),
                      count[o] = ceil((o + 1) * size / out) - start[o],  step = 1

Each kernel is serial and compiled with nogil=True; `parallel_for` (threads.py) gives each
thread its own contiguous range of planes [first, last), so no two threads write the same
output element. reference/pool.py computes the same from the definitions; the tests compare.
"""
import numpy
from numba import int64, uint64

from .jit import kernel
from .threads import parallel_for

# A thread needs about this many inner-loop steps to pay for being started.
_WORK_PER_CHUNK = 1 << 15


@kernel
def _inside(start, count, step, size):
    """The taps i in [low, high) whose position start + i * step lies in [0, size)."""
    low = 0 if start >= 0 else (step - 1 - start) // step
    high = min(count, (size - 1 - start) // step + 1) if start < size else 0
    return low, max(low, high)


@kernel
def _swept(start, count, step, size):
    """(taps, swept): swept[o] says whether window o lies inside [0, size) with the same
    number of taps as the first such window, taps (0 when there is none)."""
    taps = 0
    swept = numpy.zeros(len(start), numpy.bool_)
    for o in range(len(start)):
        if start[o] >= 0 and start[o] + (count[o] - 1) * step < size:
            taps = count[o] if taps == 0 else taps
            swept[o] = count[o] == taps
    return taps, swept


@kernel
def _max_pool(x, row_start, row_count, row_step, col_start, col_count, col_step,
              flat_at, out, index, first, last):
    """out[p, oh, ow] = max of x[p, h, w] over the window; index = h * W + w of the max.

    Ties keep the first position in row-major order, and a NaN wins and stays (PyTorch's
    rule `value > best or isnan(value)`), so indices match torch's max_pool2d.

    The windows inside the plane (see _swept) are pooled in two sweeps over the plane,
    first along rows, then along columns: across[q] = max over the column taps of the
    window starting at flat position q, then down[q] = max over the row taps of across.
    Taking a row's winner first and then the first row with the largest winner picks the
    same tap as row-major order, NaNs included. Each sweep runs over contiguous memory,
    which Numba vectorizes, and each such output is then one read of down. Windows
    that cross the border take the plain loop, one window at a time. The arrays are read
    flat with unsigned offsets, which spares Numba its negative-index test.
    """
    height, width = x.shape[1], x.shape[2]
    out_h, out_w = out.shape[1], out.shape[2]
    pixels, values, positions = x.ravel(), out.ravel(), index.ravel()
    col_taps, col_swept = _swept(col_start, col_count, col_step, width)
    row_taps, row_swept = _swept(row_start, row_count, row_step, height)
    across, across_at = numpy.empty(height * width, x.dtype), numpy.empty_like(flat_at)
    down, down_at = numpy.empty(height * width, x.dtype), numpy.empty_like(flat_at)
    for p in range(first, last):
        plane = p * height * width
        if row_taps > 0 and col_taps > 0:
            _sweep(pixels, flat_at, plane, col_taps, col_step, across, across_at)
            _sweep(across, across_at, 0, row_taps, row_step * width, down, down_at)
        for oh in range(out_h):
            i_low, i_high = _inside(row_start[oh], row_count[oh], row_step, height)
            row = (p * out_h + oh) * out_w
            for ow in range(out_w):
                o = uint64(row + ow)
                if row_swept[oh] and col_swept[ow]:
                    q = uint64(row_start[oh] * width + col_start[ow])
                    values[o] = down[q]
                    positions[o] = down_at[q]
                    continue
                j_low, j_high = _inside(col_start[ow], col_count[ow], col_step, width)
                best = pixels[uint64(plane)]
                best_at = -1
                for i in range(i_low, i_high):
                    h = row_start[oh] + i * row_step
                    for j in range(j_low, j_high):
                        at = h * width + col_start[ow] + j * col_step
                        value = pixels[uint64(plane + at)]
                        if best_at < 0 or value > best or value != value:
                            best = value
                            best_at = at
                values[o] = best
                positions[o] = best_at


@kernel
def _sweep(source, source_at, base, taps, step, best, best_at):
    """best[q] = max of source[base + q + t * step] over taps t, for every q whose taps lie
    in the plane, and best_at[q] = source_at[q + t * step] of that t (first t on ties, last
    NaN): where the winner came from.

    Written so that LLVM vectorizes it (6x faster): unsigned offsets (a signed one carries
    a select for negative indices), every load before the choice, and the choice of
    position as a bit mask (a select between two loaded values becomes a load from a
    selected address, which does not vectorize)."""
    span = uint64(len(best) - (taps - 1) * step)
    for q in range(span):
        best[q] = source[uint64(base) + q]
        best_at[q] = source_at[q]
    for t in range(1, taps):
        shift = uint64(t * step)
        for q in range(span):
            value, kept = source[uint64(base) + shift + q], best[q]
            value_at, kept_at = source_at[shift + q], best_at[q]
            take = (value > kept) | (value != value)
            best[q] = value if take else kept
            mask = -int64(take)
            best_at[q] = (value_at & mask) | (kept_at & ~mask)


@kernel
def _avg_pool(x, row_start, row_count, row_step, col_start, col_count, col_step, divisor,
              out, first, last):
    """out[p, oh, ow] = (sum of x[p, h, w] over the window's in-bounds taps) / divisor[oh, ow]."""
    for p in range(first, last):
        for oh in range(out.shape[1]):
            i_low, i_high = _inside(row_start[oh], row_count[oh], row_step, x.shape[1])
            for ow in range(out.shape[2]):
                j_low, j_high = _inside(col_start[ow], col_count[ow], col_step, x.shape[2])
                total = 0.0
                for i in range(i_low, i_high):
                    h = row_start[oh] + i * row_step
                    for j in range(j_low, j_high):
                        total += x[p, h, col_start[ow] + j * col_step]
                out[p, oh, ow] = total / divisor[oh, ow]


@kernel
def _avg_pool_backward(gy, row_start, row_count, row_step, col_start, col_count, col_step,
                       divisor, gx, first, last):
    """The adjoint of _avg_pool: gx[p, h, w] += gy[p, oh, ow] / divisor[oh, ow] for every
    window (oh, ow) that reads (h, w). gx must be zeroed by the caller."""
    for p in range(first, last):
        for oh in range(gy.shape[1]):
            i_low, i_high = _inside(row_start[oh], row_count[oh], row_step, gx.shape[1])
            for ow in range(gy.shape[2]):
                j_low, j_high = _inside(col_start[ow], col_count[ow], col_step, gx.shape[2])
                share = gy[p, oh, ow] / divisor[oh, ow]
                for i in range(i_low, i_high):
                    h = row_start[oh] + i * row_step
                    for j in range(j_low, j_high):
                        gx[p, h, col_start[ow] + j * col_step] += share


@kernel
def _scatter_add(values, index, out, first, last):
    """out[p, index[q, l]] += values[p, l], with q = p, or q = 0 when one index row is shared
    by all planes (padding, interpolation). out must be zeroed by the caller."""
    size, length = out.shape[1], values.shape[1]
    sums, addends, targets = out.ravel(), values.ravel(), index.ravel()
    shared = index.shape[0] == 1
    for p in range(first, last):
        q = 0 if shared else p
        for l in range(length):
            at = uint64(p * size) + uint64(targets[uint64(q * length + l)])
            sums[at] += addends[uint64(p * length + l)]


def _run(kernel, planes, work_per_plane, *args):
    min_chunk = max(1, _WORK_PER_CHUNK // max(1, work_per_plane))
    parallel_for(lambda first, last: kernel(*args, first, last), planes, min_chunk)


def _taps(rows, cols):
    return int(rows[1].max()) * int(cols[1].max())


def max_pool(x, rows, cols):
    """x (P, H, W); rows, cols = (start, count, step) -> (values, index), both (P, out_h, out_w)."""
    shape = (x.shape[0], len(rows[0]), len(cols[0]))
    out = numpy.empty(shape, x.dtype)
    index = numpy.empty(shape, numpy.int64)
    # The sweeps keep positions within a plane; int32 ones fill the same vector lanes as
    # float32 values.
    flat_at = numpy.arange(x.shape[1] * x.shape[2], dtype=numpy.int32 if x[0].size < 2**31
                           else numpy.int64)
    _run(_max_pool, x.shape[0], shape[1] * shape[2] * _taps(rows, cols),
         numpy.ascontiguousarray(x), *rows, *cols, flat_at, out, index)
    return out, index


def avg_pool(x, rows, cols, divisor):
    """x (P, H, W) -> (P, out_h, out_w); divisor (out_h, out_w) float64."""
    out = numpy.empty((x.shape[0], len(rows[0]), len(cols[0])), x.dtype)
    _run(_avg_pool, x.shape[0], out[0].size * _taps(rows, cols),
         numpy.ascontiguousarray(x), *rows, *cols, divisor, out)
    return out


def avg_pool_backward(gy, rows, cols, divisor, in_size):
    """gy (P, out_h, out_w) -> gx (P, H, W) with in_size = (H, W)."""
    gx = numpy.zeros((gy.shape[0], *in_size), gy.dtype)
    _run(_avg_pool_backward, gy.shape[0], gy[0].size * _taps(rows, cols),
         numpy.ascontiguousarray(gy), *rows, *cols, divisor, gx)
    return gx


def scatter_add(values, index, size):
    """values (P, L), index (P or 1, L) into [0, size) -> (P, size) sums."""
    out = numpy.zeros((values.shape[0], size), values.dtype)
    _run(_scatter_add, values.shape[0], values.shape[1], numpy.ascontiguousarray(values),
         numpy.ascontiguousarray(index), out)
    return out
