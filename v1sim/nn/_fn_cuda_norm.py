"""CUDA twins of the normalisation, dropout and softmax cross-entropy pairs (private).

See :mod:`v1sim.nn._fn_cuda`; the CPU pairs live in :mod:`v1sim.nn._fn_norm_loss`.
Batch statistics are summed in float64 on the device (mean first, then the
squared deviations from it, as numpy's ``var``).
"""

from __future__ import annotations

import math

import numpy as np

from ..kernels import cuda as kc
from ._device import DeviceCache, is_device, to_device
from ._fn_cuda import _grad, dev
from ._fn_cuda import _none as _empty_vector


def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum, eps):
    """CUDA twin of :func:`v1sim.nn.functional.batch_norm_forward` (running buffers updated in place).

    Host running buffers are updated too (copied in, updated, copied back).
    """
    x = dev(x, "x", (2, 4))
    dtype, shape = np.dtype(x.dtype), tuple(x.shape)
    n, c = shape[:2]
    x3 = x.reshape(n, c, math.prod(shape[2:]))  # explicit sizes: N may be 0
    gamma, beta = dev(gamma, "gamma", 1, dtype), dev(beta, "beta", 1, dtype)
    if tuple(gamma.shape) != (c,) or tuple(beta.shape) != (c,):
        raise ValueError(f"gamma and beta must have shape ({c},) for x of shape {shape}, got {tuple(gamma.shape)} and {tuple(beta.shape)}")
    count = n * math.prod(shape[2:])
    if training and count < 2:
        raise ValueError(f"batch norm in training mode needs more than one value per channel, got x of shape {shape}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch norm in evaluation mode needs running_mean and running_var")
    hosts = [(a, to_device(a)) for a in (running_mean, running_var) if a is not None and not is_device(a)]
    moved = {id(h): d for h, d in hosts}
    rm = _empty_vector(dtype) if running_mean is None else moved.get(id(running_mean), running_mean)
    rv = _empty_vector(dtype) if running_var is None else moved.get(id(running_var), running_var)
    mean, invstd = kc.empty((c,), dtype), kc.empty((c,), dtype)
    total = deviation = _empty_vector(np.float64)
    if training:
        total = kc.norm.reduce(x3, kc.empty((c,), np.float64))
        deviation = kc.norm.reduce(x3, kc.empty((c,), np.float64), kc.norm.SUM_SQUARED_DEVIATION, shift=total,
                                   shift_scale=1.0 / count)  # fmt: skip
    kc.norm.bn_stats(total, deviation, count, training, momentum, eps, rm, rv, mean, invstd)
    for h, d in hosts:
        if training:
            d.copy_to_host(h)
    xhat, out = kc.empty(x3.shape, dtype), kc.empty(x3.shape, dtype)
    kc.norm.bn_forward(x3, mean, invstd, gamma, beta, xhat, out)
    return out.reshape(*shape), DeviceCache((xhat, gamma, invstd, training, shape))


def batch_norm_backward(grad_out, cache):
    """CUDA twin of :func:`v1sim.nn.functional.batch_norm_backward`: ``(dx, dgamma, dbeta)``."""
    xhat, gamma, invstd, training, shape = cache
    dtype = np.dtype(xhat.dtype)
    g3 = _grad(grad_out, shape, dtype).reshape(*xhat.shape)
    c = xhat.shape[1]
    dgamma = kc.norm.reduce(g3, kc.empty((c,), dtype), kc.norm.SUM_PRODUCT, b=xhat)
    dbeta = kc.norm.reduce(g3, kc.empty((c,), dtype))
    dx = kc.empty(xhat.shape, dtype)
    kc.norm.bn_backward(g3, xhat, gamma, invstd, dgamma, dbeta, training, dx)
    return dx.reshape(*shape), dgamma, dbeta


def local_response_norm_forward(x, size, alpha, beta, k):
    """CUDA twin of :func:`v1sim.nn.functional.local_response_norm_forward`."""
    x = dev(x, "x", 4)
    n, c, h, w = x.shape
    x3 = x.reshape(n, c, h * w)
    scale, factor, out = (kc.empty(x3.shape, x.dtype) for _ in range(3))
    kc.norm.lrn_forward(x3, size, alpha, beta, k, scale, factor, out)
    return out.reshape(n, c, h, w), DeviceCache((x3, scale, factor, size, alpha, beta, tuple(x.shape)))


def local_response_norm_backward(grad_out, cache):
    x3, scale, factor, size, alpha, beta, shape = cache
    g = _grad(grad_out, shape, x3.dtype)
    dx = kc.empty(x3.shape, x3.dtype)
    kc.norm.lrn_backward(g.reshape(*x3.shape), x3, scale, factor, size, alpha, beta, dx)
    return dx.reshape(*shape)


def dropout_forward(x, p, keep):
    """Apply a host-drawn keep mask (bool, x's shape) on the device: ``x * keep / (1 - p)``.

    The mask is drawn on the host from the layer's generator, exactly as on
    the CPU, so the two devices drop the same units and the generator's
    state (saved in checkpoints) means the same thing on both.
    """
    x = dev(x, "x", range(1, 7))
    scale = np.dtype(x.dtype).type(1) / np.dtype(x.dtype).type(1 - p)
    keep_d = to_device(np.ascontiguousarray(keep).view(np.uint8))
    out = kc.elementwise.dropout(x, keep_d, scale, kc.empty(x.shape, x.dtype))
    return out, DeviceCache((keep_d, scale))


def dropout_backward(grad_out, cache):
    keep_d, scale = cache
    g = dev(grad_out, "grad_out", range(1, 7))
    if tuple(g.shape) != tuple(keep_d.shape):
        raise ValueError(f"grad_out must have the forward output's shape {tuple(keep_d.shape)}, got {tuple(g.shape)}")
    return kc.elementwise.dropout(g, keep_d, scale, kc.empty(g.shape, g.dtype))


def cross_entropy_forward(logits, y):
    """CUDA twin of :func:`v1sim.nn.functional.cross_entropy_forward` (``y`` checked int labels on the host).

    Only the per-row losses come back to the host (N numbers) for the mean.
    """
    z = dev(logits, "logits", 2)
    probs, losses = kc.empty(z.shape, z.dtype), kc.empty((z.shape[0],), z.dtype)
    y_d = to_device(np.ascontiguousarray(y, dtype=np.int64))
    kc.norm.cross_entropy(z, y_d, probs, losses)
    per_row = losses.copy_to_host()
    if not np.isfinite(per_row).all():
        raise ValueError("logits must be finite (no NaN or inf); the device computed a non-finite softmax cross-entropy")
    return float(per_row.astype(np.float64).mean()), DeviceCache((probs, y_d))


def cross_entropy_backward(cache, grad):
    probs, y_d = cache
    d = kc.empty(probs.shape, probs.dtype)
    kc.norm.cross_entropy_backward(probs, y_d, grad / probs.shape[0], d)
    return d
