"""The fully connected layer as a forward/backward pair (CUDA twin: :mod:`v1sim.nn.functional.cuda.linear`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..._core.validate import float_dtype
from ...backend import matmul
from ...errors import InputError
from .common import check_cache, checked_bias, checked_grad, float_array
from .dispatch import twin

__all__ = ["LinearCache", "linear_backward", "linear_forward"]


@dataclass(frozen=True, slots=True)
class LinearCache:
    """What :func:`linear_backward` needs from :func:`linear_forward` (on either device)."""

    x: np.ndarray
    w: np.ndarray
    has_bias: bool
    device: str = "cpu"  # "cuda" when x and w are device arrays


def check_features(x, w) -> None:
    """x (N, F_in) and weight (F_out, F_in) must agree on F_in (an InputError naming ``weight``)."""
    if x.shape[1] != w.shape[1]:
        raise InputError(
            f"weight of shape {tuple(w.shape)} expects {w.shape[1]} input features, x has {x.shape[1]} "
            f"(shape {tuple(x.shape)})",
            argument="weight",
        )


@twin
def linear_forward(x, weight, bias=None):
    """Fully connected layer ``out = x @ weight.T + bias``.

    Shape: x (N, F_in), weight (F_out, F_in), bias (F_out,) -> out (N, F_out).
    Runs on the GPU when x or weight is a device array.
    """
    x, w = float_array(x, "x", 2), float_array(weight, "weight", 2)
    check_features(x, w)
    dtype = float_dtype(x, w)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    b = checked_bias(bias, w.shape[0], dtype, "(F_out,)")
    out = matmul(x, w.T)
    if b is not None:
        out += b
    return out, LinearCache(x, w, b is not None)


@twin
def linear_backward(grad_out, cache, *, input_grad=True):
    """Gradients of :func:`linear_forward`: ``dx = g W`` (None if not ``input_grad``), ``dW = gᵀ x``, ``db = sum g``."""
    cache = check_cache(cache, LinearCache, "linear_forward")
    x, w = cache.x, cache.w
    g = checked_grad(grad_out, (x.shape[0], w.shape[0]), w.dtype)
    return (matmul(g, w) if input_grad else None), matmul(g.T, x), (g.sum(axis=0) if cache.has_bias else None)
