"""Tiled shared-memory GEMM for numba-cuda: ``C = op(A) @ op(B)`` (optionally ``C += ...``), batched.

Each block of 16 x 16 threads computes a 64 x 64 tile of C, stepping
through K in slices of 16 (2 x 2 threads and 16 x 16 tiles under the
simulator): the block stages a 64 x 16 slice of op(A) and a
16 x 64 slice of op(B) in shared memory (loads arranged so that
consecutive threads read consecutive addresses for either transpose flag),
then every thread accumulates a 4 x 4 register block (8 x 8 in the
simulator) whose rows and columns are a block side apart (so that a warp's shared-memory reads hit distinct banks or
broadcast). Tiles, and batch entries, are walked with grid-stride loops;
out-of-range rows, columns and K entries are guarded (zeros are staged), so
any shape works. The products are summed in K order in the arrays' dtype,
one float32 and one float64 variant (shared memory is typed at compile
time).

See Also
--------
v1sim.backend.matmul : the CPU's GEMM (BLAS).
"""

from __future__ import annotations

import numpy as np
from numba import cuda, float32, float64

from .common import SIMULATOR

# Under the simulator (a Python thread per CUDA thread, polled) the same code runs with
# 2 x 2 threads per block and 16 x 16 tiles, measured 6x faster there than 16 x 16 threads.
_T = 2 if SIMULATOR else 16  # threads per block side
_W = 8 if SIMULATOR else 4  # outputs per thread per side
_BM = _T * _W  # tile rows (and columns)
_BK = 16  # K slice per stage


def _make_gemm(dt):
    @cuda.jit(cache=not SIMULATOR)
    def gemm(a, b, c, trans_a, trans_b, accumulate):
        sa = cuda.shared.array((_BK, _BM + 1), dt)  # sa[k, m] = op(A)[m, k]; +1 column against bank conflicts
        sb = cuda.shared.array((_BK, _BM + 1), dt)  # sb[k, n] = op(B)[k, n]
        acc = cuda.local.array((_W, _W), dt)
        ra = cuda.local.array(_W, dt)
        rb = cuda.local.array(_W, dt)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        tid = ty * _T + tx
        m, n = c.shape[1], c.shape[2]
        kdim = a.shape[1] if trans_a else a.shape[2]
        tiles_m = (m + _BM - 1) // _BM
        tiles_n = (n + _BM - 1) // _BM
        for bt in range(cuda.blockIdx.z, c.shape[0], cuda.gridDim.z):
            for tm in range(cuda.blockIdx.y, tiles_m, cuda.gridDim.y):
                for tn in range(cuda.blockIdx.x, tiles_n, cuda.gridDim.x):
                    m0 = tm * _BM
                    n0 = tn * _BM
                    for i in range(_W):
                        for j in range(_W):
                            acc[i, j] = 0
                    for k0 in range(0, kdim, _BK):
                        for e in range(tid, _BK * _BM, _T * _T):
                            if trans_a:  # A stored (K, M): neighbours along m
                                kk = e // _BM
                                mm = e - kk * _BM
                            else:  # A stored (M, K): neighbours along k
                                mm = e // _BK
                                kk = e - mm * _BK
                            gm = m0 + mm
                            gk = k0 + kk
                            if gm < m and gk < kdim:
                                sa[kk, mm] = a[bt, gk, gm] if trans_a else a[bt, gm, gk]
                            else:
                                sa[kk, mm] = 0
                            if trans_b:  # B stored (N, K)
                                nn = e // _BK
                                kk = e - nn * _BK
                            else:  # B stored (K, N)
                                kk = e // _BM
                                nn = e - kk * _BM
                            gn = n0 + nn
                            gk = k0 + kk
                            if gn < n and gk < kdim:
                                sb[kk, nn] = b[bt, gn, gk] if trans_b else b[bt, gk, gn]
                            else:
                                sb[kk, nn] = 0
                        cuda.syncthreads()
                        for kk in range(_BK):
                            for i in range(_W):
                                ra[i] = sa[kk, ty + _T * i]
                            for j in range(_W):
                                rb[j] = sb[kk, tx + _T * j]
                            for i in range(_W):
                                for j in range(_W):
                                    acc[i, j] += ra[i] * rb[j]
                        cuda.syncthreads()
                    for i in range(_W):
                        gm = m0 + ty + _T * i
                        if gm < m:
                            for j in range(_W):
                                gn = n0 + tx + _T * j
                                if gn < n:
                                    if accumulate:
                                        c[bt, gm, gn] += acc[i, j]
                                    else:
                                        c[bt, gm, gn] = acc[i, j]

    return gemm


_GEMM = {np.dtype(np.float32): _make_gemm(float32), np.dtype(np.float64): _make_gemm(float64)}


def _as3(a):
    return a.reshape(1, *a.shape) if a.ndim == 2 else a


def gemm(a, b, c, trans_a=False, trans_b=False, accumulate=False):
    """``c = op(a) @ op(b)`` (``c += ...`` with ``accumulate``) on device arrays, in place.

    Parameters
    ----------
    a : (M, K) device array, or (K, M) with ``trans_a``; or a batch (B, ., .)
    b : (K, N) device array, or (N, K) with ``trans_b``; or a batch (B, ., .)
    c : (M, N) or (B, M, N) device array, same dtype (float32 or float64)
        The output, written in place. A batched product has B independent
        products (no broadcasting).
    trans_a, trans_b : bool
        Read ``a`` / ``b`` transposed (no copy is made).
    accumulate : bool
        Add the product into ``c`` instead of overwriting it.

    Raises
    ------
    ValueError
        For inner dimensions, output shapes or dtypes that do not match.
    """
    a3, b3, c3 = _as3(a), _as3(b), _as3(c)
    m, ka = (a3.shape[2], a3.shape[1]) if trans_a else (a3.shape[1], a3.shape[2])
    kb, n = (b3.shape[2], b3.shape[1]) if trans_b else (b3.shape[1], b3.shape[2])
    if ka != kb or c3.shape[1:] != (m, n) or not (a3.shape[0] == b3.shape[0] == c3.shape[0]):
        raise ValueError(
            f"gemm: op(a) {(a3.shape[0], m, ka)} @ op(b) {(b3.shape[0], kb, n)} does not give c of shape {c3.shape}"
        )
    dtype = np.dtype(c.dtype)
    if dtype not in _GEMM or a.dtype != dtype or b.dtype != dtype:
        raise ValueError(f"gemm: a, b and c must share a float32 or float64 dtype, got {a.dtype}, {b.dtype}, {c.dtype}")
    if m == 0 or n == 0:
        return c
    tiles_m, tiles_n = -(-m // _BM), -(-n // _BM)
    cap = 2 if SIMULATOR else 65535
    grid = (min(tiles_n, cap if SIMULATOR else 2**31 - 1), min(tiles_m, cap), min(c3.shape[0], cap))
    _GEMM[dtype][grid, (_T, _T)](a3, b3, c3, bool(trans_a), bool(trans_b), bool(accumulate))
    return c
