"""CUDA twins of :mod:`v1sim.kernels.cpu.pool`: max, average and L2 pooling and their gradients."""

from __future__ import annotations

import math

from numba import cuda, float64

from .common import launch_host, nchw

__all__ = ["avg_pool", "avg_pool_backward", "l2_pool", "max_pool", "max_pool_backward"]


@cuda.jit
def _max_pool(x, ph, pw, sy, sx, py, px, out, idx):
    h, w = x.shape[2], x.shape[3]
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for flat in range(start, out.size, step):
        n, c, oy, ox = nchw(flat, out.shape)
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
    launch_host(_max_pool, (out, idx), x, ph, pw, sy, sx, py, px, out, idx)


@cuda.jit
def _window_pool(x, ph, pw, sy, sx, py, px, square, out):
    # square=0: average (zero padding counted), summed in x's dtype; square=1: L2 energy, squared and summed in
    # float64 as the CPU twin (float32 squares flush below 1e-19 and overflow above 1.8e19)
    h, w = x.shape[2], x.shape[3]
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for flat in range(start, out.size, step):
        n, c, oy, ox = nchw(flat, out.shape)
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
    launch_host(_window_pool, (out,), x, ph, pw, sy, sx, py, px, 0, out)


def l2_pool(x, ph, pw, sy, sx, py, px, out):
    """CUDA twin of :func:`v1sim.kernels.cpu.l2_pool`."""
    launch_host(_window_pool, (out,), x, ph, pw, sy, sx, py, px, 1, out)


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
    launch_host(_max_pool_backward, (grad_in,), grad_out, idx, grad_in, n=grad_out.shape[0] * grad_out.shape[1])


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
    launch_host(
        _avg_pool_backward,
        (grad_in,),
        grad_out,
        ph,
        pw,
        sy,
        sx,
        py,
        px,
        grad_in,
        n=grad_out.shape[0] * grad_out.shape[1],
    )
