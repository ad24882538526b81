"""CPU layout kernels of the ConvNet engine: im2col, col2im, swap01 (CUDA twins: :mod:`v1sim.kernels.cuda.layout`)."""

from __future__ import annotations

from numba import prange

from .common import twin


@twin
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


@twin
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


@twin
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
