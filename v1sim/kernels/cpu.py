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
                        if sx == 1:  # unit stride known to the compiler: vectorised
                            for ox in range(wo):
                                acc[ox] += wv * row[ox + v]
                        else:
                            for ox in range(wo):
                                acc[ox] += wv * row[ox * sx + v]
            out[n, k, oy, :] = acc


@_twin
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


@_twin
def im2col(x, kh, kw, sy, sx, cols):
    """Unfold patches, channel-major: cols[(c,u,v), n, i*Wo+j] = x[n, c, i*sy+u, j*sx+v].

    x (N, C, Hp, Wp) already padded; cols (C*kh*kw, N, Ho*Wo). Viewed as a
    (C*kh*kw, N*Ho*Wo) matrix, one GEMM with the (K, C*kh*kw) weights gives
    the correlation of the whole batch: one large BLAS call instead of N
    small ones, which matters for the small layers of LeNet-sized nets.
    """
    n_img, n_ch = x.shape[0], x.shape[1]
    wo = (x.shape[3] - kw) // sx + 1
    ho = cols.shape[2] // wo
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
        for u in range(kh):
            for v in range(kw):
                dst = cols[(c * kh + u) * kw + v, n]
                for oy in range(ho):
                    src = x[n, c, oy * sy + u]
                    base = oy * wo
                    if sx == 1:  # unit stride known to the compiler: a vectorised copy
                        for ox in range(wo):
                            dst[base + ox] = src[v + ox]
                    else:
                        for ox in range(wo):
                            dst[base + ox] = src[ox * sx + v]


@_twin
def col2im(cols, kh, kw, sy, sx, x):
    """Adjoint of :func:`im2col`: scatter-add cols (C*kh*kw, N, Ho*Wo) into x (N, C, Hp, Wp).

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
                src = cols[(c * kh + u) * kw + v, n]
                for oy in range(ho):
                    dst = x[n, c, oy * sy + u]
                    base = oy * wo
                    if sx == 1:  # unit stride known to the compiler: a vectorised add
                        for ox in range(wo):
                            dst[v + ox] += src[base + ox]
                    else:
                        for ox in range(wo):
                            dst[ox * sx + v] += src[base + ox]


@_twin
def swap01(a, bias, out):
    """out[j, i, :] = a[i, j, :] + bias[i]: swap the two leading axes of a (I, J, L) array.

    Turns the channel-major (K, N, L) result of a batched GEMM into NCHW
    (N, K, L), adding the per-channel bias in the same pass, and back
    (gradients, with an empty ``bias``).
    """
    n_i, n_j, n_l = a.shape
    has_bias = bias.shape[0] > 0
    for t in prange(n_j * n_i):
        j = t // n_i
        i = t - j * n_i
        src = a[i, j]
        dst = out[j, i]
        if has_bias:  # two loops rather than "+ 0.0", which would promote float32 to float64
            b = bias[i]
            for l in range(n_l):
                dst[l] = src[l] + b
        else:
            for l in range(n_l):
                dst[l] = src[l]


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


# --------------------------------------------------------------------------
# Batch normalisation (x viewed as (N, C, L); per-channel statistics)
# --------------------------------------------------------------------------


@_twin
def bn_stats(x, mean, var):
    """Per-channel mean and biased variance of x (N, C, L), in float64 and in two passes.

    The first pass sums x, the second the deviations ``d = x - m`` and their
    squares; ``var = (sum d^2 - (sum d)^2 / M) / M`` and ``mean = m + sum d / M``
    (the corrected two-pass algorithm [1]_: the correction removes the rounding
    of ``m``). The one-pass ``E[x^2] - m^2`` it replaces lost ``log10(m^2 / var)``
    digits, 8 of 16 at an offset of 1e4 over a unit spread. Partial sums are kept
    per position l (a vector the compiler can keep in SIMD registers) and added
    up at the end, instead of one sequential sum.

    References
    ----------
    .. [1] T. F. Chan, G. H. Golub, R. J. LeVeque, "Algorithms for computing the
       sample variance: analysis and recommendations", Am. Stat. 37:242-247, 1983.
    """
    n_img, n_ch, length = x.shape
    count = n_img * length
    for c in prange(n_ch):
        s = np.zeros(length, dtype=np.float64)
        for n in range(n_img):
            row = x[n, c]
            for i in range(length):
                s[i] += np.float64(row[i])
        m = s.sum() / count
        s1 = np.zeros(length, dtype=np.float64)
        s2 = np.zeros(length, dtype=np.float64)
        for n in range(n_img):
            row = x[n, c]
            for i in range(length):
                d = np.float64(row[i]) - m
                s1[i] += d
                s2[i] += d * d
        t1 = s1.sum()
        mean[c] = m + t1 / count
        var[c] = max((s2.sum() - t1 * t1 / count) / count, 0.0)


@_twin
def bn_affine(x, scale, shift, out):
    """``out[n, c, l] = x[n, c, l] * scale[c] + shift[c]`` (normalisation folded into one affine map)."""
    n_img, n_ch, length = x.shape
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
        a, b = out.dtype.type(scale[c]), out.dtype.type(shift[c])
        row, res = x[n, c], out[n, c]
        for i in range(length):
            res[i] = row[i] * a + b


@_twin
def bn_backward_sums(g, x, mean, invstd, sum_g, sum_gxhat):
    """Per channel ``sum g`` and ``sum g * xhat`` with ``xhat = (x - mean) * invstd`` (float64 sums)."""
    n_img, n_ch, length = x.shape
    for c in prange(n_ch):
        s = np.zeros(length, dtype=np.float64)
        sx = np.zeros(length, dtype=np.float64)
        m, k = mean[c], invstd[c]
        for n in range(n_img):
            grow, xrow = g[n, c], x[n, c]
            for i in range(length):
                gv = np.float64(grow[i])
                s[i] += gv
                sx[i] += gv * (np.float64(xrow[i]) - m) * k
        sum_g[c] = s.sum()
        sum_gxhat[c] = sx.sum()


@_twin
def bn_backward_dx(g, x, mean, invstd, a, b, out):
    """``dx = a[c] * (g - b0[c] - xhat * b1[c])`` with ``b = (b0, b1)`` per channel, b of shape (2, C)."""
    n_img, n_ch, length = x.shape
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
        dt = out.dtype.type
        ac, b0, b1, m, k = dt(a[c]), dt(b[0, c]), dt(b[1, c]), dt(mean[c]), dt(invstd[c])
        grow, xrow, res = g[n, c], x[n, c], out[n, c]
        for i in range(length):
            res[i] = ac * (grow[i] - b0 - (xrow[i] - m) * k * b1)


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
# Activations
# --------------------------------------------------------------------------


@_twin
def tanh_float32(x, out):
    """out = tanh(x) for float32 (flat arrays), within 4e-7 absolute of the exact value.

    A rational approximation ``x P(x^2) / Q(x^2)`` (degrees 13/6, argument
    clamped to |x| <= 7.9053, beyond which tanh rounds to +-1 in float32)
    with the coefficients of Eigen's ``generic_fast_tanh_float``. Unlike a
    libm call it has no branches and vectorises: about 4x faster than
    ``np.tanh`` on LeNet's activations. float64 callers use ``np.tanh``.
    """
    lim = np.float32(7.90531110763549805)
    for i in prange(x.size):
        v = min(max(x[i], -lim), lim)
        z = v * v
        p = z * np.float32(-2.76076847742355e-16) + np.float32(2.00018790482477e-13)
        p = z * p + np.float32(-8.60467152213735e-11)
        p = z * p + np.float32(5.12229709037114e-08)
        p = z * p + np.float32(1.48572235717979e-05)
        p = z * p + np.float32(6.37261928875436e-04)
        p = z * p + np.float32(4.89352455891786e-03)
        q = z * np.float32(1.19825839466702e-06) + np.float32(1.18534705686654e-04)
        q = z * q + np.float32(2.26843463243900e-03)
        q = z * q + np.float32(4.89352518554385e-03)
        out[i] = v * p / q


@_twin
def tanh_backward(grad_out, y, grad_in):
    """grad_in = grad_out * (1 - y^2), y = tanh(x) from the forward pass (flat arrays, one pass)."""
    for i in prange(y.size):
        v = y[i]
        grad_in[i] = grad_out[i] * (1 - v * v)


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


@_twin
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


@_twin
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
