"""Shared argument handling of the functional layer pairs (CPU and CUDA)."""

from __future__ import annotations

import numpy as np

from ..._core.validate import as_float_array, check_positive_float, describe
from ...errors import InputError, InputTypeError

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def float_array(x, name, ndim) -> np.ndarray:
    """C-contiguous float32/float64 array of ``ndim`` dimensions (float arrays are not re-checked for NaN)."""
    if isinstance(x, np.ndarray) and x.dtype in FLOATS:
        if x.ndim not in ((ndim,) if isinstance(ndim, int) else ndim):
            as_float_array(x, name, ndim=ndim, allow_nonfinite=True)  # raises the shared message
        return np.ascontiguousarray(x)
    return as_float_array(x, name, ndim=ndim)


def checked_grad(grad_out, shape, dtype) -> np.ndarray:
    g = float_array(grad_out, "grad_out", len(shape))
    if g.shape != tuple(shape):
        raise InputError(
            f"grad_out must have the forward output's shape {tuple(shape)}, got {g.shape}", argument="grad_out"
        )
    return g.astype(dtype, copy=False)


def host_backend(device) -> str:
    """The CPU backend that stands in for kernels without a CUDA twin."""
    return "parallel" if device == "cuda" else device


def check_cache(cache, kind: type, forward: str):
    """``cache`` if it is what ``forward`` returned (a ``kind``), else an InputTypeError naming ``cache``.

    Each forward pass returns its own cache type, so a backward pass handed another pass's cache (or
    anything else) is refused by name instead of failing on an attribute or an unpacking deep inside.
    """
    if not isinstance(cache, kind):
        raise InputTypeError(f"cache must be the cache returned by {forward}, got {describe(cache)}", argument="cache")
    return cache


def check_output_cache(cache, forward: str) -> np.ndarray:
    """The cache of the element-wise pairs whose cache is their float output array."""
    if not (isinstance(cache, np.ndarray) and cache.dtype in FLOATS):
        raise InputTypeError(
            f"cache must be the cache returned by {forward} (its float output array), got {describe(cache)}",
            argument="cache",
        )
    return cache


def positive_in_dtype(value, name: str, dtype, *, allow_underflow: bool = False) -> float:
    """A positive float that stays positive and finite once rounded to ``dtype`` (the arithmetic's precision).

    ``k = 1e300`` or ``k = 1e-300`` pass a float64 check but become inf or 0 in float32 arithmetic, and the
    layer then returns NaN; they are refused here, by name, instead (``allow_underflow``: 0 is harmless).
    """
    v = check_positive_float(value, name)
    info = np.finfo(dtype)
    tiny, top = float(info.tiny), float(info.max)  # Python floats: comparing with a float32 scalar would cast v
    if v > top or (not allow_underflow and v < tiny):
        low = 0 if allow_underflow else tiny
        raise InputError(
            f"{name} must lie in ({low:.3g}, {top:.3g}] to be represented in the "
            f"{np.dtype(dtype).name} arithmetic of this call, got {v:.3g}",
            argument=name,
        )
    return v


def check_bias_shape(b, want, shape_name):
    """The shape check of :func:`checked_bias` for arrays already on the device (or None)."""
    if b is not None and tuple(b.shape) != tuple(want):
        raise InputError(f"bias must have shape {tuple(want)} {shape_name}, got {tuple(b.shape)}", argument="bias")


def checked_bias(value, n_out, dtype, shape_name="(K,)"):
    """A checked bias of shape ``n_out`` (an int or a shape) cast to ``dtype``, or None."""
    if value is None:
        return None
    b = float_array(value, "bias", 1 if isinstance(n_out, int) else len(n_out))
    want = (n_out,) if isinstance(n_out, int) else tuple(n_out)
    if b.shape != want:
        raise InputError(f"bias must have shape {want} {shape_name}, got {b.shape}", argument="bias")
    return b.astype(dtype, copy=False)
