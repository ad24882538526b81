"""Shared argument handling of the functional layer pairs (private)."""

from __future__ import annotations

import numpy as np

from .._validate import as_float_array

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
        raise ValueError(f"grad_out must have the forward output's shape {tuple(shape)}, got {g.shape}")
    return g.astype(dtype, copy=False)


def _host(device) -> str:
    """The CPU backend that stands in for kernels without a CUDA twin."""
    return "parallel" if device == "cuda" else device
