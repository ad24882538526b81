"""CPU correlation kernels: valid cross-correlation (row- and filter-vectorised), S-cells, spectral MAC.

CUDA twins: :mod:`v1sim.kernels.cuda.conv` (correlate_valid, correlate_valid_bank)."""

from __future__ import annotations

import numpy as np
from numba import prange

from .common import twin


@twin
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
                        if sx == 1:  # unit stride known to the compiler: vectorised
                            for ox in range(wo):
                                acc[ox] += wv * row[ox + v]
                        else:
                            for ox in range(wo):
                                acc[ox] += wv * row[ox * sx + v]
            out[n, k, oy, :] = acc


@twin
def s_cells(x, a, c, mode, r, theta, out):
    """Fused S-cell layer: excitation, V-cell and output in one pass over the input (stride 1).

    x (N, C, Hp, Wp) already padded; a (K, C, kh, kw) excitatory weights; c
    (kh, kw) V-cell connection weights; out (N, K, Ho, Wo). Per output row:
    ``v = sqrt(sum_{c,u,w} c[u,w] x[n,c,i+u,j+w]^2)``, ``e_k = correlate(x, a_k)``,
    then mode 0 (Fukushima's shunting cell)
    ``out = r * max(e - theta v, 0) / (1 + theta v)``, or mode 1 (normalised
    dot product, HMAX S1) ``out = |e| / max(v, 1e-12)``.

    Rows are computed ``Wp - kw + 1 >= Wo`` wide and the first ``Wo`` kept:
    a caller that pads x on the right to a whole number of SIMD vectors
    spares the inner loops their scalar remainders (US1: 1.2 -> 0.7 ms).
    Images are the parallel tasks (scratch rows allocated once per image).
    """
    n_img, n_ch, wp = x.shape[0], x.shape[1], x.shape[3]
    n_k, kh, kw = a.shape[0], a.shape[2], a.shape[3]
    ho, wo = out.shape[2], out.shape[3]
    wc = wp - kw + 1
    one = out.dtype.type(1.0)
    r_, theta_, tiny = out.dtype.type(r), out.dtype.type(theta), out.dtype.type(1e-12)
    for n in prange(n_img):
        shift = np.empty(wc, dtype=out.dtype)  # theta v (mode 0) or max(v, tiny) (mode 1)
        gain = np.empty(wp, dtype=out.dtype)  # squared input row, then r / (1 + theta v)
        acc = np.empty(wc, dtype=out.dtype)
        for oy in range(ho):
            shift[:] = 0
            for ch in range(n_ch):
                for u in range(kh):
                    row = x[n, ch, oy + u]
                    for j in range(wp):
                        gain[j] = row[j] * row[j]
                    for v in range(kw):
                        cv = c[u, v]
                        for ox in range(wc):
                            shift[ox] += cv * gain[ox + v]
            if mode == 0:
                for ox in range(wc):
                    shift[ox] = theta_ * np.sqrt(max(shift[ox], 0))
                    gain[ox] = r_ / (one + shift[ox])
            else:
                for ox in range(wc):
                    shift[ox] = max(np.sqrt(max(shift[ox], 0)), tiny)
            for k in range(n_k):
                acc[:] = 0
                for ch in range(n_ch):
                    for u in range(kh):
                        row = x[n, ch, oy + u]
                        for v in range(kw):
                            av = a[k, ch, u, v]
                            for ox in range(wc):
                                acc[ox] += av * row[ox + v]
                res = out[n, k, oy]
                if mode == 0:
                    for ox in range(wo):
                        res[ox] = max(acc[ox] - shift[ox], 0) * gain[ox]
                else:
                    for ox in range(wo):
                        res[ox] = abs(acc[ox]) / shift[ox]


@twin
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


# --------------------------------------------------------------------------


@twin
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
