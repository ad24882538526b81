"""CUDA twins of :mod:`v1sim.nn.functional.linear` (tiled GEMM on the device)."""

from __future__ import annotations

import numpy as np

from ....kernels import cuda as kc
from ..common import check_bias_shape, check_cache
from ..linear import LinearCache, check_features
from .common import checked_grad, dev, result_dtype

__all__ = ["linear_backward", "linear_forward"]


def linear_forward(x, weight, bias=None):
    """CUDA twin of :func:`v1sim.nn.functional.linear.linear_forward`."""
    dtype = result_dtype(x, weight)
    x, w = dev(x, "x", 2, dtype), dev(weight, "weight", 2, dtype)
    check_features(x, w)
    out = kc.gemm(x, w, kc.empty((x.shape[0], w.shape[0]), dtype), trans_b=True)
    if bias is not None:
        b = dev(bias, "bias", 1, dtype)
        check_bias_shape(b, (w.shape[0],), "(F_out,)")
        kc.elementwise.add_tiled(out, b, out)
    return out, LinearCache(x, w, bias is not None, "cuda")


def linear_backward(grad_out, cache, *, input_grad=True):
    """CUDA twin of :func:`v1sim.nn.functional.linear.linear_backward`."""
    cache = check_cache(cache, LinearCache, "linear_forward")
    x, w, has_bias = cache.x, cache.w, cache.has_bias
    dtype = np.dtype(w.dtype)
    g = checked_grad(grad_out, (x.shape[0], w.shape[0]), dtype)
    dx = kc.gemm(g, w, kc.empty(x.shape, dtype)) if input_grad else None
    dw = kc.gemm(g, x, kc.empty(w.shape, dtype), trans_a=True)
    db = kc.norm.reduce(g.reshape(g.shape[0], g.shape[1], 1), kc.empty((w.shape[0],), dtype)) if has_bias else None
    return dx, dw, db
