"""Pooling as forward/backward pairs over the pooling kernels (CUDA twins: :mod:`v1sim.nn.functional.cuda.pooling`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InputTypeError
from ...kernels.ops import pool, pool_backward, pool_geometry
from .common import check_cache, checked_grad, float_array
from .dispatch import twin

__all__ = [
    "GlobalAvgPoolCache",
    "PoolCache",
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "check_pool_cache",
    "global_avg_pool2d_backward",
    "global_avg_pool2d_forward",
    "max_pool2d_backward",
    "max_pool2d_forward",
]


@dataclass(frozen=True, slots=True)
class PoolCache:
    """What a pooling backward pass needs from its forward pass (on either device)."""

    x_shape: tuple
    out_shape: tuple
    dtype: np.dtype
    idx: np.ndarray | None  # int32 argmax of max pooling
    size: tuple
    stride: tuple
    padding: tuple
    kind: str  # "max" or "avg"
    device: str


@dataclass(frozen=True, slots=True)
class GlobalAvgPoolCache:
    shape: tuple
    dtype: np.dtype
    device: str = "cpu"


def check_pool_cache(cache, kind) -> PoolCache:
    """``cache`` if it came from ``{kind}_pool2d_forward``, else an InputTypeError naming ``cache``."""
    forward = f"{kind}_pool2d_forward"
    cache = check_cache(cache, PoolCache, forward)
    if cache.kind != kind:
        raise InputTypeError(
            f"cache must be the cache returned by {forward}, got one from {cache.kind}_pool2d_forward", argument="cache"
        )
    return cache


def _pool_forward(x, kernel_size, stride, padding, kind, device):
    x = float_array(x, "x", 4)
    size, stride, padding, out_hw = pool_geometry(x.shape, kernel_size, stride, padding)
    out, idx = pool(x, size, stride, padding, out_hw, kind, kind == "max", device)
    return out, PoolCache(x.shape, out.shape, x.dtype, idx, size, stride, padding, kind, device)


def _pool_backward_from_cache(grad_out, cache, kind):
    c = check_pool_cache(cache, kind)
    g = checked_grad(grad_out, c.out_shape, c.dtype)
    return pool_backward(g, c.x_shape, c.size, c.stride, c.padding, c.kind, c.idx, c.device)


@twin
def max_pool2d_forward(x, kernel_size, stride=None, padding=0, *, device="auto"):
    """Max pooling of (N, C, H, W) on the pooling kernels; remembers each window's argmax.

    ``H2 = (H + 2P - F) // S + 1``; ``stride`` defaults to ``kernel_size``;
    padding counts as -inf. Ties go to the first maximum.
    """
    return _pool_forward(x, kernel_size, stride, padding, "max", device)


@twin
def max_pool2d_backward(grad_out, cache):
    """Gradient of :func:`max_pool2d_forward`: ``grad_out`` routed to each window's argmax (InputTypeError for a
    ``cache`` from any other forward pass)."""
    return _pool_backward_from_cache(grad_out, cache, "max")


@twin
def avg_pool2d_forward(x, kernel_size, stride=None, padding=0, *, device="auto"):
    """Average pooling (zero padding counts in the divisor F*F, as PyTorch's default)."""
    return _pool_forward(x, kernel_size, stride, padding, "avg", device)


@twin
def avg_pool2d_backward(grad_out, cache):
    """Gradient of :func:`avg_pool2d_forward`: ``grad_out / F*F`` spread over each window."""
    return _pool_backward_from_cache(grad_out, cache, "avg")


@twin
def global_avg_pool2d_forward(x):
    """Mean over each whole map: (N, C, H, W) -> (N, C) (Network-in-Network, GoogLeNet, ResNet)."""
    x = float_array(x, "x", 4)
    return x.mean(axis=(2, 3)), GlobalAvgPoolCache(x.shape, x.dtype)


@twin
def global_avg_pool2d_backward(grad_out, cache):
    cache = check_cache(cache, GlobalAvgPoolCache, "global_avg_pool2d_forward")
    shape, dtype = cache.shape, cache.dtype
    g = checked_grad(grad_out, shape[:2], dtype) / (shape[2] * shape[3])
    return np.ascontiguousarray(np.broadcast_to(g[:, :, None, None], shape))
