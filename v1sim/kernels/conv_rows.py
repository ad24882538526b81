"""Thin-patch convolutions summed along output rows: no im2col, no BLAS (register tiles of :mod:`.row_tiles`).

A filter of a few weights (channels x kh x kw at most :data:`MAX_PATCH`: LeNet-5's C1, 1 x 5 x 5; a 3x3 on
an RGB or grey image) makes im2col copy each input pixel kh*kw times for a product whose inner dimension
is that small patch, which BLAS runs far below its speed. Here a tile holds a few filters by two vector
registers of one output row's columns and sums every tap and channel into them, on an input padded on the
right to whole tiles of columns, and stores the row masked to its width. LeNet-5's C1 forward at batch 64
(2 threads): 0.81 ms with im2col, 0.36 with loops along rows that added ``kw`` taps per load of the
accumulator (Numba's vectorised loops), 0.13 on the tiles (0.25 -> 0.13 ms for the kernel alone; 1.02 ->
0.50 at batch 256).

Backward: the weight gradient by :mod:`.row_tiles` (products of whole rows accumulated in registers, groups
of images summed in a fixed order), the input gradient (rarely wanted: such layers are first layers) as the full
correlation of the output gradient with the flipped, transposed filters, through the same forward tiles.

Used by :mod:`.conv_blocks` for stride-1, ungrouped layers that :func:`eligible` accepts.
"""

from __future__ import annotations

import numpy as np

from . import row_tiles
from .row_tiles import WIDTHS  # kernel widths with compiled weight-gradient tiles

__all__ = ["MAX_PATCH", "WIDTHS", "backward", "eligible", "forward"]

#: At most this many weights per filter (channels x kh x kw): a 3x3 on 3 channels (27) ran 1.25x faster than
#: im2col, a 7x7 on one channel with 64 filters (49) slower, the digits bank's 11x11 (121) 1.6x slower.
MAX_PATCH = 32


def eligible(x_shape, w_shape, stride, groups) -> bool:
    """Stride 1, one group, a kernel width in :data:`WIDTHS` and at most :data:`MAX_PATCH` weights per filter."""
    c, (kh, kw) = x_shape[1], w_shape[2:]
    return stride == (1, 1) and groups == 1 and kw in WIDTHS and c * kh * kw <= MAX_PATCH


def _padded(a, top, bottom, left, right, out_w, kw) -> np.ndarray:
    """``a`` (N, C, H, W) zero-padded on each side, and on the right past that so that the forward tiles' rows
    of ``out_w`` outputs (whole tiles of columns, :func:`.row_tiles.columns`) read inside each row."""
    n, c, h, w = a.shape
    width = max(w + left + right, row_tiles.columns(out_w, a.dtype.itemsize) + kw - 1)
    out = np.zeros((n, c, h + top + bottom, width), a.dtype)
    out[:, :, top : top + h, left : left + w] = a
    return out


def _correlate(xp, w, bias, out, device) -> np.ndarray:
    """``out`` = bias + valid correlation of ``xp`` (padded and widened by :func:`_padded`) with ``w``."""
    b = np.empty(0, xp.dtype) if bias is None else bias
    wk, taps = row_tiles.pack_filters(w, xp.shape[3])
    row_tiles.correlate[device](xp, wk, taps, b, out)
    return out


def forward(x, w, bias, padding, device, out=None) -> tuple[np.ndarray, np.ndarray]:
    """``(out, xp)``: the correlation of x (N, C, H, W) zero-padded by ``padding`` with w, plus bias, and the
    padded input (widened on the right) that :func:`backward` reads. ``device`` is a CPU backend, "cpu" or
    "parallel" (:mod:`.conv_blocks` resolves it); ``out``, if given, is written in place."""
    (py, px), (kh, kw) = padding, w.shape[2:]
    n, _, h, wd = x.shape
    ho, wo = h + 2 * py - kh + 1, wd + 2 * px - kw + 1
    xp = _padded(x, py, py, px, px, wo, kw)
    out = np.empty((n, w.shape[0], ho, wo), x.dtype) if out is None else out
    return _correlate(xp, w, bias, out, device), xp


def backward(grad, xp, w, padding, x_shape, input_grad, device, tasks):
    """``(dx or None, dw)`` of :func:`forward` for ``grad (N, K, Ho, Wo)``; the weight gradient summed over at most
    ``tasks`` groups of images apart, then in order (set by the batch, not the threads)."""
    g = np.ascontiguousarray(grad, xp.dtype)
    n, k, ho, wo = g.shape
    kh, kw = w.shape[2:]
    parts = np.empty((max(1, min(n, tasks)), k, w.shape[1], kh, kw), xp.dtype)
    if n:
        row_tiles.weight_grad[device](g, xp, parts)
    else:
        parts[...] = 0
    dw = parts[0].copy()
    for more in parts[1:]:  # a fixed order: the same sum on any number of threads
        dw += more
    if not input_grad:
        return None, dw
    # dxpad = full correlation of g with the flipped filters, channels and filters swapped; then the crop
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    hp, wp = ho + kh - 1, wo + kw - 1
    gp = _padded(g, kh - 1, kh - 1, kw - 1, kw - 1, wp, kw)
    dxp = _correlate(gp, flipped, None, np.empty((n, w.shape[1], hp, wp), xp.dtype), device)
    py, px = padding
    h, wd = x_shape[2:]
    return np.ascontiguousarray(dxp[:, :, py : py + h, px : px + wd]), dw
