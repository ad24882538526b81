"""The transforms of Winograd's F(2x2, 3x3) (:mod:`.conv_winograd`), as Numba loops over a block of tiles.

Each loop writes one contiguous row and reads a few contiguous windows, so LLVM vectorises it: with more
outputs per loop it could not rule out their aliasing and ran scalar (2.5x slower), and indexing the 3-D
buffers in the loop instead of taking 1-D views of them kept it scalar too.

References
----------
.. [1] Lavin, A. & Gray, S. (2016). Fast algorithms for convolutional neural networks. CVPR, 4013-4021.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["G", "G_PAIRS", "G_PAIRS_T", "combine_rows", "grad_tiles", "input_tiles", "output_tiles"]

# The transforms' matrices (Lavin & Gray's F(2x2, 3x3)), for the weights' transform and its transpose; the
# input's (Bᵀ) and output's (Aᵀ) are written out in the kernels, as adds and subtracts.
G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
G_PAIRS = np.kron(G, G)  # (16, 9): U[4a + b] = Σ G[a, i] G[b, j] w[3i + j]
G_PAIRS_T = np.ascontiguousarray(G_PAIRS.T)


def _input_table() -> np.ndarray:
    """For each ξ = 4r + s of Bᵀ d B, the four patch elements it combines as ``(a1 + cs a2) + rs (b1 + cs b2)``:
    rows (phase, rows of grid below, columns right) for a1, a2, b1, b2, then (cs, rs). Bᵀ's rows pick patch rows
    d0 - d2, d1 + d2, d2 - d1, d1 - d3; B's columns on a row q are q0 - q2, q1 + q2, q2 - q1, q1 - q3."""
    row_pairs = ((0, 2, -1), (1, 2, 1), (2, 1, -1), (1, 3, -1))
    col_pairs = ((0, 2, -1), (1, 2, 1), (2, 1, -1), (1, 3, -1))
    table = np.zeros((16, 14), np.int64)
    for r, (ra, rb, rs) in enumerate(row_pairs):
        for s, (ca, cb, cs) in enumerate(col_pairs):
            for i, (row, col) in enumerate(((ra, ca), (ra, cb), (rb, ca), (rb, cb))):
                # patch element (row, col): phase (row % 2, col % 2), row // 2 grid rows down, col // 2 columns right
                table[4 * r + s, 3 * i : 3 * i + 3] = (2 * (row % 2) + col % 2, row // 2, col // 2)
            table[4 * r + s, 12:] = (cs, rs)
    return table


_INPUT = _input_table()


@njit(cache=True, nogil=True)
def input_tiles(xc, j0, length, wq, v):
    """v[ξ, c, t] = (Bᵀ d B)[ξ] for the 4x4 patch d of grid tile j0 + t, with
    Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]] (:data:`_INPUT`: which patch elements).

    Patch element (r, s) is phase (r % 2, s % 2) at ``j0 + t + (r // 2) * wq + s // 2``; xc's phases are
    (even, even), (even, odd), (odd, even), (odd, odd). Each loop writes one row and reads four windows, so
    LLVM vectorises it (with more outputs per loop it could not rule out their aliasing and ran scalar).
    """
    table = _INPUT
    for e in range(16):
        f = table[e]
        p1, p2, p3, p4 = f[0], f[3], f[6], f[9]
        o1, o2 = j0 + f[1] * wq + f[2], j0 + f[4] * wq + f[5]
        o3, o4 = j0 + f[7] * wq + f[8], j0 + f[10] * wq + f[11]
        cs, rs = xc.dtype.type(f[12]), xc.dtype.type(f[13])
        for c in range(xc.shape[1]):
            a1, a2, b1, b2, out = xc[p1, c, o1:], xc[p2, c, o2:], xc[p3, c, o3:], xc[p4, c, o4:], v[e, c]
            for t in range(length):
                out[t] = (a1[t] + cs * a2[t]) + rs * (b1[t] + cs * b2[t])


@njit(cache=True, nogil=True)
def output_tiles(m, n0, nb, r0, r1, wq, pitch, bias, rows_ws, tiles_ws, out):
    """out[n0 + b, k, 2i + a, 2j + e] = (Aᵀ M A)[a, e] + bias[k] for the block's tiles with i < ty, j < tx
    (rows r0..r1 of the grid), Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]]; outputs past Ho, Wo are dropped.
    ``rows_ws`` (8, columns) and ``tiles_ws`` (4, columns) are workspaces for Aᵀ M and Aᵀ M A, each row
    a loop of three reads and one write (vectorised)."""
    _, n_k, ho, wo = out.shape
    length = nb * pitch if r1 * wq == pitch else (r1 - r0) * wq
    has_bias = bias.shape[0] > 0
    for k in range(n_k):
        for s in range(4):  # Aᵀ M: rows m0 + m1 + m2 and m1 - m2 - m3
            for t in range(length):
                rows_ws[s, t] = m[s, k, t] + (m[4 + s, k, t] + m[8 + s, k, t])
            for t in range(length):
                rows_ws[4 + s, t] = m[4 + s, k, t] - (m[8 + s, k, t] + m[12 + s, k, t])
        for a in range(2):  # (Aᵀ M) A: the same on each row's columns
            for t in range(length):
                tiles_ws[2 * a, t] = rows_ws[4 * a, t] + (rows_ws[4 * a + 1, t] + rows_ws[4 * a + 2, t])
            for t in range(length):
                tiles_ws[2 * a + 1, t] = rows_ws[4 * a + 1, t] - (rows_ws[4 * a + 2, t] + rows_ws[4 * a + 3, t])
        bk = bias[k] if has_bias else out.dtype.type(0)
        for b in range(nb):
            for i in range(r0, min(r1, (ho + 1) // 2)):
                base = b * pitch + (i - r0) * wq
                for a in range(min(2, ho - 2 * i)):
                    y = 2 * i + a
                    for j in range(wo // 2):
                        out[n0 + b, k, y, 2 * j] = tiles_ws[2 * a, base + j] + bk
                        out[n0 + b, k, y, 2 * j + 1] = tiles_ws[2 * a + 1, base + j] + bk
                    if wo % 2:
                        out[n0 + b, k, y, wo - 1] = tiles_ws[2 * a, base + wo // 2] + bk


_GRAD = np.array([[1, 0], [1, 1], [1, -1], [0, -1]], np.int64)  # A's rows


@njit(cache=True, nogil=True)
def grad_tiles(gc, j0, length, dm):
    """dm[4r + s, k, t] = (A dY Aᵀ)[r, s] for the 2x2 output gradient dY of grid tile j0 + t, read from its
    phases ``gc`` (zero past the output and on the grid's extra tiles); A's rows are (1, 0), (1, 1), (1, -1),
    (0, -1)."""
    a = _GRAD
    one = gc.dtype.type(1)
    for r in range(4):
        for s in range(4):
            cp, cq = one * (a[r, 0] * a[s, 0]), one * (a[r, 0] * a[s, 1])
            cr, cs = one * (a[r, 1] * a[s, 0]), one * (a[r, 1] * a[s, 1])
            e = 4 * r + s
            for k in range(gc.shape[1]):  # 1-D views: LLVM vectorises these loops, not ones indexing 3-D arrays
                g00, g01, g10, g11, out = gc[0, k, j0:], gc[1, k, j0:], gc[2, k, j0:], gc[3, k, j0:], dm[e, k]
                for t in range(length):
                    out[t] = (cp * g00[t] + cq * g01[t]) + (cr * g10[t] + cs * g11[t])


@njit(cache=True, nogil=True)
def combine_rows(table, src, out):
    """out[e] = Σ_i table[e, i] src[i], summed in float64 and rounded once (all filters at once: one product per
    filter, or numpy's matmul on a 9-deep product, ran 10x slower)."""
    acc = np.empty(src.shape[1], np.float64)
    for e in range(table.shape[0]):
        acc[:] = 0.0
        for i in range(table.shape[1]):
            coef = table[e, i]
            if coef != 0.0:
                for j in range(src.shape[1]):
                    acc[j] += coef * src[i, j]
        for j in range(src.shape[1]):
            out[e, j] = acc[j]
