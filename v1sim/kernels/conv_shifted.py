"""Convolutions without im2col: one shifted product per kernel tap, read straight from the padded input.

Pad the input channel-major, each channel one long row of images of ``P = Hq*Wq`` pixels::

    xc[c, n*P + y*Wq + x] = xpad[n, c, y, x]        (C, N*P + slack)

and index the outputs by the same "wide" position ``j = n*P + oy*Wq + ox``. Tap ``(u, v)`` of a
``kh x kw`` kernel then reads the input at ``j + u*Wq + v``, so the correlation is a sum of ``kh*kw``
matrix products over *windows of one buffer*, with no patch matrix. At stride 1 a row's padding on the
right is the next row's on the left (``Wq = W + px``, :func:`.shifted_grid.grid_extent`), and an image's rows of zeros
below are the next image's above::

    out[:, j0:j0+L] = sum over taps s of  W_s (K, C) @ xc[:, j0+off_s : j0+off_s+L]

A stride ``(sy, sx)`` splits the padded input into its ``sy*sx`` phases (rows ``a + sy*y'``, columns
``b + sx*x'``), each laid out as above on a grid of ``Hq x Wq`` (the output's size plus the taps'
reach): tap ``(u, v)`` reads phase ``(u % sy, v % sx)`` at offset ``(u // sy)*Wq + v // sx``, a
stride-1 window again (phases no tap reads are not built: a 1x1 projection at stride 2 keeps one).

Positions with ``ox >= Wo`` or ``oy >= Ho`` are computed and dropped (at most :data:`MAX_WASTE` times
the kept columns, :func:`eligible`). Backward runs the same windows: with the output gradient spread on
the wide grid (zeros at the dropped positions), ``dW_sᵀ = xc_window @ Gᵀ`` and, per phase,
``dxpad[:, i] = sum_s W_sᵀ @ G[:, i - off_s]`` over its taps, a gather, so each block writes only its
own columns.

Up to :data:`MAX_TILE_CHANNELS` channels each block is summed over all taps and channels at once in register
tiles (:mod:`.register_tiles`); wider layers multiply tap by tap from inside a Numba kernel calling BLAS's
``?gemm`` (:mod:`v1sim.kernels.blas`: accumulation with ``beta = 1``, windows passed by leading dimension,
no Python in the loop). The im2col path (:mod:`.conv_blocks`) instead copies each input pixel ``kh*kw`` times
and the col2im pass scatters it back. The grid's layout kernels live in :mod:`.shifted_grid`.

Threads: at most :data:`.conv_blocks.TASKS` groups of images (set
by the layer), run by one Numba ``prange`` over the groups (each calling BLAS on one thread: a parallel
region costs less than handing the groups to a Python thread pool, 2.4 against 3.3 ms for a ResNet-20
stage-1 layer's forward pass), each summing its own weight gradient, the sums added in a fixed order.

Used by :mod:`.conv_blocks` for ungrouped layers with enough channels (:func:`eligible`).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from ..backend import blas_threads
from .blas import gemm, routines
from .cpu.common import by_device
from .register_tiles import LANES_BYTES, correlate_block, gradient_block, whole_rows
from .shifted_grid import (
    backward_tiles,
    forward_tiles,
    grid_extent,
    group_edges,
    pad_phases,
    pixel_major,
    span,
    spread_grad,
    tile_overrun,
    tile_runs,
)

__all__ = [
    "MAX_TILE_CHANNELS",
    "MAX_WASTE",
    "MAX_WASTE_LARGE",
    "MIN_CHANNELS",
    "MIN_PATCH",
    "Shifted",
    "backward",
    "eligible",
    "fits_blas",
    "forward",
    "plan",
    "warmup",
]

#: Input channels below which the taps' products are too thin for BLAS (LeNet-5's first layer, 1 channel: im2col
#: wins) ...
MIN_CHANNELS = 4

#: ... and the least patch (channels x taps): 4 channels of a 3x3 kernel ran slower than im2col, of a 5x5 faster.
MIN_PATCH = 64

#: At most this many columns computed per output kept, for kernels up to 3x3: ResNet's 8x8 maps (100 wide
#: positions for 64: 1.56) run 2x faster than im2col at 64 channels; 7x7 maps with 128 channels (1.65) ran slower.
MAX_WASTE = 1.6

#: The same for larger kernels, whose im2col copies each pixel more often: LeNet-5's C3 (6 channels, 5x5, 14x14 ->
#: 10x10: 1.96) runs 1.3-1.5x faster shifted; 2.25 ran even.
MAX_WASTE_LARGE = 2.0

#: Bytes of one block's input window and product (with BLAS's packing, about a 1 MiB L2 cache).
BLOCK_BYTES = 1 << 19

#: At least this many columns per block (narrow products run below BLAS's speed).
MIN_COLUMNS = 384

#: Register tiles (:mod:`.register_tiles`) instead of BLAS's products up to this many input and output channels.
#: Forward + backward, float32, 2 threads: ResNet-20's layers 7.0-7.4 -> 4.6-5.2 ms, 64 channels on 56x56
#: 27.5 -> 23.2 ms; 128 channels on 28x28 24.8 -> 26.0 ms, 256 on 14x14 33 -> 39 ms (BLAS's packed products
#: reuse the weights better).
MAX_TILE_CHANNELS = 64


@dataclass(frozen=True, slots=True)
class Shifted:
    """Geometry of a convolution on the phases' wide grid, and its blocks of columns."""

    n: int
    c: int
    k: int
    kh: int
    kw: int
    h: int
    w: int
    py: int
    px: int
    sy: int
    sx: int
    whole: bool  # blocks of `images` whole images, or ...
    images: int
    rows: int  # ... of this many grid rows of one image
    tasks: int
    tiles: bool = True  # register tiles (:mod:`.register_tiles`) instead of BLAS's products

    @property
    def ho(self) -> int:
        return (self.h + 2 * self.py - self.kh) // self.sy + 1

    @property
    def wo(self) -> int:
        return (self.w + 2 * self.px - self.kw) // self.sx + 1

    @property
    def hq(self) -> int:  # rows of an image on a phase's grid, and ...
        return grid_extent(self.h, self.ho, self.kh, self.py, self.sy)

    @property
    def wq(self) -> int:  # ... columns of a row (:func:`.shifted_grid.grid_extent`)
        return grid_extent(self.w, self.wo, self.kw, self.px, self.sx)

    @property
    def slack(self) -> int:  # the largest tap offset: zeros after the last image (forward), before the first
        return ((self.kh - 1) // self.sy) * self.wq + (self.kw - 1) // self.sx

    @property
    def columns(self) -> int:  # of the largest block
        return self.images * self.hq * self.wq if self.whole else self.rows * self.wq

    def taps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each tap's (u, v) order: its offset on the grid and its phase (an index into the built phases),
        and the built phases' (row, column) parities."""
        used = sorted({(u % self.sy, v % self.sx) for u in range(self.kh) for v in range(self.kw)})
        offsets, phase = [], []
        for u in range(self.kh):
            for v in range(self.kw):
                offsets.append((u // self.sy) * self.wq + v // self.sx)
                phase.append(used.index((u % self.sy, v % self.sx)))
        return np.array(offsets, np.int64), np.array(phase, np.int64), np.array(used, np.int64).reshape(-1, 2)


def _waste_limit(kh, kw) -> float:
    return MAX_WASTE if kh * kw <= 9 else MAX_WASTE_LARGE


def eligible(x_shape, w_shape, stride, groups, ho, wo) -> bool:
    """Whether the shifted products suit this convolution: one group, at least :data:`MIN_CHANNELS` input
    channels and :data:`MIN_PATCH` weights per filter, and at most :data:`MAX_WASTE` (:data:`MAX_WASTE_LARGE`
    above 3x3) times the output's columns computed on the grid (blocks of whole images count the rows between
    images too)."""
    c, (kh, kw) = x_shape[1], w_shape[2:]
    if groups != 1 or c < MIN_CHANNELS or c * kh * kw < MIN_PATCH or ho < 1 or wo < 1:
        return False
    hq, wq, limit = ho + (kh - 1) // stride[0], wo + (kw - 1) // stride[1], _waste_limit(kh, kw)
    return hq * wq <= limit * ho * wo or (wq <= limit * wo and wq * ho >= 2 * MIN_COLUMNS)


def fits_blas(p: Shifted) -> bool:
    """Whether BLAS's integers hold the buffers' leading dimension: always for an ILP64 BLAS (numpy's own), below
    2^31 columns for scipy's LP64 one (a batch of 50,000 224x224 images would not fit)."""
    return routines().int_type == np.int64 or p.n * p.hq * p.wq + p.slack < 2**31


def plan(x_shape, w_shape, stride, padding, tasks, itemsize) -> Shifted:
    """Blocks of about :data:`BLOCK_BYTES` of input window and product: whole images when the rows between
    them cost at most the waste limit and one fits, else rows of one image; register tiles up to
    :data:`MAX_TILE_CHANNELS` channels."""
    n, c, h, w = x_shape
    k, _, kh, kw = w_shape
    shape = (n, c, k, kh, kw, h, w, *padding, *stride)
    tiles = max(c, k) <= MAX_TILE_CHANNELS
    p = Shifted(*shape, True, 1, 1, tasks, tiles)
    columns = max(MIN_COLUMNS, BLOCK_BYTES // ((c + k) * itemsize))
    grid = p.hq * p.wq
    if grid <= _waste_limit(kh, kw) * p.ho * p.wo and grid <= columns:
        return Shifted(*shape, True, max(1, min(columns // grid, -(-n // tasks))), p.hq, tasks, tiles)
    return Shifted(*shape, False, 1, max(1, min(p.hq, columns // p.wq)), tasks, tiles)


# --------------------------------------------------------------------------
# kernels: one call per task (a group of images), blocks and taps inside
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _forward_task(fn, ints, xc, operands, bias, lo, hi, whole, images, rows, hq, wq, res, out):
    """out[lo:hi]: per block, the taps' products into ``res`` (K, columns), then its kept columns (+ bias).

    ``operands`` are W by tap (taps, K, C), the taps' offsets and phases, then
    :func:`.shifted_grid.forward_tiles`'s: if its arrays are not empty, the products run as register tiles
    instead of BLAS (``res`` with K rounded up to whole tiles and a tile's more columns)."""
    ws, offs, phase, xoffs, wt, wblock, woffs = operands
    _, n_k, ho, wo = out.shape
    pitch, lanes = hq * wq, LANES_BYTES // xc.itemsize
    has_bias = bias.shape[0] > 0
    flat_x, ldx, n_c = xc.reshape(xc.size), xc.shape[2], xc.shape[1]
    for n0 in range(lo, hi, images):
        nb = min(images, hi - n0)
        for r0 in range(0, 1 if whole else ho, rows):
            j0, length, r1 = span(n0, nb, r0, rows, ho, whole, pitch, wq)
            r0 = 0 if whole else r0
            block = res[:, :length]
            if xoffs.shape[0] > 0:  # register tiles: every tap and channel summed in registers, over each
                runs, step, count = tile_runs(nb if whole else 1, pitch, ho * wq if whole else length, lanes)
                for b in range(runs):  # image's output rows or across the rows between them (tile_runs)
                    correlate_block(flat_x, j0 + b * step, xoffs, ldx, (wt, wblock, woffs), n_c, res, b * step, count)
            else:
                for s in range(offs.shape[0]):
                    a = j0 + offs[s]
                    src = xc[phase[s], :, a : a + length]
                    gemm(fn, ints, False, False, 1.0, ws[s], src, 0.0 if s == 0 else 1.0, block)
            for b in range(nb):
                for k in range(n_k):
                    bk = bias[k] if has_bias else block.dtype.type(0)
                    for oy in range(r0, min(r1, ho)):
                        src = block[k, b * pitch + (oy - r0) * wq :]
                        dst = out[n0 + b, k, oy]
                        for ox in range(wo):
                            dst[ox] = src[ox] + bk


@njit(cache=True, nogil=True)
def _backward_task(fn, ints, xc, g, gc, operands, parity, geometry, dwt, gt, res, dx):
    """Images lo..hi-1 (their gradient spread on the grid, ``gc``): their weight gradient, transposed, summed
    into ``dwt`` (S, C, K) (zeroed by the caller) and, if ``dx`` has images, their input gradient (dx zeroed by
    the caller when some pixels are read by no tap). ``gt`` is a (columns, K) workspace; ``geometry`` is (lo,
    hi, whole, images, rows, hq, wq, py, px, sy, sx, slack). ``operands`` are W by tap, the taps' offsets and phases,
    then :func:`.shifted_grid.backward_tiles`'s: if its arrays are not empty, the input gradient's products
    (and the weight gradient's, if it has their offsets) run as register tiles."""
    ws, offs, phase, wx, wblock, dx_xoffs, dx_woffs, counts, dw_xoffs = operands
    on_tiles, flat_g, flat_x, flat_dw = wx.shape[0] > 0, gc.reshape(gc.size), xc.reshape(xc.size), dwt.reshape(dwt.size)
    (n_k, ldg), n_c = gc.shape, xc.shape[1]
    lo, hi, whole, images, rows, hq, wq, py, px, sy, sx, slack = geometry
    ho, pitch, n_taps, lanes = g.shape[2], hq * wq, offs.shape[0], LANES_BYTES // xc.itemsize
    for n0 in range(lo, hi, images):
        nb = min(images, hi - n0)
        for r0 in range(0, 1 if whole else ho, rows):  # dW over the output rows (gc is 0 at dropped columns)
            j0, length, _ = span(n0, nb, r0, rows, ho, whole, pitch, wq)
            if dw_xoffs.shape[0] > 0:  # register tiles over each image's output rows
                for b in range(nb if whole else 1):
                    first, count = j0 + b * pitch, ho * wq if whole else length
                    pixel_major(gc, slack + first, count, gt)
                    gradient_block(flat_x, first, dw_xoffs, xc.shape[2], n_c, gt[:count], count, flat_dw)
                continue
            # dW_sᵀ = X_window @ Gᵀ with Gᵀ pixel-major: BLAS runs this orientation 10-40% faster than
            # G @ X_windowᵀ (16-64 channels, 800-3500 columns, one core)
            pixel_major(gc, slack + j0, length, gt)
            gtb = gt[:length]
            for s in range(n_taps):
                a = j0 + offs[s]
                gemm(fn, ints, False, False, 1.0, xc[phase[s], :, a : a + length], gtb, 1.0, dwt[s])
        if dx.shape[0] == 0:
            continue
        h, w = dx.shape[2], dx.shape[3]
        for r0 in range(0, 1 if whole else hq, rows):  # dx: each phase gathers its taps' gradient, i - off_s
            i0, length, r1 = span(n0, nb, r0, rows, hq, whole, pitch, wq)
            r0 = 0 if whole else r0
            block = res[:, :length]
            for f in range(parity.shape[0]):
                pa, pb = parity[f, 0], parity[f, 1]
                if on_tiles:  # each image's grid rows that hold input pixels (y in 0..h-1), or the block's
                    m, y0, y1 = counts[f], max(0, -((pa - py) // sy)), min(hq, (h - 1 + py - pa) // sy + 1)
                    top, rows_in = (y0 * wq, max(0, y1 - y0) * wq) if whole else (0, length)
                    runs, step, count = tile_runs(nb if whole else 1, pitch, rows_in, lanes)
                    tap_w = (wx, wblock, dx_woffs[f, :m])
                    for b in range(runs):
                        first = top + b * step
                        correlate_block(flat_g, i0 + first, dx_xoffs[f, :m], ldg, tap_w, n_k, res, first, count)
                else:
                    beta = 0.0  # the phase's first tap writes the block, the others add to it
                    for s in range(n_taps):
                        if phase[s] == f:
                            a = slack + i0 - offs[s]
                            gemm(fn, ints, True, False, 1.0, ws[s], gc[:, a : a + length], beta, block)
                            beta = 1.0
                for b in range(nb):
                    for c in range(dx.shape[1]):
                        for yq in range(r0, r1):
                            y = pa + sy * yq - py
                            if y < 0 or y >= h:
                                continue
                            src, dst = block[c, b * pitch + (yq - r0) * wq :], dx[n0 + b, c, y]
                            for xq in range(wq):
                                xx = pb + sx * xq - px
                                if 0 <= xx < w:
                                    dst[xx] = src[xq]


# --------------------------------------------------------------------------
# all groups of images in one call: a prange over the groups (device "parallel") or a loop ("cpu")
# --------------------------------------------------------------------------


def _forward_all(fn, ints, x, xc, operands, parity, bias, edges, geometry, res, out):
    """Lay out every group's images, then run every group's blocks (two parallel regions, no Python between)."""
    py, px, sy, sx, whole, images, rows, hq, wq, _ = geometry
    for t in prange(edges.shape[0] - 1):
        pad_phases(x, edges[t], edges[t + 1], py, px, sy, sx, hq, wq, parity, xc)
    for t in prange(edges.shape[0] - 1):  # all images laid out first: windows of dropped columns reach the next
        _forward_task(fn, ints[t], xc, operands, bias, edges[t], edges[t + 1], whole, images, rows, hq, wq, res[t], out)


def _backward_all(fn, ints, xc, g, gc, operands, parity, edges, geometry, dwt, gt, res, dx):
    """Spread every group's output gradient, then each group's weight gradient into ``dwt[t]`` and, if ``dx`` has
    images, their input gradient (two parallel regions: the gathers read the rows of zeros before each image,
    which the group before writes)."""
    py, px, sy, sx, whole, images, rows, hq, wq, slack = geometry
    for t in prange(edges.shape[0] - 1):
        spread_grad(g, edges[t], edges[t + 1], slack, wq, hq * wq, gc)
    for t in prange(edges.shape[0] - 1):
        group = (edges[t], edges[t + 1], whole, images, rows, hq, wq, py, px, sy, sx, slack)
        _backward_task(fn, ints[t], xc, g, gc, operands, parity, group, dwt[t], gt[t], res[t], dx)


_FORWARD_ALL, _BACKWARD_ALL = by_device(_forward_all), by_device(_backward_all)


# --------------------------------------------------------------------------
# drivers
# --------------------------------------------------------------------------


def _weights_by_tap(w, p: Shifted) -> np.ndarray:  # (taps, K, C), tap (u, v) in row-major order
    return np.ascontiguousarray(w.transpose(2, 3, 0, 1).reshape(p.kh * p.kw, p.k, p.c))


@functools.lru_cache(maxsize=256)
def _fixed(p: Shifted) -> tuple:
    """A plan's taps (offsets, phases, parities), groups' edges, kernels' geometry and grid columns, computed once
    per layer shape (arrays shared by every call: read only)."""
    geometry = (p.py, p.px, p.sy, p.sx, p.whole, p.images, p.rows, p.hq, p.wq, p.slack)
    return (*p.taps(), group_edges(p.n, p.tasks), geometry, p.n * p.hq * p.wq)


def forward(x, w, bias, p: Shifted, device, out=None) -> tuple[np.ndarray, np.ndarray]:
    """``(out (N, K, Ho, Wo), xc)``: the correlation plus bias, and the channel-major phases of the padded
    input that :func:`backward` reads. ``device`` is "cpu" or "parallel" (:mod:`.conv_blocks` resolves it): the
    groups of images run on Numba's threads for "parallel", each calling BLAS on one thread; ``out``, if given,
    is written in place (C-contiguous, x's dtype)."""
    dtype = x.dtype
    blas = routines()
    offs, phase, parity, edges, geometry, size = _fixed(p)
    x = np.ascontiguousarray(x)
    lanes = tile_overrun(p.tiles, dtype)
    xc = np.empty((parity.shape[0], p.c, size + p.slack + lanes), dtype)
    xc[:, :, size:] = 0
    out = np.empty((p.n, p.k, p.ho, p.wo), dtype) if out is None else out
    b = np.empty(0, dtype) if bias is None else bias
    ws = _weights_by_tap(w, p)
    tile_ops = forward_tiles(ws, xc, offs, phase, p.tiles)
    res = np.empty((p.tasks, whole_rows(p.k) if p.tiles else p.k, p.columns + lanes), dtype)
    ints = blas.scratch(p.tasks)
    args = (x, xc, (ws, offs, phase, *tile_ops), parity, b, edges, geometry, res, out)
    with blas_threads(1):
        _FORWARD_ALL[device](blas.for_dtype(dtype), ints, *args)
    return out, xc


def backward(grad, xc, w, p: Shifted, input_grad, device):
    """``(dx or None, dw)`` of :func:`forward` for ``grad (N, K, Ho, Wo)``; group sums added in a fixed order."""
    dtype = xc.dtype
    blas = routines()
    offs, phase, parity, edges, geometry, size = _fixed(p)
    g = np.ascontiguousarray(grad, dtype)
    lanes = tile_overrun(p.tiles, dtype)
    gc = np.empty((p.k, p.slack + size + lanes), dtype)  # spread_grad writes the images' columns
    gc[:, : p.slack], gc[:, p.slack + size :] = 0, 0
    covered = p.sy == p.sx == 1  # at stride 1 every input pixel is some tap's; else zero the rest first
    shape = (p.n, p.c, p.h, p.w) if input_grad else (0, p.c, p.h, p.w)
    dx = np.empty(shape, dtype) if covered else np.zeros(shape, dtype)
    dwt = np.zeros((p.tasks, p.kh * p.kw, p.c, p.k), dtype)
    ws = _weights_by_tap(w, p)
    gt = np.empty((p.tasks, p.columns, p.k), dtype)
    rows = whole_rows(p.c) if p.tiles else p.c
    res = np.empty((p.tasks, rows, p.columns + lanes) if input_grad else (p.tasks, 0, 0), dtype)
    tile_ops = backward_tiles(ws, xc, offs, phase, parity.shape[0], p.slack, p.tiles)
    ints = blas.scratch(p.tasks)
    args = (xc, g, gc, (ws, offs, phase, *tile_ops), parity, edges, geometry, dwt, gt, res, dx)
    with blas_threads(1):
        _BACKWARD_ALL[device](blas.for_dtype(dtype), ints, *args)
    total = dwt[0]
    for more in dwt[1:]:  # a fixed order: the same sum on any number of threads
        total += more
    dw = np.ascontiguousarray(total.reshape(p.kh, p.kw, p.c, p.k).transpose(3, 2, 0, 1))
    return (dx if input_grad else None), dw


def warmup(dtype) -> None:
    """Compile (or load from Numba's cache) this module's kernels for ``dtype``: a tiny forward and backward, on
    both devices, on register tiles (16 channels: the weight gradient's tiles too) and on BLAS's products."""
    x, w = np.ones((1, 16, 3, 3), dtype), np.ones((16, 16, 3, 3), dtype)
    p = plan(x.shape, w.shape, (1, 1), (1, 1), 1, x.itemsize)
    for tiles in (True, False):
        for device in ("cpu", "parallel"):
            out, xc = forward(x, w, None, dataclasses.replace(p, tiles=tiles), device)
            backward(np.ones_like(out), xc, w, dataclasses.replace(p, tiles=tiles), True, device)
