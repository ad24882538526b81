"""CPU layout kernels of the ConvNet engine: im2col, col2im, swap01 (CUDA twins: :mod:`v1sim.kernels.cuda.layout`),
their block-by-block forms, and the convolution's zero padding and cropping (CPU only: the device keeps whole-batch
columns)."""

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
def im2col_block(xp, n0, oy0, kh, kw, sy, sx, pitch, cols):
    """Patches of images ``n0 .. n0+nb-1`` and output rows ``oy0 .. oy0+rows-1`` of padded ``xp``.

    cols[(c,u,v), b, i*pitch+j] = xp[n0+b, c, (oy0+i)*sy+u, j*sx+v] for j < Wo; xp (N, C, Hp, Wp)
    already padded, cols (C*kh*kw, nb, rows*pitch). A block small enough to stay in cache replaces
    the whole batch's column matrix (which streamed through memory and, cached for backward, held
    6 GB for a ResNet-56 step at batch 128).

    ``pitch`` is Wo, or Wp ("wide" blocks, stride 1 only): then each (c, u, v) is one contiguous run
    of ``rows*Wp`` values of the flattened plane, and the columns ``Wo <= j < Wp`` hold spill-over
    from the next row (zero past the plane's end), computed by the GEMM and dropped by
    :func:`block_to_nchw`: one copy instead of ``rows`` short ones (ResNet's 8-wide rows).
    """
    n_ch, hp, wp = xp.shape[1], xp.shape[2], xp.shape[3]
    nb, length = cols.shape[1], cols.shape[2]
    wo = (wp - kw) // sx + 1
    rows = length // pitch
    zero = cols.dtype.type(0)
    for t in prange(nb * n_ch):
        b = t // n_ch
        c = t - b * n_ch
        for u in range(kh):
            for v in range(kw):
                dst = cols[(c * kh + u) * kw + v, b]
                # loops over views that start at index 0: offsets inside the index (plane[off + j]) keep
                # LLVM from vectorising (measured 1.5x slower copies, 3x slower adds in col2im_block)
                if pitch != wo:  # wide: one run along the flattened plane
                    off = (oy0 + u) * wp + v
                    m = min(length, hp * wp - off)
                    src = xp[n0 + b, c].reshape(hp * wp)[off : off + m]
                    for j in range(m):
                        dst[j] = src[j]
                    for j in range(m, length):
                        dst[j] = zero
                    continue
                for i in range(rows):
                    src = xp[n0 + b, c, (oy0 + i) * sy + u, v:]
                    row = dst[i * wo : (i + 1) * wo]
                    if sx == 1:  # unit stride known to the compiler: a vectorised copy
                        for j in range(wo):
                            row[j] = src[j]
                    else:
                        for j in range(wo):
                            row[j] = src[j * sx]


@twin
def col2im_block(cols, n0, oy0, kh, kw, sy, sx, pitch, xp):
    """Adjoint of :func:`im2col_block`: add cols (C*kh*kw, nb, rows*pitch) into padded xp (N, C, Hp, Wp).

    Wide blocks (``pitch`` = Wp) must hold zeros in their spill-over columns (:func:`nchw_to_block`
    zero-fills them in the output gradient, so ``Wᵀ @ G`` is zero there). Blocks of one image must
    be added one after the other (their rows overlap).
    """
    n_ch, hp, wp = xp.shape[1], xp.shape[2], xp.shape[3]
    nb, length = cols.shape[1], cols.shape[2]
    wo = (wp - kw) // sx + 1
    rows = length // pitch
    for t in prange(nb * n_ch):
        b = t // n_ch
        c = t - b * n_ch
        for u in range(kh):
            for v in range(kw):
                src = cols[(c * kh + u) * kw + v, b]
                if pitch != wo:  # views starting at 0, as in im2col_block
                    off = (oy0 + u) * wp + v
                    m = min(length, hp * wp - off)
                    dst = xp[n0 + b, c].reshape(hp * wp)[off : off + m]
                    for j in range(m):
                        dst[j] += src[j]
                    continue
                for i in range(rows):
                    dst = xp[n0 + b, c, (oy0 + i) * sy + u, v:]
                    row = src[i * wo : (i + 1) * wo]
                    if sx == 1:
                        for j in range(wo):
                            dst[j] += row[j]
                    else:
                        for j in range(wo):
                            dst[j * sx] += row[j]


@twin
def block_to_nchw(block, bias, n0, oy0, pitch, out):
    """out[n0+b, k, oy0+i, j] = block[k, b, i*pitch + j] + bias[k] for j < Wo (``bias`` may be empty).

    A GEMM block (K, nb, rows*pitch) into NCHW out (N, K, Ho, Wo); the pitch is Wo, or the padded
    width for :func:`im2col_wide` blocks (their spill-over columns are dropped here).
    """
    n_k, nb, lb = block.shape
    wo, rows = out.shape[3], lb // pitch
    has_bias = bias.shape[0] > 0
    for t in prange(nb * n_k):
        b = t // n_k
        k = t - b * n_k
        src = block[k, b]
        for i in range(rows):
            dst = out[n0 + b, k, oy0 + i]
            row = src[i * pitch : i * pitch + wo]
            if has_bias:  # two loops rather than "+ 0.0", which would promote float32 to float64
                bk = bias[k]
                for j in range(wo):
                    dst[j] = row[j] + bk
            else:
                for j in range(wo):
                    dst[j] = row[j]


@twin
def nchw_to_block(a, n0, oy0, pitch, block):
    """block[k, b, i*pitch + j] = a[n0+b, k, oy0+i, j] for j < Wo, 0 up to the pitch: :func:`block_to_nchw`'s gather."""
    n_k, nb, lb = block.shape
    wo, rows = a.shape[3], lb // pitch
    zero = block.dtype.type(0)
    for t in prange(nb * n_k):
        b = t // n_k
        k = t - b * n_k
        dst = block[k, b]
        for i in range(rows):
            src = a[n0 + b, k, oy0 + i]
            row = dst[i * pitch : (i + 1) * pitch]
            for j in range(wo):
                row[j] = src[j]
            for j in range(wo, pitch):
                row[j] = zero


@twin
def pad_nchw(x, py, px, out):
    """out = x zero-padded by ``py`` rows above and below and ``px`` columns left and right, in one write pass.

    ``out`` (N, C, H + 2py, W + 2px) may be uninitialised. The convolution pads its input on every call:
    ``np.full`` then a copy wrote the padded array twice, on one thread; this writes it once, map by map
    in parallel (0.6 against 7 ms for ResNet-20's first stage at batch 64, freshly allocated pages).
    """
    n_img, n_ch, h, w = x.shape
    wp = w + 2 * px
    zero = out.dtype.type(0)
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
        o = out[n, c]
        for y in range(py):
            o[y, :] = zero
            o[h + py + y, :] = zero
        for y in range(h):
            row, src = o[py + y], x[n, c, y]
            for k in range(px):
                row[k] = zero
                row[wp - 1 - k] = zero
            for k in range(w):
                row[px + k] = src[k]


@twin
def crop_nchw(xp, py, px, out):
    """out = xp[:, :, py:py+H, px:px+W] for out (N, C, H, W): the padded input gradient cropped, map by map in
    parallel."""
    n_img, n_ch, h, w = out.shape
    for t in prange(n_img * n_ch):
        n = t // n_ch
        c = t - n * n_ch
        for y in range(h):
            row, src = out[n, c, y], xp[n, c, py + y]
            for k in range(w):
                row[k] = src[px + k]
