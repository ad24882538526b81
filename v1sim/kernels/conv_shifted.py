"""Stride-1 convolutions without im2col: one shifted product per kernel tap, read straight from the padded input.

Pad the input channel-major, each channel one long row of images of ``P = Hp*Wp`` pixels::

    xc[c, n*P + y*Wp + x] = xpad[n, c, y, x]        (C, N*P + slack)

and index the outputs by the same "wide" position ``j = n*P + oy*Wp + ox``. Tap ``(u, v)`` of a
``kh x kw`` kernel then reads the input at ``j + u*Wp + v``, so the correlation is a sum of ``kh*kw``
matrix products over *windows of one buffer*, with no patch matrix::

    out[:, j0:j0+L] = sum over taps s of  W_s (K, C) @ xc[:, j0+off_s : j0+off_s+L]

Positions with ``ox >= Wo`` or ``oy >= Ho`` are computed and dropped (a ``Wp/Wo`` or ``P/(Ho*Wo)``
share of extra columns, which :func:`plan` bounds). Backward runs the same windows: with the output
gradient spread on the wide grid (zeros at the dropped positions), ``dW_sᵀ = xc_window @ Gᵀ`` and
``dxpad[:, i] = sum_s W_sᵀ @ G[:, i - off_s]``, a gather, so each block writes only its own columns.

Each block of columns is multiplied tap by tap from inside a Numba kernel calling BLAS's ``?gemm``
(:mod:`v1sim.kernels.blas`: accumulation with ``beta = 1``, windows passed by leading dimension,
no Python in the loop); the im2col path (:mod:`.conv_blocks`) copies each input pixel ``kh*kw`` times
and the col2im pass scatters it back. Threads as in :mod:`.conv_blocks`: at most ``TASKS`` groups of
images, each summing its own weight gradient, added in a fixed order.

Used by :mod:`.conv_blocks` for stride-1, ungrouped layers with enough channels (:func:`eligible`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .blas import gemm, routines

__all__ = ["MAX_WASTE", "MIN_CHANNELS", "Shifted", "backward", "eligible", "forward", "plan"]

#: Input channels below which the taps' products are too thin for BLAS (LeNet-5's 1 and 6: im2col wins).
MIN_CHANNELS = 8

#: At most this many columns computed per output kept: ResNet's 8x8 maps (100 wide positions for 64: 1.56) run
#: shifted, 2x faster than im2col at 64 channels; 7x7 maps with 128-512 channels (1.65) ran slower, and stay
#: on im2col.
MAX_WASTE = 1.6

#: Bytes of one block's input window and product (with BLAS's packing, about a 1 MiB L2 cache).
BLOCK_BYTES = 1 << 19

#: At least this many columns per block (narrow products run below BLAS's speed).
MIN_COLUMNS = 384


@dataclass(frozen=True, slots=True)
class Shifted:
    """Geometry of a stride-1 convolution on the wide grid, and its blocks of columns."""

    n: int
    c: int
    k: int
    kh: int
    kw: int
    h: int
    w: int
    py: int
    px: int
    whole: bool  # blocks of `images` whole images, or ...
    images: int
    rows: int  # ... of this many rows of one image
    tasks: int

    @property
    def hp(self) -> int:
        return self.h + 2 * self.py

    @property
    def wp(self) -> int:
        return self.w + 2 * self.px

    @property
    def ho(self) -> int:
        return self.hp - self.kh + 1

    @property
    def wo(self) -> int:
        return self.wp - self.kw + 1

    @property
    def slack(self) -> int:
        """The largest tap offset: zeros after the last image (forward) and before the first (backward)."""
        return (self.kh - 1) * self.wp + self.kw - 1

    @property
    def columns(self) -> int:
        """Columns of the largest block."""
        return self.images * self.hp * self.wp if self.whole else self.rows * self.wp


def eligible(x_shape, w_shape, stride, groups, ho, wo) -> bool:
    """Whether the shifted products suit this convolution: stride 1, one group, at least :data:`MIN_CHANNELS`
    input channels, and at most :data:`MAX_WASTE` times the output's columns computed (blocks of whole
    images count the padding rows between images too)."""
    if stride != (1, 1) or groups != 1 or x_shape[1] < MIN_CHANNELS or ho < 1 or wo < 1:
        return False
    hp, wp = ho + w_shape[2] - 1, wo + w_shape[3] - 1
    return hp * wp <= MAX_WASTE * ho * wo or (wp <= MAX_WASTE * wo and wp * ho >= 2 * MIN_COLUMNS)


def plan(x_shape, w_shape, padding, tasks, itemsize) -> Shifted:
    """Blocks of about :data:`BLOCK_BYTES` of input window and product: whole images when the padding rows
    between them cost at most :data:`MAX_WASTE` and one fits, else rows of one image."""
    n, c, h, w = x_shape
    k, _, kh, kw = w_shape
    py, px = padding
    hp, wp = h + 2 * py, w + 2 * px
    ho, wo = hp - kh + 1, wp - kw + 1
    columns = max(MIN_COLUMNS, BLOCK_BYTES // ((c + k) * itemsize))
    if hp * wp <= MAX_WASTE * ho * wo and hp * wp <= columns:
        images = max(1, min(columns // (hp * wp), -(-n // tasks)))
        return Shifted(n, c, k, kh, kw, h, w, py, px, True, images, hp, tasks)
    rows = max(1, min(hp, columns // wp))
    return Shifted(n, c, k, kh, kw, h, w, py, px, False, 1, rows, tasks)


def _offsets(p: Shifted) -> np.ndarray:
    """Tap (u, v)'s offset u*Wp + v on the wide grid, in W's (u, v) order."""
    return np.array([u * p.wp + v for u in range(p.kh) for v in range(p.kw)], np.int64)


# --------------------------------------------------------------------------
# kernels: one call per task (a group of images), blocks and taps inside
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _pad_images(x, lo, hi, py, px, xc):
    """xc[c, n*P + (y+py)*Wp + x+px] = x[n, c, y, x] for images lo..hi-1, zeros around them."""
    _, n_ch, h, w = x.shape
    wp = w + 2 * px
    pitch = (h + 2 * py) * wp
    zero = xc.dtype.type(0)
    for c in range(n_ch):
        dst = xc[c]
        for n in range(lo, hi):
            base = n * pitch
            for j in range(base, base + py * wp):
                dst[j] = zero
            for y in range(h):
                row = base + (py + y) * wp
                for k in range(px):
                    dst[row + k] = zero
                    dst[row + wp - 1 - k] = zero
                src = x[n, c, y]
                for k in range(w):
                    dst[row + px + k] = src[k]
            for j in range(base + (py + h) * wp, base + pitch):
                dst[j] = zero


@njit(cache=True, nogil=True)
def _span(n0, nb, r0, rows, last_row, whole, pitch, wp):
    """(first column, columns, rows r0..r1 of the image covered) of a block: nb whole images from image n0,
    or rows r0.. of image n0 (at most ``rows``, none past ``last_row``)."""
    if whole:
        return n0 * pitch, nb * pitch, pitch // wp
    r1 = min(r0 + rows, last_row)
    return n0 * pitch + r0 * wp, (r1 - r0) * wp, r1


@njit(cache=True, nogil=True)
def _forward_task(fn, ints, xc, ws, offs, bias, lo, hi, whole, images, rows, hp, wp, res, out):
    """out[lo:hi]: per block, the taps' products into ``res`` (K, columns), then its kept columns (+ bias)."""
    _, n_k, ho, wo = out.shape
    pitch = hp * wp
    has_bias = bias.shape[0] > 0
    for n0 in range(lo, hi, images):
        nb = min(images, hi - n0)
        for r0 in range(0, 1 if whole else ho, rows):
            j0, length, r1 = _span(n0, nb, r0, rows, ho, whole, pitch, wp)
            r0_ = 0 if whole else r0
            block = res[:, :length]
            for s in range(offs.shape[0]):
                a = j0 + offs[s]
                gemm(fn, ints, False, False, 1.0, ws[s], xc[:, a : a + length], 0.0 if s == 0 else 1.0, block)
            for b in range(nb):
                for k in range(n_k):
                    bk = bias[k] if has_bias else block.dtype.type(0)
                    for oy in range(r0_, min(r1, ho)):
                        src = block[k, b * pitch + (oy - r0_) * wp :]
                        dst = out[n0 + b, k, oy]
                        for ox in range(wo):
                            dst[ox] = src[ox] + bk


@njit(cache=True, nogil=True)
def _spread_grad(g, lo, hi, slack, wp, pitch, gc):
    """gc[k, slack + n*P + oy*Wp + ox] = g[n, k, oy, ox] for images lo..hi-1 (gc already zero elsewhere)."""
    _, n_k, ho, wo = g.shape
    for k in range(n_k):
        for n in range(lo, hi):
            for oy in range(ho):
                dst = gc[k, slack + n * pitch + oy * wp :]
                src = g[n, k, oy]
                for ox in range(wo):
                    dst[ox] = src[ox]


@njit(cache=True, nogil=True)
def _backward_task(fn, ints, xc, g, gc, ws, offs, lo, hi, whole, images, rows, hp, wp, py, px, dwt, gt, res, dx):
    """Images lo..hi-1: their weight gradient, transposed, summed into ``dwt`` (S, C, K) (zeroed by the caller)
    and, if ``dx`` has images, their input gradient. ``gt`` is a (columns, K) workspace."""
    _, _, ho, _ = g.shape
    pitch, slack, n_taps = hp * wp, offs[-1], offs.shape[0]
    _spread_grad(g, lo, hi, slack, wp, pitch, gc)
    for n0 in range(lo, hi, images):
        nb = min(images, hi - n0)
        for r0 in range(0, 1 if whole else ho, rows):  # dW over the output rows (gc is 0 at dropped columns)
            j0, length, _ = _span(n0, nb, r0, rows, ho, whole, pitch, wp)
            # dW_sᵀ = X_window @ Gᵀ with Gᵀ pixel-major: BLAS runs this orientation 10-40% faster than
            # G @ X_windowᵀ (16-64 channels, 800-3500 columns, one Zen 4 core)
            gblock, gtb = gc[:, slack + j0 : slack + j0 + length], gt[:length]
            for j in range(length):
                for k in range(gblock.shape[0]):
                    gtb[j, k] = gblock[k, j]
            for s in range(n_taps):
                a = j0 + offs[s]
                gemm(fn, ints, False, False, 1.0, xc[:, a : a + length], gtb, 1.0, dwt[s])
        if dx.shape[0] == 0:
            continue
        h, w = dx.shape[2], dx.shape[3]
        for r0 in range(0 if whole else py, 1 if whole else py + h, rows):  # dx over the padded rows it keeps
            i0, length, r1 = _span(n0, nb, r0, rows, py + h, whole, pitch, wp)
            r0_ = 0 if whole else r0
            block = res[:, :length]
            for s in range(n_taps):  # gather: dxpad[:, i] = sum_s W_sᵀ G[:, i - off_s]
                a = slack + i0 - offs[s]
                gemm(fn, ints, True, False, 1.0, ws[s], gc[:, a : a + length], 0.0 if s == 0 else 1.0, block)
            for b in range(nb):
                for c in range(block.shape[0]):
                    for yy in range(max(r0_, py), min(r1, py + h)):
                        src = block[c, b * pitch + (yy - r0_) * wp + px :]
                        dst = dx[n0 + b, c, yy - py]
                        for xx in range(w):
                            dst[xx] = src[xx]


# --------------------------------------------------------------------------
# drivers
# --------------------------------------------------------------------------


def forward(x, w, bias, p: Shifted, run, out=None) -> tuple[np.ndarray, np.ndarray]:
    """``(out (N, K, Ho, Wo), xc)``: the correlation plus bias, and the channel-major padded input that
    :func:`backward` reads. ``run(task)`` calls ``task(lo, hi)`` for each group of images, on threads;
    ``out``, if given, is written in place (C-contiguous, x's dtype)."""
    dtype = x.dtype
    blas = routines()
    fn, ints = blas.for_dtype(dtype), blas.scratch
    x = np.ascontiguousarray(x)
    xc = np.empty((p.c, p.n * p.hp * p.wp + p.slack), dtype)
    xc[:, p.n * p.hp * p.wp :] = 0
    ws = np.ascontiguousarray(w.transpose(2, 3, 0, 1).reshape(p.kh * p.kw, p.k, p.c))
    offs = _offsets(p)
    out = np.empty((p.n, p.k, p.ho, p.wo), dtype) if out is None else out
    b = np.empty(0, dtype) if bias is None else bias
    # all images padded before any block reads a window (windows of dropped columns reach the next image)
    run(lambda lo, hi: _pad_images(x, lo, hi, p.py, p.px, xc))

    def task(lo, hi):
        res = np.empty((p.k, p.columns), dtype)
        _forward_task(fn, ints(), xc, ws, offs, b, lo, hi, p.whole, p.images, p.rows, p.hp, p.wp, res, out)

    run(task)
    return out, xc


def backward(grad, xc, w, p: Shifted, input_grad, run):
    """``(dx or None, dw)`` of :func:`forward` for ``grad (N, K, Ho, Wo)``; group sums added in a fixed order."""
    dtype = xc.dtype
    blas = routines()
    fn, ints = blas.for_dtype(dtype), blas.scratch
    g = np.ascontiguousarray(grad, dtype)
    gc = np.zeros((p.k, p.slack + p.n * p.hp * p.wp), dtype)
    ws = np.ascontiguousarray(w.transpose(2, 3, 0, 1).reshape(p.kh * p.kw, p.k, p.c))
    offs = _offsets(p)
    dx = np.empty((p.n, p.c, p.h, p.w) if input_grad else (0, p.c, p.h, p.w), dtype)

    def task(lo, hi):
        dwt = np.zeros((p.kh * p.kw, p.c, p.k), dtype)
        gt = np.empty((p.columns, p.k), dtype)
        res = np.empty((p.c, p.columns) if input_grad else (0, 0), dtype)
        args = (lo, hi, p.whole, p.images, p.rows, p.hp, p.wp, p.py, p.px, dwt, gt, res, dx)
        _backward_task(fn, ints(), xc, g, gc, ws, offs, *args)
        return dwt

    parts = run(task)
    dwt = parts[0] if parts else np.zeros((p.kh * p.kw, p.c, p.k), dtype)  # an empty batch: no group
    for more in parts[1:]:  # a fixed order: the same sum on any number of threads
        dwt += more
    dw = np.ascontiguousarray(dwt.reshape(p.kh, p.kw, p.c, p.k).transpose(3, 2, 0, 1))
    return (dx if input_grad else None), dw
