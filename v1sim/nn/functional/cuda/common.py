"""Shared argument handling of the CUDA twins: device arrays in, checked once, in the arithmetic's dtype."""

from __future__ import annotations

import numpy as np

from ....errors import InputError, InputTypeError
from ....kernels import cuda as kc
from ..common import FLOATS, float_array
from ..dispatch import is_device

__all__ = ["checked_grad", "dev", "no_vector", "result_dtype"]

_NO_VECTOR = {}


def no_vector(dtype):
    """An empty device vector (the kernels' "no bias" / "no buffer"), one per dtype."""
    dtype = np.dtype(dtype)
    if dtype not in _NO_VECTOR:
        _NO_VECTOR[dtype] = kc.empty((0,), dtype)
    return _NO_VECTOR[dtype]


def dev(a, name, ndim, dtype=None):
    """``a`` as a C-contiguous float device array of ``ndim`` dimensions (host arrays checked, then copied once)."""
    if not is_device(a):
        a = kc.to_device(
            float_array(a, name, ndim) if dtype is None else float_array(a, name, ndim).astype(dtype, copy=False)
        )
    else:
        want = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if a.ndim not in want:
            raise InputError(
                f"{name} must have {' or '.join(map(str, want))} dimensions, got shape {tuple(a.shape)}", argument=name
            )
        if np.dtype(a.dtype) not in FLOATS:
            raise InputTypeError(f"{name} must be float32 or float64, got dtype {a.dtype}", argument=name)
        if not a.is_c_contiguous():
            raise InputError(f"{name} must be a C-contiguous device array", argument=name)
    if dtype is not None and np.dtype(a.dtype) != np.dtype(dtype):
        a = kc.elementwise.copy(a, kc.empty(a.shape, dtype))
    return a


def result_dtype(*arrays):
    return np.dtype(np.float64) if any(np.dtype(a.dtype) == np.float64 for a in arrays) else np.dtype(np.float32)


def checked_grad(grad_out, shape, dtype):
    g = dev(grad_out, "grad_out", len(shape), dtype)
    if tuple(g.shape) != tuple(shape):
        raise InputError(
            f"grad_out must have the forward output's shape {tuple(shape)}, got {tuple(g.shape)}", argument="grad_out"
        )
    return g
