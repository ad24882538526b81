"""CUDA twins of :mod:`v1sim.nn.functional.pooling` (same geometry checks and caches)."""

from __future__ import annotations

import numpy as np

from ....kernels import cuda as kc
from ....kernels.ops import pool_geometry
from ..common import check_cache
from ..pooling import GlobalAvgPoolCache, PoolCache, check_pool_cache
from .common import checked_grad, dev

__all__ = [
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "global_avg_pool2d_backward",
    "global_avg_pool2d_forward",
    "max_pool2d_backward",
    "max_pool2d_forward",
]


def _pool_forward(x, kernel_size, stride, padding, kind):
    """Max or average pooling of (N, C, H, W) on the device; max pooling keeps the argmax."""
    x = dev(x, "x", 4)
    size, stride, padding, out_hw = pool_geometry(tuple(x.shape), kernel_size, stride, padding)
    out = kc.empty(tuple(x.shape[:2]) + tuple(out_hw), x.dtype)
    idx = None
    if kind == "max":
        idx = kc.empty(out.shape, np.int32)
        kc.max_pool(x, *size, *stride, *padding, out, idx)
    else:
        kc.avg_pool(x, *size, *stride, *padding, out)
    return out, PoolCache(tuple(x.shape), tuple(out.shape), np.dtype(x.dtype), idx, size, stride, padding, kind, "cuda")


def _pool_backward(grad_out, cache, kind):
    c = check_pool_cache(cache, kind)
    g = checked_grad(grad_out, c.out_shape, c.dtype)
    return kc.layout.pool_backward(g, c.idx, c.kind, *c.size, *c.stride, *c.padding, kc.empty(c.x_shape, g.dtype))


def max_pool2d_forward(x, kernel_size, stride=None, padding=0, *, device="cuda"):
    """CUDA twin of :func:`v1sim.nn.functional.pooling.max_pool2d_forward`."""
    return _pool_forward(x, kernel_size, stride, padding, "max")


def max_pool2d_backward(grad_out, cache):
    return _pool_backward(grad_out, cache, "max")


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0, *, device="cuda"):
    """CUDA twin of :func:`v1sim.nn.functional.pooling.avg_pool2d_forward`."""
    return _pool_forward(x, kernel_size, stride, padding, "avg")


def avg_pool2d_backward(grad_out, cache):
    return _pool_backward(grad_out, cache, "avg")


def global_avg_pool2d_forward(x):
    """CUDA twin of :func:`v1sim.nn.functional.pooling.global_avg_pool2d_forward`."""
    x = dev(x, "x", 4)
    n, c, h, w = x.shape
    out = kc.empty((n, c), x.dtype)
    kc.layout.global_avg_pool(x.reshape(n * c, h * w), out.reshape(n * c))
    return out, GlobalAvgPoolCache(tuple(x.shape), np.dtype(x.dtype), "cuda")


def global_avg_pool2d_backward(grad_out, cache):
    shape = check_cache(cache, GlobalAvgPoolCache, "global_avg_pool2d_forward").shape
    n, c, h, w = shape
    g = dev(grad_out, "grad_out", 2)
    g = checked_grad(g, (n, c), g.dtype)
    dx = kc.empty(shape, g.dtype)
    kc.layout.global_avg_pool_backward(g.reshape(n * c), dx.reshape(n * c, h * w))
    return dx
