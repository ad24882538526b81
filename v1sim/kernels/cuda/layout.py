"""numba-cuda kernels that move data: im2col/col2im, axis swaps, channel concat/split, pooling gradients.

One thread per output element (grid-stride). The adjoint kernels (col2im,
pooling gradients, zero-padded shortcuts) *gather* rather than scatter: each
input pixel sums the few patch entries or window outputs that touch it, so no
atomics are needed, every element is written once (no zero fill) and the
sums come out in a fixed order.

Layouts follow the CPU twins in :mod:`v1sim.kernels.cpu`: patches are
channel-major ``(C*kh*kw, N, Ho*Wo)``, row ``(c*kh + u)*kw + v``.
"""

from __future__ import annotations

from numba import cuda

from .common import SIMULATOR, launch, nchw, ncl

_jit = cuda.jit(cache=not SIMULATOR)


@_jit
def _im2col(x, kh, kw, sy, sx, py, px, wo, cols):
    n_img, h, w = cols.shape[1], x.shape[2], x.shape[3]
    per_row = n_img * cols.shape[2]
    for t in range(cuda.grid(1), cols.size, cuda.gridsize(1)):
        r = t // per_row
        rest = t - r * per_row
        n = rest // cols.shape[2]
        l = rest - n * cols.shape[2]
        v = r % kw
        u = (r // kw) % kh
        c = r // (kh * kw)
        y = (l // wo) * sy - py + u
        xx = (l % wo) * sx - px + v
        if 0 <= y < h and 0 <= xx < w:
            cols[r, n, l] = x[n, c, y, xx]
        else:
            cols[r, n, l] = 0


@_jit
def _col2im(cols, kh, kw, sy, sx, py, px, ho, wo, accumulate, x):
    for t in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        n, c, y, xx = nchw(t, x.shape)
        acc = cols[0, 0, 0] * 0  # a zero of the patches' dtype
        for u in range(kh):
            ty = y + py - u
            if ty < 0 or ty % sy != 0 or ty // sy >= ho:
                continue
            for v in range(kw):
                tx = xx + px - v
                if tx < 0 or tx % sx != 0 or tx // sx >= wo:
                    continue
                acc += cols[(c * kh + u) * kw + v, n, (ty // sy) * wo + tx // sx]
        if accumulate:
            x[n, c, y, xx] += acc
        else:
            x[n, c, y, xx] = acc


@_jit
def _swap01(a, bias, out):
    n_i, n_l = out.shape[1], out.shape[2]
    has_bias = bias.shape[0] > 0
    for t in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        l = t % n_l
        rest = t // n_l
        i = rest % n_i
        j = rest // n_i
        if has_bias:
            out[j, i, l] = a[i, j, l] + bias[i]
        else:
            out[j, i, l] = a[i, j, l]


@_jit
def _permute3(src, s0, s1, s2, out):
    # out[i, j, k] = src[i*s0 + j*s1 + k*s2]: any axis permutation of a contiguous 3-D array
    d1, d2 = out.shape[1], out.shape[2]
    for t in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        k = t % d2
        rest = t // d2
        j = rest % d1
        i = rest // d1
        out[i, j, k] = src[i * s0 + j * s1 + k * s2]


@_jit
def _copy_channels(src, dst, offset, split):
    # concat (split=0): dst[:, offset + c] = src[:, c]; split (split=1): dst[:, c] = src[:, offset + c]
    part = dst if split else src
    n_ch, n_l = part.shape[1], part.shape[2]
    for t in range(cuda.grid(1), part.size, cuda.gridsize(1)):
        n, c, l = ncl(t, n_ch, n_l)
        if split:
            dst[n, c, l] = src[n, offset + c, l]
        else:
            dst[n, offset + c, l] = src[n, c, l]


@_jit
def _zero_pad_shortcut(x, sy, sx, before, out):
    # out[n, before + c, i, j] = x[n, c, i*sy, j*sx], other channels 0
    for t in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        n, k, i, j = nchw(t, out.shape)
        c = k - before
        if 0 <= c < x.shape[1]:
            out[n, k, i, j] = x[n, c, i * sy, j * sx]
        else:
            out[n, k, i, j] = 0


@_jit
def _zero_pad_shortcut_backward(g, sy, sx, before, dx):
    for t in range(cuda.grid(1), dx.size, cuda.gridsize(1)):
        n, c, y, xx = nchw(t, dx.shape)
        if y % sy == 0 and xx % sx == 0:
            dx[n, c, y, xx] = g[n, before + c, y // sy, xx // sx]
        else:
            dx[n, c, y, xx] = 0


@_jit
def _global_avg_pool(x, scale, out):
    # x viewed (N*C, H*W); one thread sums one map
    for t in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        s = x[t, 0] * 0
        for l in range(x.shape[1]):
            s += x[t, l]
        out[t] = s * scale


@_jit
def _global_avg_pool_backward(g, scale, dx):
    n_l = dx.shape[1]
    for t in range(cuda.grid(1), dx.size, cuda.gridsize(1)):
        dx[t // n_l, t % n_l] = g[t // n_l] * scale


@_jit
def _pool_backward(g, idx, kind, ph, pw, sy, sx, py, px, dx):
    # kind 0: max (route to the recorded argmax idx), 1: average (share over the window)
    w = dx.shape[3]
    ho, wo = g.shape[2], g.shape[3]
    for t in range(cuda.grid(1), dx.size, cuda.gridsize(1)):
        n, c, y, xx = nchw(t, dx.shape)
        # windows oy*sy - py .. + ph - 1 that contain y
        oy0 = max(0, (y + py - ph + sy) // sy)
        ox0 = max(0, (xx + px - pw + sx) // sx)
        oy1 = min(ho - 1, (y + py) // sy)
        ox1 = min(wo - 1, (xx + px) // sx)
        acc = g[0, 0, 0, 0] * 0
        me = y * w + xx
        for oy in range(oy0, oy1 + 1):
            for ox in range(ox0, ox1 + 1):
                if kind == 0:
                    if idx[n, c, oy, ox] == me:
                        acc += g[n, c, oy, ox]
                else:
                    acc += g[n, c, oy, ox]
        dx[n, c, y, xx] = acc if kind == 0 else acc / (ph * pw)


def im2col(x, kh, kw, sy, sx, py, px, cols):
    """Channel-major patches of ``x`` (N, C, H, W) zero-padded by (py, px) into ``cols`` (C*kh*kw, N, Ho*Wo)."""
    wo = (x.shape[3] + 2 * px - kw) // sx + 1
    launch(_im2col, cols.size, x, kh, kw, sy, sx, py, px, wo, cols)
    return cols


def col2im(cols, kh, kw, sy, sx, py, px, x, accumulate=False):
    """Adjoint of :func:`im2col`: ``x`` (N, C, H, W) gets the sum of its patch entries (``+=`` with ``accumulate``)."""
    ho = (x.shape[2] + 2 * py - kh) // sy + 1
    wo = (x.shape[3] + 2 * px - kw) // sx + 1
    launch(_col2im, x.size, cols, kh, kw, sy, sx, py, px, ho, wo, bool(accumulate), x)
    return x


def swap01(a, bias, out):
    """``out[j, i, :] = a[i, j, :] + bias[i]`` on device arrays (``bias`` may be empty)."""
    launch(_swap01, out.size, a, bias, out)
    return out


def permute3(a, axes, out):
    """``out = a.transpose(axes)`` for a C-contiguous 3-D device array ``a``."""
    s = (a.shape[1] * a.shape[2], a.shape[2], 1)
    launch(_permute3, out.size, a.reshape(a.size), s[axes[0]], s[axes[1]], s[axes[2]], out)
    return out


def copy_channels(src, dst, offset, split=False):
    """Channel block copy between (N, C, L) device arrays: concat (``dst[:, offset:...] = src``) or split."""
    launch(_copy_channels, (dst if split else src).size, src, dst, int(offset), bool(split))
    return dst


def zero_pad_shortcut(x, sy, sx, before, out):
    """ResNet option A: subsample ``x`` by (sy, sx) into channels ``before..`` of ``out``, zeros elsewhere."""
    launch(_zero_pad_shortcut, out.size, x, sy, sx, before, out)
    return out


def zero_pad_shortcut_backward(g, sy, sx, before, dx):
    """Adjoint of :func:`zero_pad_shortcut` (writes every element of ``dx``)."""
    launch(_zero_pad_shortcut_backward, dx.size, g, sy, sx, before, dx)
    return dx


def global_avg_pool(x2, out):
    """``out[t] = mean(x2[t, :])`` for an (N*C, H*W) device array."""
    launch(_global_avg_pool, out.size, x2, x2.dtype.type(1.0 / x2.shape[1]), out)
    return out


def global_avg_pool_backward(g, dx2):
    """``dx2[t, :] = g[t] / (H*W)`` for (N*C,) gradients and an (N*C, H*W) output."""
    launch(_global_avg_pool_backward, dx2.size, g, dx2.dtype.type(1.0 / dx2.shape[1]), dx2)
    return dx2


def pool_backward(g, idx, kind, ph, pw, sy, sx, py, px, dx):
    """Gradient of max (``kind="max"``, argmax ``idx``) or average pooling, written into ``dx`` (no zeroing needed)."""
    launch(_pool_backward, dx.size, g, g if idx is None else idx, 0 if kind == "max" else 1, ph, pw, sy, sx, py, px, dx)
    return dx
