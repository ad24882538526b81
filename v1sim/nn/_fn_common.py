"""Shared argument handling of the functional layer pairs (private)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._core.validate import as_float_array, check_positive_float, describe
from ..errors import InputError, InputTypeError

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _array(x, name, ndim) -> np.ndarray:
    """C-contiguous float32/float64 array of ``ndim`` dimensions (float arrays are not re-checked for NaN)."""
    if isinstance(x, np.ndarray) and x.dtype in _FLOATS:
        if x.ndim not in ((ndim,) if isinstance(ndim, int) else ndim):
            as_float_array(x, name, ndim=ndim, allow_nonfinite=True)  # raises the shared message
        return np.ascontiguousarray(x)
    return as_float_array(x, name, ndim=ndim)


def _grad(grad_out, shape, dtype) -> np.ndarray:
    g = _array(grad_out, "grad_out", len(shape))
    if g.shape != tuple(shape):
        raise InputError(f"grad_out must have the forward output's shape {tuple(shape)}, got {g.shape}",
                         argument="grad_out")  # fmt: skip
    return g.astype(dtype, copy=False)


def _host(device) -> str:
    """The CPU backend that stands in for kernels without a CUDA twin."""
    return "parallel" if device == "cuda" else device


def _check_cache(cache, kind: type, forward: str):
    """``cache`` if it is what ``forward`` returned (a ``kind``), else an InputTypeError naming ``cache``.

    Each forward pass returns its own cache type, so a backward pass handed another pass's cache (or
    anything else) is refused by name instead of failing on an attribute or an unpacking deep inside.
    """
    if not isinstance(cache, kind):
        raise InputTypeError(f"cache must be the cache returned by {forward}, got {describe(cache)}",
                             argument="cache")  # fmt: skip
    return cache


def _check_output_cache(cache, forward: str) -> np.ndarray:
    """The cache of the element-wise pairs whose cache is their float output array."""
    if not (isinstance(cache, np.ndarray) and cache.dtype in _FLOATS):
        raise InputTypeError(f"cache must be the cache returned by {forward} (its float output array), got "
                             f"{describe(cache)}", argument="cache")  # fmt: skip
    return cache


def _positive_in_dtype(value, name: str, dtype, *, allow_underflow: bool = False) -> float:
    """A positive float that stays positive and finite once rounded to ``dtype`` (the arithmetic's precision).

    ``k = 1e300`` or ``k = 1e-300`` pass a float64 check but become inf or 0 in float32 arithmetic, and the
    layer then returns NaN; they are refused here, by name, instead (``allow_underflow``: 0 is harmless).
    """
    v = check_positive_float(value, name)
    info = np.finfo(dtype)
    tiny, top = float(info.tiny), float(info.max)  # Python floats: comparing with a float32 scalar would cast v
    if v > top or (not allow_underflow and v < tiny):
        low = 0 if allow_underflow else tiny
        raise InputError(f"{name} must lie in ({low:.3g}, {top:.3g}] to be represented in the "
                         f"{np.dtype(dtype).name} arithmetic of this call, got {v:.3g}", argument=name)  # fmt: skip
    return v


class ConvCache(NamedTuple):
    """What :func:`conv2d_backward` needs from :func:`conv2d_forward`."""

    x_shape: tuple
    xp_shape: tuple
    cols: np.ndarray
    w: np.ndarray
    stride: tuple
    padding: tuple
    groups: int
    device: str
    has_bias: bool


class LocallyConnectedCache(NamedTuple):
    """What :func:`locally_connected2d_backward` needs from its forward pass."""

    x_shape: tuple
    xp_shape: tuple
    cols_t: np.ndarray
    w: np.ndarray
    stride: tuple
    padding: tuple
    device: str
    has_bias: bool


class LinearCache(NamedTuple):
    x: np.ndarray
    w: np.ndarray
    has_bias: bool


class TanhCache(NamedTuple):
    out: np.ndarray
    host: str  # the backward pass runs on the forward's backend


class PoolCache(NamedTuple):
    x_shape: tuple
    out_shape: tuple
    dtype: np.dtype
    idx: np.ndarray | None
    size: tuple
    stride: tuple
    padding: tuple
    kind: str
    device: str


class GlobalAvgPoolCache(NamedTuple):
    shape: tuple
    dtype: np.dtype


class LocalResponseNormCache(NamedTuple):
    x: np.ndarray
    scale: np.ndarray
    factor: np.ndarray
    size: int
    alpha: float
    beta: float


class BatchNormCache(NamedTuple):
    x: np.ndarray
    gamma: np.ndarray
    mean: np.ndarray
    invstd: np.ndarray
    training: bool
    host: str


class CrossEntropyCache(NamedTuple):
    probs: np.ndarray
    y: np.ndarray
