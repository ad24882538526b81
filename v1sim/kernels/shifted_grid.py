"""The wide grid of :mod:`.conv_shifted`: the padded input laid out channel-major, the output gradient spread on
the grid, the groups of images, and the register tiles' operands (:mod:`.register_tiles`).

Also used by :mod:`.conv_winograd`, whose four phases of the padded input are this layout at stride 2.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .register_tiles import LANES_BYTES, ROWS, gradient_eligible, pack_rows

__all__ = [
    "backward_tiles",
    "forward_tiles",
    "grid_extent",
    "group_edges",
    "pad_phases",
    "pixel_major",
    "span",
    "spread_grad",
    "tap_offsets",
    "tile_overrun",
    "tile_runs",
]


def grid_extent(size, out, kernel, pad, stride) -> int:
    """Rows of an image (or columns of a row) on the grid, for an input ``size`` and output ``out`` long.

    At stride 1 the zeros after one row are the zeros before the next (and the rows after one image the rows
    before the next): ``pad`` zeros then the ``size`` values, ``size + pad`` in all (34 -> 33 columns of a 32-wide
    3x3 layer's, 10 -> 9 of an 8-wide one's). A tap reaching past the row's end lands in the next row's leading
    zeros, as it would in its own padding: the output's last column reads up to ``out - 1 + kernel - 1 = size +
    2*pad - 1``, which is below ``size + pad`` plus the next row's ``pad``. Never fewer than the ``out`` positions
    computed. A phase's grid at a stride keeps the output and the taps' reach: ``out + (kernel - 1) // stride``."""
    if stride == 1:
        return max(out, size + pad)
    return out + (kernel - 1) // stride


@njit(cache=True, nogil=True)
def pad_phases(x, lo, hi, py, px, sy, sx, hq, wq, parity, xc):
    """xc[f, c, n*Pq + y'*Wq + x'] = xpad[n, c, a + sy*y', b + sx*x'] for images lo..hi-1 and the built phases
    f with parities (a, b); zeros in the padding and past the padded input."""
    _, n_ch, h, w = x.shape
    pitch = hq * wq
    zero = xc.dtype.type(0)
    for f in range(parity.shape[0]):
        a, b = parity[f, 0], parity[f, 1]
        for c in range(n_ch):
            dst = xc[f, c]
            for n in range(lo, hi):
                for yq in range(hq):
                    row = dst[n * pitch + yq * wq : n * pitch + (yq + 1) * wq]
                    y = a + sy * yq - py
                    if y < 0 or y >= h:
                        row[:] = zero
                        continue
                    src = x[n, c, y]
                    for xq in range(wq):
                        xx = b + sx * xq - px
                        row[xq] = src[xx] if 0 <= xx < w else zero


@njit(cache=True, nogil=True)
def span(n0, nb, r0, rows, last_row, whole, pitch, wq):
    """(first column, columns, grid rows r0..r1 covered) of a block: nb whole images from image n0, or rows
    r0.. of image n0 (at most ``rows``, none past ``last_row``)."""
    if whole:
        return n0 * pitch, nb * pitch, pitch // wq
    r1 = min(r0 + rows, last_row)
    return n0 * pitch + r0 * wq, (r1 - r0) * wq, r1


@njit(cache=True, nogil=True)
def spread_grad(g, lo, hi, slack, wq, pitch, gc):
    """gc[k, slack + n*Pq + oy*Wq + ox] = g[n, k, oy, ox] for images lo..hi-1, zeros at their other columns (the
    dropped ones and the rows below the output): each group of images writes its own, so the caller zeroes
    only the slack before the first image and the columns after the last."""
    _, n_k, ho, wo = g.shape
    zero = gc.dtype.type(0)
    for k in range(n_k):
        for n in range(lo, hi):
            image = gc[k, slack + n * pitch : slack + (n + 1) * pitch]
            for oy in range(ho):
                src = g[n, k, oy]
                for ox in range(wo):
                    image[oy * wq + ox] = src[ox]
                for ox in range(oy * wq + wo, (oy + 1) * wq):
                    image[ox] = zero
            for j in range(ho * wq, pitch):
                image[j] = zero


@njit(cache=True, nogil=True)
def tile_runs(nb, pitch, count, lanes):
    """``(runs, step, columns)`` of a block's register tiles over ``count`` columns of each of ``nb`` images
    ``pitch`` apart: a run per image (skipping the rows between them), or one run across them when that takes
    fewer tiles of ``lanes`` columns (a run's last tile is whole: 8x8 maps, 72 columns an image on a 9-wide
    grid, take 3 tiles of 32 each alone and 2.5 joined)."""
    alone = nb * ((count + lanes - 1) // lanes)
    joined = (nb - 1) * pitch + count
    if (joined + lanes - 1) // lanes < alone:
        return 1, pitch, joined
    return nb, pitch, count


@njit(cache=True, nogil=True)
def pixel_major(gc, start, count, gt):
    """gt[j, k] = gc[k, start + j] for j < count: a block of the spread gradient, pixel-major."""
    for j in range(count):
        for k in range(gc.shape[0]):
            gt[j, k] = gc[k, start + j]


def group_edges(n, tasks) -> np.ndarray:
    """Bounds of ``tasks`` groups of ``n`` images (set by the layer, never by the threads), int64."""
    return np.linspace(0, n, tasks + 1).astype(np.int64)


def tile_overrun(tiles, dtype) -> int:
    """Columns a tile may read and write past a block (0 for BLAS's products): the buffers' extra zeros."""
    return LANES_BYTES // np.dtype(dtype).itemsize if tiles else 0


def tap_offsets(xc, offs, phase) -> np.ndarray:
    """Each tap's window in the phases ``xc`` (F, C, columns) flattened: phase ``phase[s]``, shift ``offs[s]``."""
    return phase * xc.shape[1] * xc.shape[2] + offs


def forward_tiles(ws, xc, offs, phase, tiles) -> tuple:
    """The forward pass's tile operands for weights ``ws`` (taps, K, C) and the phases ``xc`` (F, C, columns):
    each tap's offset into the flattened ``xc`` (:func:`tap_offsets`), W packed by groups of filters, the values
    a group, each tap's offset into a group; empty arrays if not ``tiles``."""
    if not tiles:
        return np.empty(0, np.int64), np.empty(0, ws.dtype), 0, np.empty(0, np.int64)
    taps, k, c = ws.shape
    wt, wblock = pack_rows(ws.transpose(1, 0, 2).reshape(k, -1))
    return tap_offsets(xc, offs, phase), wt, wblock, np.arange(taps) * c * ROWS


def backward_tiles(ws, xc, offs, phase, n_phases, slack, tiles) -> tuple:
    """The input gradient's tile operands: Wᵀ packed by groups of input channels, the values a group, each
    phase's taps' offsets into the spread gradient (``slack - offs[s]``: a gather) and into Wᵀ, padded to the
    most taps of a phase, and their counts; then the weight gradient's offsets into the flattened ``xc`` if its
    shape suits :func:`.register_tiles.gradient_block` (else empty: BLAS's products). All empty if not
    ``tiles``."""
    none = np.empty(0, np.int64)
    if not tiles:
        return np.empty(0, ws.dtype), 0, np.empty((0, 0), np.int64), np.empty((0, 0), np.int64), none, none
    taps, k, c = ws.shape
    wx, wblock = pack_rows(ws.transpose(2, 0, 1).reshape(c, -1))
    counts = np.bincount(phase, minlength=n_phases)
    dx_xoffs = np.zeros((n_phases, counts.max()), np.int64)
    dx_woffs = np.zeros_like(dx_xoffs)
    for f in range(n_phases):
        mine = np.flatnonzero(phase == f)
        dx_xoffs[f, : mine.size], dx_woffs[f, : mine.size] = slack - offs[mine], mine * k * ROWS
    dw_xoffs = tap_offsets(xc, offs, phase) if gradient_eligible(c, k, xc.itemsize) else none
    return wx, wblock, dx_xoffs, dx_woffs, counts, dw_xoffs
