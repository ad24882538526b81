"""CUDA twins of :mod:`v1sim.kernels.cpu.conv`: valid cross-correlation (one thread per output)."""

from __future__ import annotations

import numpy as np
from numba import cuda

from .common import launch_host, nchw

__all__ = ["correlate_valid", "correlate_valid_bank"]


@cuda.jit
def _correlate_valid(x, w, sy, sx, out):
    n_ch, kh, kw = w.shape[1], w.shape[2], w.shape[3]
    total = out.size
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for flat in range(start, total, step):
        n, k, oy, ox = nchw(flat, out.shape)
        acc = x[0, 0, 0, 0] - x[0, 0, 0, 0]  # a zero of x's dtype (inputs are finite)
        for c in range(n_ch):
            for u in range(kh):
                for v in range(kw):
                    acc += w[k, c, u, v] * x[n, c, oy * sy + u, ox * sx + v]
        out[n, k, oy, ox] = acc


def correlate_valid(x, w, sy, sx, out):
    """CUDA twin of :func:`v1sim.kernels.cpu.correlate_valid`."""
    launch_host(_correlate_valid, (out,), x, w, sy, sx, out)


def correlate_valid_bank(x, wt, sy, sx, out):
    """CUDA twin of :func:`v1sim.kernels.cpu.correlate_valid_bank` (weights (C, kh, kw, K))."""
    w = np.ascontiguousarray(np.moveaxis(np.asarray(wt), 3, 0)) if isinstance(wt, np.ndarray) else wt
    launch_host(_correlate_valid, (out,), x, w, sy, sx, out)
