"""CPU pooling kernels (CUDA twins: :mod:`v1sim.kernels.cuda.pool`)."""

from __future__ import annotations

import numpy as np
from numba import prange

from .common import twin

# Pooling (x (N, C, H, W) viewed as N*C planes; windows clipped at the
# zero/-inf padding, so no padded copy is made)
# --------------------------------------------------------------------------


@twin
def max_pool(x, ph, pw, sy, sx, py, px, out, idx):
    """Max pooling; idx receives the flat in-plane argmax (y*W + x), int32.

    Padding py, px acts as -inf (never chosen). Ties keep the first maximum.
    """
    n_img, n_ch, h, w = x.shape
    ho, wo = out.shape[2], out.shape[3]
    quad = ph == 2 and pw == 2 and sy == 2 and sx == 2 and py == 0 and px == 0  # VGG's pooling
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
        if quad:  # two input rows per output row, the four candidates in row-major order
            for oy in range(ho):
                r0, r1 = x[n, c, 2 * oy], x[n, c, 2 * oy + 1]
                o, ix = out[n, c, oy], idx[n, c, oy]
                for ox in range(wo):
                    best, arg = r0[2 * ox], 2 * oy * w + 2 * ox
                    if r0[2 * ox + 1] > best:
                        best, arg = r0[2 * ox + 1], arg + 1
                    if r1[2 * ox] > best:
                        best, arg = r1[2 * ox], (2 * oy + 1) * w + 2 * ox
                    if r1[2 * ox + 1] > best:
                        best, arg = r1[2 * ox + 1], (2 * oy + 1) * w + 2 * ox + 1
                    o[ox] = best
                    ix[ox] = arg
            continue
        for oy in range(ho):
            y0 = oy * sy - py
            ya = max(y0, 0)
            yb = min(y0 + ph, h)
            for ox in range(wo):
                x0 = ox * sx - px
                xa = max(x0, 0)
                xb = min(x0 + pw, w)
                best = x[n, c, ya, xa]
                arg = ya * w + xa
                for yy in range(ya, yb):
                    for xx in range(xa, xb):
                        v = x[n, c, yy, xx]
                        if v > best:
                            best = v
                            arg = yy * w + xx
                out[n, c, oy, ox] = best
                idx[n, c, oy, ox] = arg


@twin
def max_pool_2x2(x, out):
    """The common case, 2x2 windows at stride 2 without padding or argmax.

    Pooling is a memory-bound copy: two input rows are streamed per output
    row with no per-element window bookkeeping.
    """
    n_img, n_ch = x.shape[0], x.shape[1]
    ho, wo = out.shape[2], out.shape[3]
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
        for oy in range(ho):
            r0 = x[n, c, 2 * oy]
            r1 = x[n, c, 2 * oy + 1]
            o = out[n, c, oy]
            for ox in range(wo):
                a = max(r0[2 * ox], r0[2 * ox + 1])
                b = max(r1[2 * ox], r1[2 * ox + 1])
                o[ox] = max(a, b)


@twin
def max_pool_backward(grad_out, idx, grad_in):
    """Route each output gradient to its argmax; grad_in must be zeroed."""
    n_img, n_ch = grad_out.shape[0], grad_out.shape[1]
    ho, wo = grad_out.shape[2], grad_out.shape[3]
    w = grad_in.shape[3]
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
        for oy in range(ho):
            for ox in range(wo):
                a = idx[n, c, oy, ox]
                grad_in[n, c, a // w, a % w] += grad_out[n, c, oy, ox]


@twin
def avg_pool(x, ph, pw, sy, sx, py, px, out):
    """Average pooling; zero padding counts in the window (divisor ph*pw).

    Row-vectorised like :func:`correlate_valid`: for each window offset u a
    whole output row is accumulated, in the arrays' own dtype, the output
    columns clipped to the ones whose input column lies inside the image
    (so padding needs no padded copy and no per-element bounds test).
    """
    n_img, n_ch, h, w = x.shape
    ho, wo = out.shape[2], out.shape[3]
    inv = np.empty(1, out.dtype)
    inv[0] = 1.0 / (ph * pw)
    scale = inv[0]  # in the output dtype: float32 stays float32
    quad = ph == 2 and pw == 2 and sy == 2 and sx == 2 and py == 0 and px == 0  # LeNet's subsampling
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
        if quad:  # stream two rows per output row, no window bookkeeping (as max_pool_2x2)
            for oy in range(ho):
                r0, r1, o = x[n, c, 2 * oy], x[n, c, 2 * oy + 1], out[n, c, oy]
                for ox in range(wo):
                    o[ox] = ((r0[2 * ox] + r0[2 * ox + 1]) + (r1[2 * ox] + r1[2 * ox + 1])) * scale
            continue
        for oy in range(ho):
            o = out[n, c, oy]
            o[:] = 0
            y0 = oy * sy - py
            for yy in range(max(y0, 0), min(y0 + ph, h)):
                row = x[n, c, yy]
                for u in range(pw):
                    lo = (px - u + sx - 1) // sx if px > u else 0  # first ox with ox*sx - px + u >= 0
                    hi = min(wo, (w - 1 + px - u) // sx + 1)  # past the last ox inside the row
                    for ox in range(lo, hi):
                        o[ox] += row[ox * sx - px + u]
            for ox in range(wo):
                o[ox] *= scale


@twin
def avg_pool_2x2_backward(grad_out, grad_in):
    """The adjoint of 2x2 average pooling at stride 2 without padding, written straight into ``grad_in``.

    Every element of ``grad_in`` is written once (a trailing odd row or column, which no window covers, gets
    zeros), so ``grad_in`` may be uninitialised: one write pass instead of :func:`avg_pool_backward`'s zeroing
    and read-modify-write (2.6-3.2x faster on LeNet-5's pooling gradients). ``g / 4 + 0`` rounds as the ``0 + g / 4``
    of the general kernel (a -0.0 gradient gives +0.0), so both give the same bits. The arrays are indexed, not
    sliced into row views: with a view per row the loop ran 3.4-4.3x slower (LeNet-5's C3 gradient, 102,400
    elements: 175 -> 41 us).
    """
    n_img, n_ch, h, w = grad_in.shape
    ho, wo = grad_out.shape[2], grad_out.shape[3]
    scale, zero = grad_in.dtype.type(0.25), grad_in.dtype.type(0)
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
        for oy in range(ho):
            for ox in range(wo):
                v = grad_out[n, c, oy, ox] * scale + zero
                grad_in[n, c, 2 * oy, 2 * ox] = v
                grad_in[n, c, 2 * oy, 2 * ox + 1] = v
                grad_in[n, c, 2 * oy + 1, 2 * ox] = v
                grad_in[n, c, 2 * oy + 1, 2 * ox + 1] = v
            if w > 2 * wo:
                grad_in[n, c, 2 * oy, w - 1] = zero
                grad_in[n, c, 2 * oy + 1, w - 1] = zero
        for yy in range(2 * ho, h):
            for xx in range(w):
                grad_in[n, c, yy, xx] = zero


@twin
def avg_pool_backward(grad_out, ph, pw, sy, sx, py, px, grad_in):
    """Spread each output gradient evenly over its window; grad_in zeroed (adjoint of :func:`avg_pool`)."""
    n_img, n_ch, h, w = grad_in.shape
    ho, wo = grad_out.shape[2], grad_out.shape[3]
    inv = np.empty(1, grad_in.dtype)
    inv[0] = 1.0 / (ph * pw)
    scale = inv[0]
    quad = ph == 2 and pw == 2 and sy == 2 and sx == 2 and py == 0 and px == 0
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
        if quad:
            for oy in range(ho):
                g, r0, r1 = grad_out[n, c, oy], grad_in[n, c, 2 * oy], grad_in[n, c, 2 * oy + 1]
                for ox in range(wo):
                    v = g[ox] * scale
                    r0[2 * ox] += v
                    r0[2 * ox + 1] += v
                    r1[2 * ox] += v
                    r1[2 * ox + 1] += v
            continue
        for oy in range(ho):
            g = grad_out[n, c, oy]
            y0 = oy * sy - py
            for yy in range(max(y0, 0), min(y0 + ph, h)):
                row = grad_in[n, c, yy]
                for u in range(pw):
                    lo = (px - u + sx - 1) // sx if px > u else 0
                    hi = min(wo, (w - 1 + px - u) // sx + 1)
                    for ox in range(lo, hi):
                        row[ox * sx - px + u] += g[ox] * scale


@twin
def l2_pool(x, ph, pw, sy, sx, py, px, out):
    """L2 (energy) pooling: sqrt of the sum of squares over each window, squared and summed in float64.

    Squaring float32 in float32 flushed windows of values below 1e-19 to 0 and overflowed above 1.8e19.
    """
    n_img, n_ch, h, w = x.shape
    ho, wo = out.shape[2], out.shape[3]
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
        for oy in range(ho):
            y0 = oy * sy - py
            for ox in range(wo):
                x0 = ox * sx - px
                s = 0.0
                for yy in range(max(y0, 0), min(y0 + ph, h)):
                    for xx in range(max(x0, 0), min(x0 + pw, w)):
                        v = np.float64(x[n, c, yy, xx])
                        s += v * v
                out[n, c, oy, ox] = np.sqrt(s)
