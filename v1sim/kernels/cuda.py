"""numba-cuda twins of the CPU kernels, with the same signatures.

:data:`KERNELS` (the registry behind :func:`v1sim.kernels.get`) holds the
twins of CPU kernels: each takes host (numpy) or device arrays exactly as its
CPU twin in :mod:`v1sim.kernels.cpu` does, writes into the given output, and
copies results back when the output is a host array (device arrays stay on
the device). The ConvNet engine's device-only launchers live in small
modules re-exported here: :func:`gemm` (tiled shared-memory GEMM,
``_cuda_gemm``), :mod:`elementwise` (activations, sums, dropout, fused SGD),
:mod:`layout` (im2col/col2im, axis swaps, channel concat/split, pooling
gradients) and :mod:`norm` (reductions, batch norm, LRN, softmax
cross-entropy). One thread computes one
output element; grid-stride loops cover any size, so odd shapes exercise
partial tail blocks. float32 constants are typed so float32 work stays in
float32.

Import this module only when ``device="cuda"`` is resolved: importing
``numba.cuda`` is slow and fails where numba-cuda is absent. Under
``NUMBA_ENABLE_CUDASIM=1`` the kernels run in Numba's simulator (slow;
tests use small shapes).

See Also
--------
v1sim.kernels.cpu : the CPU twins and reference semantics.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda, float64

from . import _cuda_elementwise as elementwise
from . import _cuda_gemm as gemm_module
from . import _cuda_layout as layout
from . import _cuda_norm as norm
from ._cuda_common import THREADS as _THREADS, blocks as _blocks, empty, is_device, nchw as _nchw, to_device

_to_device = to_device

gemm = gemm_module.gemm

__all__ = ["KERNELS", "gemm", "elementwise", "layout", "norm", "empty", "is_device", "to_device"]


def _launch(kernel, out_arrays, *args, n=None):
    """Move host arrays to the device, launch over ``n`` (default out_arrays[0].size) items, copy host outputs back.

    Device arrays pass through untouched (and results stay on the device).
    """
    dev_args = []
    host_outs = []
    for a in args:
        if isinstance(a, np.ndarray):
            d = _to_device(a)
            dev_args.append(d)
            if any(a is o for o in out_arrays):
                host_outs.append((a, d))
        else:
            dev_args.append(a)
    n = out_arrays[0].size if n is None else n
    kernel[_blocks(n), _THREADS](*dev_args)
    for host, dev in host_outs:
        dev.copy_to_host(host)


@cuda.jit
def _correlate_valid(x, w, sy, sx, out):
    n_ch, kh, kw = w.shape[1], w.shape[2], w.shape[3]
    total = out.size
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for flat in range(start, total, step):
        n, k, oy, ox = _nchw(flat, out.shape)
        acc = x[0, 0, 0, 0] - x[0, 0, 0, 0]  # a zero of x's dtype (inputs are finite)
        for c in range(n_ch):
            for u in range(kh):
                for v in range(kw):
                    acc += w[k, c, u, v] * x[n, c, oy * sy + u, ox * sx + v]
        out[n, k, oy, ox] = acc


def correlate_valid(x, w, sy, sx, out):
    """CUDA twin of :func:`v1sim.kernels.cpu.correlate_valid`."""
    _launch(_correlate_valid, (out,), x, w, sy, sx, out)


def correlate_valid_bank(x, wt, sy, sx, out):
    """CUDA twin of :func:`v1sim.kernels.cpu.correlate_valid_bank` (weights (C, kh, kw, K))."""
    w = np.ascontiguousarray(np.moveaxis(np.asarray(wt), 3, 0)) if isinstance(wt, np.ndarray) else wt
    _launch(_correlate_valid, (out,), x, w, sy, sx, out)


@cuda.jit
def _max_pool(x, ph, pw, sy, sx, py, px, out, idx):
    h, w = x.shape[2], x.shape[3]
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for flat in range(start, out.size, step):
        n, c, oy, ox = _nchw(flat, out.shape)
        y0 = oy * sy - py
        x0 = ox * sx - px
        ya = max(y0, 0)
        xa = max(x0, 0)
        best = x[n, c, ya, xa]
        arg = ya * w + xa
        for yy in range(ya, min(y0 + ph, h)):
            for xx in range(xa, min(x0 + pw, w)):
                v = x[n, c, yy, xx]
                if v > best:
                    best = v
                    arg = yy * w + xx
        out[n, c, oy, ox] = best
        idx[n, c, oy, ox] = arg


def max_pool(x, ph, pw, sy, sx, py, px, out, idx):
    """CUDA twin of :func:`v1sim.kernels.cpu.max_pool`."""
    _launch(_max_pool, (out, idx), x, ph, pw, sy, sx, py, px, out, idx)


@cuda.jit
def _window_pool(x, ph, pw, sy, sx, py, px, square, out):
    # square=0: average (zero padding counted), summed in x's dtype; square=1: L2 energy, squared and summed in
    # float64 as the CPU twin (float32 squares flush below 1e-19 and overflow above 1.8e19)
    h, w = x.shape[2], x.shape[3]
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for flat in range(start, out.size, step):
        n, c, oy, ox = _nchw(flat, out.shape)
        y0 = oy * sy - py
        x0 = ox * sx - px
        if square:
            e = 0.0  # float64
            for yy in range(max(y0, 0), min(y0 + ph, h)):
                for xx in range(max(x0, 0), min(x0 + pw, w)):
                    v = float64(x[n, c, yy, xx])
                    e += v * v
            out[n, c, oy, ox] = math.sqrt(e)
        else:
            s = x[0, 0, 0, 0] - x[0, 0, 0, 0]  # a zero of x's dtype (inputs are finite)
            for yy in range(max(y0, 0), min(y0 + ph, h)):
                for xx in range(max(x0, 0), min(x0 + pw, w)):
                    s += x[n, c, yy, xx]
            out[n, c, oy, ox] = s / (ph * pw)


def avg_pool(x, ph, pw, sy, sx, py, px, out):
    """CUDA twin of :func:`v1sim.kernels.cpu.avg_pool`."""
    _launch(_window_pool, (out,), x, ph, pw, sy, sx, py, px, 0, out)


def l2_pool(x, ph, pw, sy, sx, py, px, out):
    """CUDA twin of :func:`v1sim.kernels.cpu.l2_pool`."""
    _launch(_window_pool, (out,), x, ph, pw, sy, sx, py, px, 1, out)


@cuda.jit
def _max_pool_backward(grad_out, idx, grad_in):
    # One thread per (n, c) plane: overlapping windows add into the same
    # input pixel, so a plane is owned by one thread (no atomics needed).
    n_ch = grad_out.shape[1]
    ho, wo = grad_out.shape[2], grad_out.shape[3]
    w = grad_in.shape[3]
    planes = grad_out.shape[0] * n_ch
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for t in range(start, planes, step):
        n = t // n_ch
        c = t % n_ch
        for oy in range(ho):
            for ox in range(wo):
                a = idx[n, c, oy, ox]
                grad_in[n, c, a // w, a % w] += grad_out[n, c, oy, ox]


def max_pool_backward(grad_out, idx, grad_in):
    """CUDA twin of :func:`v1sim.kernels.cpu.max_pool_backward`."""
    _launch(_max_pool_backward, (grad_in,), grad_out, idx, grad_in, n=grad_out.shape[0] * grad_out.shape[1])


@cuda.jit
def _avg_pool_backward(grad_out, ph, pw, sy, sx, py, px, grad_in):
    # One thread per (n, c) plane, as in _max_pool_backward.
    n_ch, h, w = grad_in.shape[1], grad_in.shape[2], grad_in.shape[3]
    ho, wo = grad_out.shape[2], grad_out.shape[3]
    planes = grad_out.shape[0] * n_ch
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for t in range(start, planes, step):
        n = t // n_ch
        c = t % n_ch
        for oy in range(ho):
            y0 = oy * sy - py
            for ox in range(wo):
                x0 = ox * sx - px
                g = grad_out[n, c, oy, ox] / (ph * pw)
                for yy in range(max(y0, 0), min(y0 + ph, h)):
                    for xx in range(max(x0, 0), min(x0 + pw, w)):
                        grad_in[n, c, yy, xx] += g


def avg_pool_backward(grad_out, ph, pw, sy, sx, py, px, grad_in):
    """CUDA twin of :func:`v1sim.kernels.cpu.avg_pool_backward`."""
    _launch(_avg_pool_backward, (grad_in,), grad_out, ph, pw, sy, sx, py, px, grad_in,
            n=grad_out.shape[0] * grad_out.shape[1])


# --------------------------------------------------------------------------
# twins of the CPU's ConvNet kernels (host or device arrays, CPU signatures)
# --------------------------------------------------------------------------


def _host_call(fn, outs, *args):
    """Run the device launcher ``fn`` on ``args``, moving host arrays in and host outputs back."""
    dev = [_to_device(a) if isinstance(a, np.ndarray) else a for a in args]
    fn(*dev)
    for a, d in zip(args, dev):
        if any(a is o for o in outs) and d is not a:
            d.copy_to_host(a)


def im2col(x, kh, kw, sy, sx, cols):
    """CUDA twin of :func:`v1sim.kernels.cpu.im2col` (x already padded)."""
    _host_call(lambda x, cols: layout.im2col(x, kh, kw, sy, sx, 0, 0, cols), (cols,), x, cols)


def col2im(cols, kh, kw, sy, sx, x):
    """CUDA twin of :func:`v1sim.kernels.cpu.col2im` (adds into the zeroed, padded x)."""
    _host_call(lambda cols, x: layout.col2im(cols, kh, kw, sy, sx, 0, 0, x, accumulate=True), (x,), cols, x)


def swap01(a, bias, out):
    """CUDA twin of :func:`v1sim.kernels.cpu.swap01`."""
    _host_call(layout.swap01, (out,), a, bias, out)


def tanh_float32(x, out):
    """CUDA twin of :func:`v1sim.kernels.cpu.tanh_float32` (flat arrays; CUDA's tanhf, within 4e-7 of it)."""
    _host_call(elementwise.tanh, (out,), x, out)


def tanh_backward(grad_out, y, grad_in):
    """CUDA twin of :func:`v1sim.kernels.cpu.tanh_backward` (flat arrays)."""
    _host_call(elementwise.tanh_backward, (grad_in,), grad_out, y, grad_in)


KERNELS = {
    "avg_pool_backward": avg_pool_backward,
    "correlate_valid": correlate_valid,
    "correlate_valid_bank": correlate_valid_bank,
    "max_pool": max_pool,
    "avg_pool": avg_pool,
    "l2_pool": l2_pool,
    "max_pool_backward": max_pool_backward,
    "im2col": im2col,
    "col2im": col2im,
    "swap01": swap01,
    "tanh_float32": tanh_float32,
    "tanh_backward": tanh_backward,
}
