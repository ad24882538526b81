"""CUDA twins of :mod:`v1sim.nn.functional.conv`: the same im2col + GEMM scheme on numba-cuda kernels.

im2col into channel-major patches, one GEMM per group for the whole batch,
a swap of the two leading axes with the bias added on the way, and a
gathering col2im for the input gradient (no padded copies: the patch
kernels read and write through the zero padding). Same arguments, results
and caches as the CPU pairs; geometry is checked by the same functions.
"""

from __future__ import annotations

import numpy as np

from ....kernels import cuda as kc
from ..common import check_bias_shape, check_cache, checked_bias
from ..conv import (
    ConvCache,
    LocallyConnectedCache,
    conv_geometry,
    locally_connected_geometry,
)
from ..dispatch import is_device
from .common import checked_grad, dev, no_vector, result_dtype

__all__ = ["conv2d_backward", "conv2d_forward", "locally_connected2d_backward", "locally_connected2d_forward"]


def _device_bias(bias, shape, dtype, shape_name):
    b = checked_bias(bias, shape, dtype, shape_name) if bias is not None and not is_device(bias) else bias
    check_bias_shape(b, (shape,) if isinstance(shape, int) else shape, shape_name)
    return b


def conv2d_forward(x, weight, bias=None, stride=1, padding=0, groups=1, *, device="cuda"):
    """CUDA twin of :func:`v1sim.nn.functional.conv.conv2d_forward`."""
    x, w = dev(x, "x", 4), dev(weight, "weight", 4)
    stride, padding, groups, ho, wo = conv_geometry(x, w, stride, padding, groups)
    b = _device_bias(bias, w.shape[0], x.dtype, "(K,)")
    dtype = result_dtype(x, w)
    x, w = dev(x, "x", 4, dtype), dev(w, "weight", 4, dtype)
    b = None if b is None else dev(b, "bias", 1, dtype)
    (n, c, _, _), (k, cg, kh, kw) = x.shape, w.shape
    r, nl, kg, rg = c * kh * kw, n * ho * wo, k // groups, cg * kh * kw
    cols = kc.layout.im2col(x, kh, kw, *stride, *padding, kc.empty((r, n, ho * wo), dtype))
    cols_m, w_m, out_t = cols.reshape(r, nl), w.reshape(k, rg), kc.empty((k, nl), dtype)
    for g in range(groups):
        kc.gemm(w_m[g * kg : (g + 1) * kg], cols_m[g * rg : (g + 1) * rg], out_t[g * kg : (g + 1) * kg])
    out = kc.layout.swap01(
        out_t.reshape(k, n, ho * wo), no_vector(dtype) if b is None else b, kc.empty((n, k, ho * wo), dtype)
    )
    return out.reshape(n, k, ho, wo), ConvCache(tuple(x.shape), cols, w, stride, padding, groups, "cuda", b is not None)


def conv2d_backward(grad_out, cache, *, input_grad=True):
    """CUDA twin of :func:`v1sim.nn.functional.conv.conv2d_backward`: ``(dx or None, dw, db or None)``."""
    cache = check_cache(cache, ConvCache, "conv2d_forward")
    x_shape, cols, w, stride, padding, groups, has_bias = (
        cache.x_shape,
        cache.cols,
        cache.w,
        cache.stride,
        cache.padding,
        cache.groups,
        cache.has_bias,
    )
    (n, c, h, wd), (k, cg, kh, kw) = x_shape, w.shape
    ho, wo = (h + 2 * padding[0] - kh) // stride[0] + 1, (wd + 2 * padding[1] - kw) // stride[1] + 1
    dtype, nl, kg, rg, r = np.dtype(w.dtype), n * ho * wo, k // groups, cg * kh * kw, c * kh * kw
    g = checked_grad(grad_out, (n, k, ho, wo), dtype)
    go = kc.layout.swap01(g.reshape(n, k, ho * wo), no_vector(dtype), kc.empty((k, n, ho * wo), dtype)).reshape(k, nl)
    cols_m, w_m = cols.reshape(r, nl), w.reshape(k, rg)
    dw = kc.empty((k, rg), dtype)
    dcols = kc.empty((r, nl), dtype) if input_grad else None
    for i in range(groups):
        gk, gr = slice(i * kg, (i + 1) * kg), slice(i * rg, (i + 1) * rg)
        kc.gemm(go[gk], cols_m[gr], dw[gk], trans_b=True)
        if input_grad:
            kc.gemm(w_m[gk], go[gk], dcols[gr], trans_a=True)
    dx = None
    if input_grad:
        dx = kc.layout.col2im(dcols.reshape(r, n, ho * wo), kh, kw, *stride, *padding, kc.empty(x_shape, dtype))
    db = kc.norm.reduce(go.reshape(1, k, nl), kc.empty((k,), dtype)) if has_bias else None
    return dx, dw.reshape(*w.shape), db


def locally_connected2d_forward(x, weight, bias=None, stride=1, padding=0, *, device="cuda"):
    """CUDA twin of :func:`v1sim.nn.functional.conv.locally_connected2d_forward`."""
    x, w = dev(x, "x", 4), dev(weight, "weight", 6)
    stride, padding = locally_connected_geometry(x, w, stride, padding)
    ho, wo, k = w.shape[:3]
    b = _device_bias(bias, (k, ho, wo), x.dtype, "(K, H2, W2)")
    dtype = result_dtype(x, w)
    x, w = dev(x, "x", 4, dtype), dev(w, "weight", 6, dtype)
    b = None if b is None else dev(b, "bias", 3, dtype)
    (n, c, _, _), (ho, wo, k, _, kh, kw) = x.shape, w.shape
    r, l = c * kh * kw, ho * wo
    cols = kc.layout.im2col(x, kh, kw, *stride, *padding, kc.empty((r, n, l), dtype))
    cols_t = kc.layout.permute3(cols, (2, 0, 1), kc.empty((l, r, n), dtype))  # (L, R, N)
    out_t = kc.gemm(w.reshape(l, k, r), cols_t, kc.empty((l, k, n), dtype))  # (L, K, N)
    out = kc.layout.permute3(out_t, (2, 1, 0), kc.empty((n, k, l), dtype))
    if b is not None:
        kc.elementwise.add_tiled(out, b, out)
    return out.reshape(n, k, ho, wo), LocallyConnectedCache(
        tuple(x.shape), cols_t, w, stride, padding, "cuda", b is not None
    )


def locally_connected2d_backward(grad_out, cache, *, input_grad=True):
    """CUDA twin of :func:`v1sim.nn.functional.conv.locally_connected2d_backward`."""
    cache = check_cache(cache, LocallyConnectedCache, "locally_connected2d_forward")
    x_shape, cols_t, w, stride, padding, has_bias = (
        cache.x_shape,
        cache.cols_t,
        cache.w,
        cache.stride,
        cache.padding,
        cache.has_bias,
    )
    ho, wo, k, c, kh, kw = w.shape
    n, l, r, dtype = x_shape[0], ho * wo, cols_t.shape[1], np.dtype(w.dtype)
    g = checked_grad(grad_out, (n, k, ho, wo), dtype)
    go_t = kc.layout.permute3(g.reshape(n, k, l), (2, 1, 0), kc.empty((l, k, n), dtype))
    dw = kc.gemm(go_t, cols_t, kc.empty((l, k, r), dtype), trans_b=True)
    dx = None
    if input_grad:
        dcols_t = kc.gemm(w.reshape(l, k, r), go_t, kc.empty((l, r, n), dtype), trans_a=True)
        dcols = kc.layout.permute3(dcols_t, (1, 2, 0), kc.empty((r, n, l), dtype))
        dx = kc.layout.col2im(dcols, kh, kw, *stride, *padding, kc.empty(x_shape, dtype))
    db = None
    if has_bias:
        db = kc.norm.reduce(g.reshape(n, k * l, 1), kc.empty((k * l,), dtype)).reshape(k, ho, wo)
    return dx, dw.reshape(*w.shape), db
