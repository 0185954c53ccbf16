"""Sums of products of long rows: out[g] += sum over b of a[b, g] @ c[b, g]^T, as a Numba kernel.

A convolution's weight gradient is such a product: gw[o, p] = sum over the pixels l of
gy[o, l] * cols[p, l], with few rows (out channels o, window entries p) and long rows
(out_h * out_w pixels). It is a GEMM of the shape BLAS is slowest at: its kernels are built
to reuse each loaded number across a wide output, and here the output is only a few dozen
by a few dozen: on rows of a thousand pixels this kernel runs nearly twice as fast as
NumPy's matmul. Its plain twin is numpy.einsum("bgil,bgjl->gij", a, c), which the tests use.

The kernel computes a 4 x 4 tile of outputs at a time, in 16 scalar accumulators that LLVM
keeps in vector registers: each step along the rows loads 4 numbers of a and 4 of c and does
16 multiply-adds with them, where one dot product at a time would load 2 numbers for every
multiply-add. The tiles that would run past the last row start 4 rows before the end
instead, overlapping the tile before, and add only the rows that tile did not.
fastmath's `reassoc` lets LLVM split each sum along the row into vector lanes; the result is
the same from call to call, but rounds differently from a sum taken in order.
"""
import numpy

from .jit import kernel

_TILE = 4
_FASTMATH = {"reassoc", "contract", "nsz"}


@kernel(fastmath=_FASTMATH)
def add_row_products(a, c, out):
    """out[g, i, j] += sum over b and l of a[b, g, i, l] * c[b, g, j, l].

    a (B, G, I, L), c (B, G, J, L), out (G, I, J).
    """
    count, groups, rows_a, length = a.shape
    rows_c = c.shape[2]
    if rows_a < _TILE or rows_c < _TILE:   # too few rows for one tile
        for b in range(count):
            for g in range(groups):
                for i in range(rows_a):
                    for j in range(rows_c):
                        out[g, i, j] += _dot(a[b, g, i], c[b, g, j])
        return
    tile = numpy.empty((_TILE, _TILE), out.dtype)
    for b in range(count):
        for g in range(groups):
            for next_i in range(0, rows_a, _TILE):
                i0 = min(next_i, rows_a - _TILE)
                for next_j in range(0, rows_c, _TILE):
                    j0 = min(next_j, rows_c - _TILE)
                    _tile_products(a[b, g], c[b, g], i0, j0, tile)
                    for i in range(_TILE):
                        for j in range(_TILE):
                            if i0 + i >= next_i and j0 + j >= next_j:   # not added by the tile before
                                out[g, i0 + i, j0 + j] += tile[i, j]


@kernel(fastmath=_FASTMATH)
def _dot(u, v):
    total = u.dtype.type(0)
    for l in range(u.shape[0]):
        total += u[l] * v[l]
    return total


@kernel(fastmath=_FASTMATH)
def _tile_products(a, c, i0, j0, tile):
    """tile[i, j] = a[i0 + i] . c[j0 + j] for i, j < 4 (a (I, L), c (J, L))."""
    t00 = t01 = t02 = t03 = t10 = t11 = t12 = t13 = a.dtype.type(0)
    t20 = t21 = t22 = t23 = t30 = t31 = t32 = t33 = a.dtype.type(0)
    for l in range(a.shape[1]):
        a0, a1, a2, a3 = a[i0, l], a[i0 + 1, l], a[i0 + 2, l], a[i0 + 3, l]
        c0, c1, c2, c3 = c[j0, l], c[j0 + 1, l], c[j0 + 2, l], c[j0 + 3, l]
        t00 += a0 * c0; t01 += a0 * c1; t02 += a0 * c2; t03 += a0 * c3
        t10 += a1 * c0; t11 += a1 * c1; t12 += a1 * c2; t13 += a1 * c3
        t20 += a2 * c0; t21 += a2 * c1; t22 += a2 * c2; t23 += a2 * c3
        t30 += a3 * c0; t31 += a3 * c1; t32 += a3 * c2; t33 += a3 * c3
    tile[0, 0], tile[0, 1], tile[0, 2], tile[0, 3] = t00, t01, t02, t03
    tile[1, 0], tile[1, 1], tile[1, 2], tile[1, 3] = t10, t11, t12, t13
    tile[2, 0], tile[2, 1], tile[2, 2], tile[2, 3] = t20, t21, t22, t23
    tile[3, 0], tile[3, 1], tile[3, 2], tile[3, 3] = t30, t31, t32, t33
