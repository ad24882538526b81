"""Slow, obvious references for the kernel layer (the test oracle).

Written with explicit Python loops over every output element and plain
numpy, independent of v1sim, so that a test comparing a kernel against one
of these compares two unrelated implementations. Conventions follow the
kernels: NCHW arrays, weights (K, C, kh, kw), cross-correlation (no flip),
output size ``(H + 2P - F) // S + 1``.
"""

from __future__ import annotations

import numpy as np


def out_len(n: int, f: int, s: int = 1, p: int = 0) -> int:
    """Number of window positions: count them instead of using the formula."""
    count = 0
    start = -p
    while start + f <= n + p:
        count += 1
        start += s
    return count


def pad_zeros(x, py, px):
    """Zero-pad the last two axes of (N, C, H, W) by py rows and px columns on each side."""
    n, c, h, w = x.shape
    out = np.zeros((n, c, h + 2 * py, w + 2 * px), dtype=x.dtype)
    out[:, :, py : py + h, px : px + w] = x
    return out


def correlate(x, w, stride=(1, 1), padding=(0, 0), bias=None):
    """Valid cross-correlation (after zero padding): (N,C,H,W) x (K,C,kh,kw) -> (N,K,Ho,Wo).

    out[n,k,i,j] = bias[k] + sum_{c,u,v} w[k,c,u,v] * xpad[n,c,i*sy+u,j*sx+v], summed in float64.
    """
    sy, sx = stride
    xp = pad_zeros(np.asarray(x, dtype=np.float64), *padding)
    w = np.asarray(w, dtype=np.float64)
    n_img, n_ch, hp, wp = xp.shape
    n_k, _, kh, kw = w.shape
    ho, wo = out_len(hp, kh, sy), out_len(wp, kw, sx)
    out = np.zeros((n_img, n_k, ho, wo))
    for n in range(n_img):
        for k in range(n_k):
            for i in range(ho):
                for j in range(wo):
                    s = 0.0 if bias is None else float(bias[k])
                    for c in range(n_ch):
                        for u in range(kh):
                            for v in range(kw):
                                s += w[k, c, u, v] * xp[n, c, i * sy + u, j * sx + v]
                    out[n, k, i, j] = s
    return out


def im2col(x, kh, kw, sy, sx):
    """cols[(c*kh + u)*kw + v, n, i*Wo + j] = x[n, c, i*sy + u, j*sx + v] (channel-major)."""
    n_img, n_ch, h, w = x.shape
    ho, wo = out_len(h, kh, sy), out_len(w, kw, sx)
    cols = np.zeros((n_ch * kh * kw, n_img, ho * wo), dtype=x.dtype)
    for n in range(n_img):
        for c in range(n_ch):
            for u in range(kh):
                for v in range(kw):
                    for i in range(ho):
                        for j in range(wo):
                            cols[(c * kh + u) * kw + v, n, i * wo + j] = x[n, c, i * sy + u, j * sx + v]
    return cols


def col2im(cols, x_shape, kh, kw, sy, sx):
    """Scatter-add: x[n, c, i*sy + u, j*sx + v] += cols[(c*kh + u)*kw + v, n, i*Wo + j]."""
    n_img, n_ch, h, w = x_shape
    ho, wo = out_len(h, kh, sy), out_len(w, kw, sx)
    x = np.zeros(x_shape, dtype=np.float64)
    for n in range(n_img):
        for c in range(n_ch):
            for u in range(kh):
                for v in range(kw):
                    for i in range(ho):
                        for j in range(wo):
                            x[n, c, i * sy + u, j * sx + v] += cols[(c * kh + u) * kw + v, n, i * wo + j]
    return x


def spectral_mac(image_spec, bank_spec):
    """out[k, i, j] = sum_c image_spec[c, i, j] * bank_spec[k, c, i, j] (complex)."""
    n_k, n_ch, rows, cols = bank_spec.shape
    out = np.zeros((n_k, rows, cols), dtype=np.complex128)
    for k in range(n_k):
        for i in range(rows):
            for j in range(cols):
                for c in range(n_ch):
                    out[k, i, j] += complex(image_spec[c, i, j]) * complex(bank_spec[k, c, i, j])
    return out


def _windows(h, w, size, stride, padding):
    """Yield (i, j, rows, cols) for each pooling window; rows/cols index the *padded* plane."""
    (ph, pw), (sy, sx), (py, px) = size, stride, padding
    for i in range(out_len(h, ph, sy, py)):
        for j in range(out_len(w, pw, sx, px)):
            yield i, j, range(i * sy, i * sy + ph), range(j * sx, j * sx + pw)


def pool(x, size, stride, padding, kind):
    """Max/avg/L2 pooling of (N, C, H, W); returns (out, argmax) with argmax = y*W + x (max only).

    Max pads with -inf (never chosen) and keeps the first maximum in row-major
    window order; avg and L2 pad with zeros and avg divides by ph*pw.
    """
    x = np.asarray(x, dtype=np.float64)
    n_img, n_ch, h, w = x.shape
    (ph, pw), (py, px) = size, padding
    fill = -np.inf if kind == "max" else 0.0
    xp = np.full((n_img, n_ch, h + 2 * py, w + 2 * px), fill)
    xp[:, :, py : py + h, px : px + w] = x
    ho, wo = out_len(h, ph, stride[0], py), out_len(w, pw, stride[1], px)
    out = np.zeros((n_img, n_ch, ho, wo))
    arg = np.full((n_img, n_ch, ho, wo), -1, dtype=np.int64)
    for n in range(n_img):
        for c in range(n_ch):
            for i, j, rows, cols in _windows(h, w, size, stride, padding):
                if kind == "max":
                    best, where = -np.inf, -1
                    for yy in rows:
                        for xx in cols:
                            if xp[n, c, yy, xx] > best:
                                best, where = xp[n, c, yy, xx], (yy - py) * w + (xx - px)
                    out[n, c, i, j], arg[n, c, i, j] = best, where
                elif kind == "avg":
                    out[n, c, i, j] = sum(xp[n, c, yy, xx] for yy in rows for xx in cols) / (ph * pw)
                elif kind == "l2":
                    out[n, c, i, j] = np.sqrt(sum(xp[n, c, yy, xx] ** 2 for yy in rows for xx in cols))
                else:
                    raise ValueError(kind)
    return out, arg


def max_pool_backward(grad_out, x, size, stride, padding):
    """d(sum(grad_out * maxpool(x)))/dx: each output gradient goes to its window's first maximum."""
    _, arg = pool(x, size, stride, padding, "max")
    n_img, n_ch, h, w = x.shape
    g = np.zeros((n_img, n_ch, h, w))
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(arg.shape[2]):
                for j in range(arg.shape[3]):
                    a = arg[n, c, i, j]
                    g[n, c, a // w, a % w] += grad_out[n, c, i, j]
    return g


def avg_pool_backward(grad_out, x_shape, size, stride, padding):
    """d(sum(grad_out * avgpool(x)))/dx: each output gradient spread as g/(ph*pw) over in-image pixels."""
    n_img, n_ch, h, w = x_shape
    (ph, pw), (py, px) = size, padding
    g = np.zeros(x_shape)
    for n in range(n_img):
        for c in range(n_ch):
            for i, j, rows, cols in _windows(h, w, size, stride, padding):
                for yy in rows:
                    for xx in cols:
                        y, xq = yy - py, xx - px
                        if 0 <= y < h and 0 <= xq < w:
                            g[n, c, y, xq] += grad_out[n, c, i, j] / (ph * pw)
    return g


def assert_grad(analytic, f, array, rng, name="", *, h=1e-6, tol=1e-6, max_entries=60):
    """Compare ``analytic`` with float64 central differences of scalar ``f()`` w.r.t. ``array``.

    ``array`` is perturbed in place (and restored) at up to ``max_entries``
    entries drawn by ``rng``; the relative error, scaled by the largest
    gradient entry, must not exceed ``tol``.
    """
    flat = array.reshape(-1)
    idx = np.arange(flat.size) if flat.size <= max_entries else rng.choice(flat.size, max_entries, replace=False)
    num = np.empty(len(idx))
    for j, i in enumerate(idx):
        orig = flat[i]
        flat[i] = orig + h
        fp = f()
        flat[i] = orig - h
        fm = f()
        flat[i] = orig
        num[j] = (fp - fm) / (2 * h)
    got = np.asarray(analytic, dtype=np.float64).reshape(-1)[idx]
    scale = max(np.max(np.abs(num)), np.max(np.abs(got)), 1e-12)
    err = np.max(np.abs(got - num)) / scale
    assert err <= tol, f"{name}: relative error {err:.2e} > {tol} (scale {scale:.3g})"
