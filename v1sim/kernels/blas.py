"""BLAS's matrix product called from inside Numba kernels: no Python between the products of a loop.

A convolution computed as many small products (:mod:`v1sim.kernels.conv_shifted`: nine per block for a 3x3
kernel, each accumulating into the last) spends more in Python's dispatch of ``np.matmul`` than in the
products when they are small, and ``np.matmul`` can neither accumulate (``beta = 1``) nor read a matrix
whose rows are a shifted window of a longer buffer. This module hands a Numba kernel the address of the
Fortran ``?gemm`` of the BLAS numpy itself runs (the OpenBLAS bundled in numpy's wheels, found through
threadpoolctl), or else scipy's (``scipy.linalg.cython_blas``, present in every scipy build).

The function pointer is a kernel *argument* (:func:`routines`), never a global of the compiled code, so
Numba's on-disk cache keeps the kernels that use it. Callers limit BLAS to one thread per call
(:func:`v1sim.backend.blas_threads`) and run their own tasks on v1sim's threads.
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np
from numba import njit

__all__ = ["Routines", "gemm", "routines"]

_PROTOTYPE = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * 13))  # Fortran ?gemm: every argument by address
_N, _T = 78, 84  # 'N', 'T'


class Routines:
    """``sgemm``/``dgemm`` function pointers and the integer type of their dimensions (``int32``, or ``int64``
    for an ILP64 BLAS), with the library they came from."""

    def __init__(self, sgemm, dgemm, int_type, library: str):
        self.sgemm, self.dgemm, self.int_type, self.library = sgemm, dgemm, int_type, library

    def for_dtype(self, dtype):
        """The ``?gemm`` for float32 or float64 arrays."""
        return self.sgemm if np.dtype(dtype) == np.float32 else self.dgemm

    def scratch(self, threads: int = 1) -> np.ndarray:
        """Integer buffers :func:`gemm` passes its dimensions through, one row per calling thread."""
        return np.empty((threads, 6), self.int_type)


def _numpy_openblas():
    """numpy's bundled OpenBLAS (ILP64, symbols prefixed ``scipy_`` and suffixed ``64_``), or None."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return None
    for info in threadpool_info():
        path = info.get("filepath") or ""
        if info.get("internal_api") == "openblas" and "numpy" in path:
            try:
                lib = ctypes.CDLL(path)
                return lib.scipy_sgemm_64_, lib.scipy_dgemm_64_, path
            except (OSError, AttributeError):
                return None
    return None


@functools.cache
def routines() -> Routines:
    """The ``?gemm`` kernels will call: numpy's own BLAS if its symbols are found, else scipy's."""
    found = _numpy_openblas()
    if found is not None:
        s, d, path = found
        as_fn = lambda f: _PROTOTYPE(ctypes.cast(f, ctypes.c_void_p).value)  # noqa: E731
        return Routines(as_fn(s), as_fn(d), np.int64, path)
    from numba.extending import get_cython_function_address

    s, d = (_PROTOTYPE(get_cython_function_address("scipy.linalg.cython_blas", n)) for n in ("sgemm", "dgemm"))
    return Routines(s, d, np.int32, "scipy.linalg.cython_blas")


@njit(cache=True, nogil=True)
def gemm(fn, ints, trans_a, trans_b, alpha, a, b, beta, c):
    """``c = alpha * op(a) @ op(b) + beta * c`` for row-major 2-D views with unit column stride.

    ``op(a)`` is ``a.T`` when ``trans_a``. The views may be windows of larger buffers (their row stride is
    BLAS's leading dimension). ``fn`` is :meth:`Routines.for_dtype`'s pointer, ``ints`` a
    :meth:`Routines.scratch` row. Column-major BLAS computes ``cᵀ = op(b)ᵀ op(a)ᵀ``: the operands
    swap, the transposition flags carry over.
    """
    m, n = c.shape
    k = a.shape[0] if trans_a else a.shape[1]
    size = a.itemsize
    ints[0], ints[1], ints[2] = n, m, k
    ints[3], ints[4], ints[5] = b.strides[0] // size, a.strides[0] // size, c.strides[0] // size
    scal = np.empty(2, c.dtype)
    scal[0], scal[1] = alpha, beta
    flags = np.empty(2, np.uint8)
    flags[0] = _T if trans_b else _N
    flags[1] = _T if trans_a else _N
    fn(
        flags[0:].ctypes.data,
        flags[1:].ctypes.data,
        ints[0:].ctypes.data,
        ints[1:].ctypes.data,
        ints[2:].ctypes.data,
        scal[0:].ctypes.data,
        b.ctypes.data,
        ints[3:].ctypes.data,
        a.ctypes.data,
        ints[4:].ctypes.data,
        scal[1:].ctypes.data,
        c.ctypes.data,
        ints[5:].ctypes.data,
    )
