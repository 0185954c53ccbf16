"""The pooling kernels of pool_numba.py written with array operations only, so they run on
any array module (CuPy on the GPU). Same arguments, same results; the tests check one
against the other on NumPy.

Instead of looping over output pixels, they loop over the taps of the window: for tap
(i, j), every output pixel's input position is start + i * step along each axis, so one
fancy-indexing gather reads that tap for all outputs and planes at once.
"""
from ..backend import array_module


def _tap(xp, window, i, size):
    """Positions of tap i for every output along one axis (clamped) and whether they count."""
    start, count, step = window
    position = xp.asarray(start + i * step)
    valid = xp.asarray(i < count) & (position >= 0) & (position < size)
    return xp.clip(position, 0, size - 1), valid


def _taps(xp, rows, cols, height, width):
    """(flat input index h * W + w, valid) per output pixel, for every tap of the window."""
    for i in range(int(rows[1].max())):
        h, h_valid = _tap(xp, rows, i, height)
        for j in range(int(cols[1].max())):
            w, w_valid = _tap(xp, cols, j, width)
            yield h[:, None] * width + w[None, :], h_valid[:, None] & w_valid[None, :]


def max_pool(x, rows, cols):
    xp = array_module(x)
    planes, height, width = x.shape
    flat = x.reshape(planes, height * width)
    best = best_at = None
    for at, valid in _taps(xp, rows, cols, height, width):
        value = flat[:, at]
        if best is None:
            best, best_at = value, xp.broadcast_to(xp.where(valid, at, -1), value.shape)
            continue
        take = valid & ((best_at < 0) | (value > best) | xp.isnan(value))
        best, best_at = xp.where(take, value, best), xp.where(take, at, best_at)
    return best, best_at.astype(xp.int64)


def avg_pool(x, rows, cols, divisor):
    xp = array_module(x)
    planes, height, width = x.shape
    flat = x.reshape(planes, height * width)
    taps = _taps(xp, rows, cols, height, width)
    total = sum(xp.where(valid, flat[:, at], 0) for at, valid in taps)
    return (total / xp.asarray(divisor)).astype(x.dtype)


def avg_pool_backward(gy, rows, cols, divisor, in_size):
    xp = array_module(gy)
    share = (gy / xp.asarray(divisor)).astype(gy.dtype)
    planes = gy.shape[0]
    gx = xp.zeros((planes, in_size[0] * in_size[1]), gy.dtype)
    for at, valid in _taps(xp, rows, cols, *in_size):
        gx += scatter_add(xp.where(valid, share, 0).reshape(planes, -1), at.reshape(1, -1),
                          gx.shape[1])
    return gx.reshape(planes, *in_size)


def scatter_add(values, index, size):
    """out[p, index[q, l]] += values[p, l] via bincount, which sums repeated indices
    (a plain `out[p, index] += values` would keep only one of them)."""
    xp = array_module(values)
    planes = values.shape[0]
    flat = xp.arange(planes)[:, None] * size + index
    sums = xp.bincount(xp.broadcast_to(flat, values.shape).ravel(), weights=values.ravel(),
                       minlength=planes * size)
    return sums.astype(values.dtype).reshape(planes, size)
