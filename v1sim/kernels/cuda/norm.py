"""numba-cuda kernels for reductions, batch norm, local response norm and softmax cross-entropy.

:func:`reduce` sums a (A, B, C) device array over axes 0 and 2 (bias
gradients, batch-norm statistics): one block per output entry, each thread
summing a strided share in float64, then a shared-memory tree; the order of
the sums is fixed, so results do not vary between runs.

References
----------
.. [1] S. Ioffe, C. Szegedy, "Batch normalization", ICML 2015.
.. [2] A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet classification with
   deep convolutional neural networks", NIPS 2012 (LRN).
"""

from __future__ import annotations

import math

from numba import cuda, float32, float64

from .common import SIMULATOR, THREADS, launch, ncl

_jit = cuda.jit(cache=not SIMULATOR)
_RT = (
    2 if SIMULATOR else THREADS
)  # threads per reduction block (a power of two; few in the simulator, where syncthreads is slow)
SUM, SUM_PRODUCT, SUM_SQUARED_DEVIATION = 0, 1, 2


@_jit
def _reduce(a, b, shift, shift_scale, mode, out):
    buf = cuda.shared.array(_RT, float64)
    n_a, n_c = a.shape[0], a.shape[2]
    count = n_a * n_c
    tid = cuda.threadIdx.x
    for j in range(cuda.blockIdx.x, a.shape[1], cuda.gridDim.x):
        s = float64(0)
        for e in range(tid, count, _RT):
            i = e // n_c
            k = e - i * n_c
            v = float64(a[i, j, k])
            if mode == 1:
                v *= float64(b[i, j, k])
            elif mode == 2:
                v -= float64(shift[j]) * shift_scale
                v *= v
            s += v
        buf[tid] = s
        cuda.syncthreads()
        width = _RT // 2
        while width > 0:
            if tid < width:
                buf[tid] += buf[tid + width]
            cuda.syncthreads()
            width //= 2
        if tid == 0:
            out[j] = buf[0]
        cuda.syncthreads()


def reduce(a, out, mode=SUM, b=None, shift=None, shift_scale=1.0):
    """``out[j] = sum_{i,k} f(a[i, j, k])`` over a (A, B, C) device array, summed in float64.

    ``mode``: :data:`SUM` (``f = a``), :data:`SUM_PRODUCT` (``a * b``) or
    :data:`SUM_SQUARED_DEVIATION` (``(a - shift[j] * shift_scale)**2``; a
    sum as ``shift`` and 1/count as ``shift_scale`` centre on the mean).
    """
    grid = min(a.shape[1], 2 if SIMULATOR else 65535)
    _reduce[max(grid, 1), _RT](a, a if b is None else b, out if shift is None else shift, float(shift_scale), mode, out)
    return out


@_jit
def _bn_stats(total, deviation, count, training, momentum, eps, unbias, running_mean, running_var, mean, invstd):
    # per channel: batch or running statistics -> mean, 1/std; training also updates the running buffers
    for j in range(cuda.grid(1), mean.size, cuda.gridsize(1)):
        if training:
            m = total[j] / count
            var = deviation[j] / count
            mean[j] = m
            if running_mean.size > 0:
                running_mean[j] = running_mean[j] * (1 - momentum) + momentum * m
                running_var[j] = running_var[j] * (1 - momentum) + momentum * var * unbias
        else:
            mean[j] = running_mean[j]
            var = running_var[j]
        invstd[j] = 1 / math.sqrt(var + eps)


def bn_stats(total, deviation, count, training, momentum, eps, running_mean, running_var, mean, invstd):
    """Per-channel mean and ``1/sqrt(var + eps)`` from float64 sums (training) or the running buffers."""
    unbias = count / (count - 1) if count > 1 else 1.0
    launch(
        _bn_stats,
        mean.size,
        total,
        deviation,
        float(count),
        bool(training),
        float(momentum),
        float(eps),
        unbias,
        running_mean,
        running_var,
        mean,
        invstd,
    )


@_jit
def _bn_forward(x, mean, invstd, gamma, beta, xhat, out):
    n_ch, n_l = x.shape[1], x.shape[2]
    for t in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        n, c, l = ncl(t, n_ch, n_l)
        h = (x[n, c, l] - mean[c]) * invstd[c]
        xhat[n, c, l] = h
        out[n, c, l] = h * gamma[c] + beta[c]


def bn_forward(x3, mean, invstd, gamma, beta, xhat, out):
    """``xhat = (x - mean) * invstd``, ``out = xhat * gamma + beta`` per channel of (N, C, L) device arrays."""
    launch(_bn_forward, x3.size, x3, mean, invstd, gamma, beta, xhat, out)


@_jit
def _bn_backward(g, xhat, gamma, invstd, dgamma, dbeta, inv_count, training, dx):
    n_ch, n_l = g.shape[1], g.shape[2]
    for t in range(cuda.grid(1), g.size, cuda.gridsize(1)):
        n, c, l = ncl(t, n_ch, n_l)
        d = g[n, c, l]
        if training:  # the batch statistics depend on x
            d = d - dbeta[c] * inv_count - xhat[n, c, l] * dgamma[c] * inv_count
        dx[n, c, l] = d * gamma[c] * invstd[c]


def bn_backward(g3, xhat, gamma, invstd, dgamma, dbeta, training, dx):
    """Input gradient of batch norm from the parameter gradients ``dgamma``, ``dbeta`` (N, C, L) arrays."""
    count = g3.shape[0] * g3.shape[2]
    launch(
        _bn_backward, g3.size, g3, xhat, gamma, invstd, dgamma, dbeta, g3.dtype.type(1.0 / count), bool(training), dx
    )


@_jit
def _lrn_forward(x, size, alpha_n, beta, k, scale, factor, out):
    n_ch, n_l = x.shape[1], x.shape[2]
    lo, hi = size // 2, (size - 1) // 2
    for t in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        n, c, l = ncl(t, n_ch, n_l)
        s = x[n, c, l] * 0
        for cc in range(max(0, c - lo), min(n_ch, c + hi + 1)):
            v = x[n, cc, l]
            s += v * v
        sc = k + alpha_n * s
        f = sc**-beta
        scale[n, c, l] = sc
        factor[n, c, l] = f
        out[n, c, l] = x[n, c, l] * f


def lrn_forward(x3, size, alpha, beta, k, scale, factor, out):
    """Local response normalisation of (N, C, L) device arrays, keeping ``scale`` and ``factor`` for the gradient."""
    t = x3.dtype.type
    launch(_lrn_forward, x3.size, x3, size, t(alpha / size), t(beta), t(k), scale, factor, out)


@_jit
def _lrn_backward(g, x, scale, factor, size, coef, dx):
    # channel c is in the windows of c' in [c - (size-1)//2, c + size//2]
    n_ch, n_l = x.shape[1], x.shape[2]
    lo, hi = (size - 1) // 2, size // 2
    for t in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        n, c, l = ncl(t, n_ch, n_l)
        back = x[n, c, l] * 0
        for cc in range(max(0, c - lo), min(n_ch, c + hi + 1)):
            back += g[n, cc, l] * x[n, cc, l] * factor[n, cc, l] / scale[n, cc, l]
        dx[n, c, l] = g[n, c, l] * factor[n, c, l] - coef * x[n, c, l] * back


def lrn_backward(g3, x3, scale, factor, size, alpha, beta, dx):
    """Input gradient of :func:`lrn_forward`."""
    launch(_lrn_backward, x3.size, g3, x3, scale, factor, size, x3.dtype.type(2 * alpha * beta / size), dx)


@_jit
def _cross_entropy(z, y, probs, losses):
    n_k = z.shape[1]
    for n in range(cuda.grid(1), z.shape[0], cuda.gridsize(1)):
        top = z[n, 0]
        for k in range(1, n_k):
            top = max(top, z[n, k])
        s = z[n, 0] * 0
        for k in range(n_k):
            s += math.exp(z[n, k] - top)
        lse = math.log(s)
        for k in range(n_k):
            probs[n, k] = math.exp(z[n, k] - top - lse)
        losses[n] = lse - (z[n, y[n]] - top)


def cross_entropy(z, y, probs, losses):
    """Row-wise softmax ``probs`` and ``losses[n] = logsumexp(z[n]) - z[n, y[n]]`` (device arrays)."""
    launch(_cross_entropy, z.shape[0], z, y, probs, losses)


@_jit
def _cross_entropy_backward(probs, y, scale, d):
    n_k = probs.shape[1]
    for t in range(cuda.grid(1), probs.size, cuda.gridsize(1)):
        n = t // n_k
        k = t - n * n_k
        p = probs[n, k]
        if k == y[n]:
            p -= float32(1)
        d[n, k] = p * scale


def cross_entropy_backward(probs, y, scale, d):
    """``d = (probs - onehot(y)) * scale`` on device arrays."""
    launch(_cross_entropy_backward, probs.size, probs, y, probs.dtype.type(scale), d)
