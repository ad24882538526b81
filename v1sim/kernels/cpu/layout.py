"""CPU layout kernels of the ConvNet engine: im2col, col2im, swap01 (CUDA twins: :mod:`v1sim.kernels.cuda.layout`),
and their block-by-block forms (CPU only: the device keeps whole-batch columns)."""

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


# --------------------------------------------------------------------------
# block by block: a few images (or output rows) at a time, padding applied on the fly
# --------------------------------------------------------------------------


@twin
def im2col_block(xp, n0, oy0, kh, kw, sy, sx, cols):
    """Patches of images ``n0 .. n0+nb-1`` and output rows ``oy0 .. oy0+rows-1`` of padded ``xp``.

    cols[(c,u,v), b, i*Wo+j] = xp[n0+b, c, (oy0+i)*sy+u, j*sx+v]; xp (N, C, Hp, Wp) already padded,
    cols (C*kh*kw, nb, rows*Wo). A block small enough to stay in cache replaces the whole batch's
    column matrix (which streamed through memory and, cached for backward, held 6 GB for a
    ResNet-56 step at batch 128).
    """
    n_ch = xp.shape[1]
    nb = cols.shape[1]
    wo = (xp.shape[3] - kw) // sx + 1
    rows = cols.shape[2] // wo
    for t in prange(nb * n_ch):
        b = t // n_ch
        c = t - b * n_ch
        for u in range(kh):
            for v in range(kw):
                dst = cols[(c * kh + u) * kw + v, b]
                for i in range(rows):
                    src = xp[n0 + b, c, (oy0 + i) * sy + u]
                    base = i * wo
                    if sx == 1:  # unit stride known to the compiler: a vectorised copy
                        for j in range(wo):
                            dst[base + j] = src[v + j]
                    else:
                        for j in range(wo):
                            dst[base + j] = src[j * sx + v]


@twin
def col2im_block(cols, n0, oy0, kh, kw, sy, sx, xp):
    """Adjoint of :func:`im2col_block`: add cols (C*kh*kw, nb, rows*Wo) into padded xp (N, C, Hp, Wp).

    Blocks of one image must be added one after the other (their rows overlap).
    """
    n_ch = xp.shape[1]
    nb = cols.shape[1]
    wo = (xp.shape[3] - kw) // sx + 1
    rows = cols.shape[2] // wo
    for t in prange(nb * n_ch):
        b = t // n_ch
        c = t - b * n_ch
        for u in range(kh):
            for v in range(kw):
                src = cols[(c * kh + u) * kw + v, b]
                for i in range(rows):
                    dst = xp[n0 + b, c, (oy0 + i) * sy + u]
                    base = i * wo
                    if sx == 1:
                        for j in range(wo):
                            dst[v + j] += src[base + j]
                    else:
                        for j in range(wo):
                            dst[j * sx + v] += src[base + j]


@twin
def block_to_nchw(block, bias, n0, l0, out):
    """out[n0+b, k, l0:l0+Lb] = block[k, b, :] + bias[k] (``bias`` may be empty): a GEMM block into NCHW."""
    n_k, nb, lb = block.shape
    has_bias = bias.shape[0] > 0
    for t in prange(nb * n_k):
        b = t // n_k
        k = t - b * n_k
        src = block[k, b]
        dst = out[n0 + b, k]
        if has_bias:  # two loops rather than "+ 0.0", which would promote float32 to float64
            bk = bias[k]
            for j in range(lb):
                dst[l0 + j] = src[j] + bk
        else:
            for j in range(lb):
                dst[l0 + j] = src[j]


@twin
def nchw_to_block(a, n0, l0, block):
    """block[k, b, :] = a[n0+b, k, l0:l0+Lb]: the inverse gather of :func:`block_to_nchw` (no bias)."""
    n_k, nb, lb = block.shape
    for t in prange(nb * n_k):
        b = t // n_k
        k = t - b * n_k
        src = a[n0 + b, k]
        dst = block[k, b]
        for j in range(lb):
            dst[j] = src[l0 + j]
