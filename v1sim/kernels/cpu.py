"""CPU kernels: each body written once, compiled serial and parallel.

Every kernel here writes into a preallocated output; shapes, padding and
allocation are the caller's business (see :mod:`v1sim.signal` and
:mod:`v1sim.pooling`). Arrays are C-contiguous float32 or float64, NCHW.

The bodies use ``prange`` over independent (image, channel/filter) planes; the
``"cpu"`` variant compiles the same body without ``parallel=True`` (where
``prange`` is a plain ``range``), so both variants compute the same sums in
the same order and results do not depend on the number of threads.

Caching: Numba's on-disk cache keys a function by its qualified name and
signature, not by its compile flags, so the parallel twin is compiled from a
*copy* of the body under a distinct name; otherwise the two variants would
overwrite each other's cache entries.

See Also
--------
v1sim.kernels.cuda : numba-cuda twins with the same signatures.
"""

from __future__ import annotations

import types

import numpy as np
from numba import njit, prange

SERIAL: dict[str, object] = {}
PARALLEL: dict[str, object] = {}


def _twin(body):
    """Compile ``body`` as a serial and a parallel kernel and register both."""
    name = body.__name__
    SERIAL[name] = njit(cache=True, nogil=True)(body)
    copy = types.FunctionType(body.__code__, body.__globals__, name + "_parallel", body.__defaults__, body.__closure__)
    copy.__qualname__ = body.__qualname__ + "_parallel"
    PARALLEL[name] = njit(cache=True, nogil=True, parallel=True)(copy)
    return body


# --------------------------------------------------------------------------
# Correlation
# --------------------------------------------------------------------------


@_twin
def correlate_valid(x, w, sy, sx, out):
    """Valid cross-correlation: out[n,k,i,j] = sum_c,u,v w[k,c,u,v] x[n,c,i*sy+u,j*sx+v].

    x (N, C, Hp, Wp) already padded; w (K, C, kh, kw); out (N, K, Ho, Wo).
    Accumulates a whole output row at a time so the innermost loop runs
    along contiguous memory (vectorisable for stride 1).
    """
    n_img, n_ch = x.shape[0], x.shape[1]
    n_k, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    ho, wo = out.shape[2], out.shape[3]
    for t in prange(n_img * n_k):
        n = t // n_k
        k = t - n * n_k
        acc = np.empty(wo, dtype=out.dtype)
        for oy in range(ho):
            acc[:] = 0
            for c in range(n_ch):
                for u in range(kh):
                    row = x[n, c, oy * sy + u]
                    for v in range(kw):
                        wv = w[k, c, u, v]
                        for ox in range(wo):
                            acc[ox] += wv * row[ox * sx + v]
            out[n, k, oy, :] = acc


@_twin
def im2col(x, kh, kw, sy, sx, cols):
    """Unfold patches: cols[n, (c,u,v), i*Wo+j] = x[n, c, i*sy+u, j*sx+v].

    x (N, C, Hp, Wp) already padded; cols (N, C*kh*kw, Ho*Wo). A GEMM with
    the (K, C*kh*kw) weight matrix then gives the correlation (BLAS-shaped).
    """
    n_img, n_ch = x.shape[0], x.shape[1]
    wo = (x.shape[3] - kw) // sx + 1
    ho = cols.shape[2] // wo
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
        for u in range(kh):
            for v in range(kw):
                r = (c * kh + u) * kw + v
                for oy in range(ho):
                    src = x[n, c, oy * sy + u]
                    base = oy * wo
                    for ox in range(wo):
                        cols[n, r, base + ox] = src[ox * sx + v]


@_twin
def col2im(cols, kh, kw, sy, sx, x):
    """Adjoint of :func:`im2col`: scatter-add cols (N, C*kh*kw, Ho*Wo) into x (N, C, Hp, Wp).

    x must be zeroed by the caller. Used for input gradients of convolutions.
    """
    n_img, n_ch = x.shape[0], x.shape[1]
    wo = (x.shape[3] - kw) // sx + 1
    ho = cols.shape[2] // wo
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
        for u in range(kh):
            for v in range(kw):
                r = (c * kh + u) * kw + v
                for oy in range(ho):
                    dst = x[n, c, oy * sy + u]
                    base = oy * wo
                    for ox in range(wo):
                        dst[ox * sx + v] += cols[n, r, base + ox]


@_twin
def correlate_valid_bank(x, wt, sy, sx, out):
    """Valid cross-correlation vectorised over filters, for banks of many filters.

    Same result as :func:`correlate_valid`, but the weights come transposed
    as wt (C, kh, kw, K): each input pixel is loaded once and multiplied
    into all K filter accumulators, which suits banks (K >= 8) on small
    images, where output rows are too short to vectorise.
    """
    n_img, n_ch = x.shape[0], x.shape[1]
    kh, kw, n_k = wt.shape[1], wt.shape[2], wt.shape[3]
    ho, wo = out.shape[2], out.shape[3]
    for t in prange(n_img * ho):
        n = t // ho
        oy = t - n * ho
        acc = np.zeros((wo, n_k), dtype=out.dtype)
        for c in range(n_ch):
            for u in range(kh):
                row = x[n, c, oy * sy + u]
                for v in range(kw):
                    wr = wt[c, u, v]
                    for ox in range(wo):
                        xv = row[ox * sx + v]
                        a = acc[ox]
                        for k in range(n_k):
                            a[k] += xv * wr[k]
        for ox in range(wo):
            for k in range(n_k):
                out[n, k, oy, ox] = acc[ox, k]


@_twin
def spectral_mac(image_spec, bank_spec, out):
    """out[k] = sum_c image_spec[c] * bank_spec[k, c] (complex spectra, one image)."""
    n_k, n_ch = bank_spec.shape[0], bank_spec.shape[1]
    rows, cols = image_spec.shape[1], image_spec.shape[2]
    for k in prange(n_k):
        for i in range(rows):
            for j in range(cols):
                s = image_spec[0, i, j] * bank_spec[k, 0, i, j]
                for c in range(1, n_ch):
                    s += image_spec[c, i, j] * bank_spec[k, c, i, j]
                out[k, i, j] = s


# --------------------------------------------------------------------------
# Pooling (x (N, C, H, W) viewed as N*C planes; windows clipped at the
# zero/-inf padding, so no padded copy is made)
# --------------------------------------------------------------------------


@_twin
def max_pool(x, ph, pw, sy, sx, py, px, out, idx):
    """Max pooling; idx receives the flat in-plane argmax (y*W + x), int32.

    Padding py, px acts as -inf (never chosen). Ties keep the first maximum.
    """
    n_img, n_ch, h, w = x.shape
    ho, wo = out.shape[2], out.shape[3]
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
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


@_twin
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


@_twin
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


@_twin
def avg_pool(x, ph, pw, sy, sx, py, px, out):
    """Average pooling; zero padding counts in the window (divisor ph*pw)."""
    n_img, n_ch, h, w = x.shape
    ho, wo = out.shape[2], out.shape[3]
    scale = 1.0 / (ph * pw)
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
                        s += x[n, c, yy, xx]
                out[n, c, oy, ox] = s * scale


@_twin
def avg_pool_backward(grad_out, ph, pw, sy, sx, py, px, grad_in):
    """Spread each output gradient evenly over its window; grad_in zeroed."""
    n_img, n_ch, h, w = grad_in.shape
    ho, wo = grad_out.shape[2], grad_out.shape[3]
    scale = 1.0 / (ph * pw)
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
        for oy in range(ho):
            y0 = oy * sy - py
            for ox in range(wo):
                x0 = ox * sx - px
                g = grad_out[n, c, oy, ox] * scale
                for yy in range(max(y0, 0), min(y0 + ph, h)):
                    for xx in range(max(x0, 0), min(x0 + pw, w)):
                        grad_in[n, c, yy, xx] += g


@_twin
def l2_pool(x, ph, pw, sy, sx, py, px, out):
    """L2 (energy) pooling: sqrt of the sum of squares over each window."""
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
                        v = x[n, c, yy, xx]
                        s += v * v
                out[n, c, oy, ox] = np.sqrt(s)
