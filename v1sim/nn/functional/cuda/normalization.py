"""CUDA twins of :mod:`v1sim.nn.functional.normalization` (same checks, through the same functions, and caches).

Batch statistics are summed in float64 on the device (mean first, then the
squared deviations from it, as numpy's ``var``).
"""

from __future__ import annotations

import math

import numpy as np

from ....errors import InputError
from ....kernels import cuda as kc
from ..common import check_cache
from ..dispatch import is_device
from ..normalization import (
    BatchNormCache,
    LocalResponseNormCache,
    bn_eps,
    bn_flags,
    lrn_params,
)
from .common import checked_grad, dev, no_vector

__all__ = ["batch_norm_backward", "batch_norm_forward", "local_response_norm_backward", "local_response_norm_forward"]


def batch_norm_forward(x, gamma, beta, running_mean=None, running_var=None, *, training=True, momentum=0.1, eps=1e-5):
    """CUDA twin of :func:`v1sim.nn.functional.normalization.batch_norm_forward` (running buffers updated in place).

    Host running buffers are updated too (copied in, updated, copied back).
    """
    momentum = bn_flags(training, momentum)
    eps = bn_eps(eps, np.dtype(x.dtype) if hasattr(x, "dtype") else np.float32)
    x = dev(x, "x", (2, 4))
    dtype, shape = np.dtype(x.dtype), tuple(x.shape)
    n, c = shape[:2]
    x3 = x.reshape(n, c, math.prod(shape[2:]))  # explicit sizes: N may be 0
    gamma, beta = dev(gamma, "gamma", 1, dtype), dev(beta, "beta", 1, dtype)
    for name, a in (("gamma", gamma), ("beta", beta)):
        if tuple(a.shape) != (c,):
            raise InputError(
                f"{name} must have shape ({c},), one value per channel of x of shape {shape}, got {tuple(a.shape)}",
                argument=name,
            )
    count = n * math.prod(shape[2:])
    if training and count < 2:
        raise InputError(
            f"x: batch norm in training mode needs more than one value per channel (N*H*W >= 2), "
            f"got x of shape {shape}",
            argument="x",
        )
    if not training and (running_mean is None or running_var is None):
        name = "running_mean" if running_mean is None else "running_var"
        raise InputError(
            f"{name}: batch norm in evaluation mode needs running_mean and running_var, got None", argument=name
        )
    hosts = [(a, kc.to_device(a)) for a in (running_mean, running_var) if a is not None and not is_device(a)]
    moved = {id(h): d for h, d in hosts}
    rm = no_vector(dtype) if running_mean is None else moved.get(id(running_mean), running_mean)
    rv = no_vector(dtype) if running_var is None else moved.get(id(running_var), running_var)
    mean, invstd = kc.empty((c,), dtype), kc.empty((c,), dtype)
    total = deviation = no_vector(np.float64)
    if training:
        total = kc.norm.reduce(x3, kc.empty((c,), np.float64))
        deviation = kc.norm.reduce(
            x3, kc.empty((c,), np.float64), kc.norm.SUM_SQUARED_DEVIATION, shift=total, shift_scale=1.0 / count
        )
    kc.norm.bn_stats(total, deviation, count, training, momentum, eps, rm, rv, mean, invstd)
    for h, d in hosts:
        if training:
            d.copy_to_host(h)
    xhat, out = kc.empty(x3.shape, dtype), kc.empty(x3.shape, dtype)
    kc.norm.bn_forward(x3, mean, invstd, gamma, beta, xhat, out)
    return out.reshape(*shape), BatchNormCache(shape, None, gamma, None, invstd, training, "cuda", xhat)


def batch_norm_backward(grad_out, cache):
    """CUDA twin of :func:`v1sim.nn.functional.normalization.batch_norm_backward`: ``(dx, dgamma, dbeta)``."""
    cache = check_cache(cache, BatchNormCache, "batch_norm_forward")
    xhat, gamma, invstd, training, shape = cache.xhat, cache.gamma, cache.invstd, cache.training, cache.shape
    dtype = np.dtype(xhat.dtype)
    g3 = checked_grad(grad_out, shape, dtype).reshape(*xhat.shape)
    c = xhat.shape[1]
    dgamma = kc.norm.reduce(g3, kc.empty((c,), dtype), kc.norm.SUM_PRODUCT, b=xhat)
    dbeta = kc.norm.reduce(g3, kc.empty((c,), dtype))
    dx = kc.empty(xhat.shape, dtype)
    kc.norm.bn_backward(g3, xhat, gamma, invstd, dgamma, dbeta, training, dx)
    return dx.reshape(*shape), dgamma, dbeta


def local_response_norm_forward(x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    """CUDA twin of :func:`v1sim.nn.functional.normalization.local_response_norm_forward`."""
    x = dev(x, "x", 4)
    size, alpha, beta, k = lrn_params(x, size, alpha, beta, k)
    n, c, h, w = x.shape
    x3 = x.reshape(n, c, h * w)
    scale, factor, out = (kc.empty(x3.shape, x.dtype) for _ in range(3))
    kc.norm.lrn_forward(x3, size, alpha, beta, k, scale, factor, out)
    return out.reshape(n, c, h, w), LocalResponseNormCache(x, scale, factor, size, alpha, beta, "cuda")


def local_response_norm_backward(grad_out, cache):
    cache = check_cache(cache, LocalResponseNormCache, "local_response_norm_forward")
    x, scale, factor, size, alpha, beta = cache.x, cache.scale, cache.factor, cache.size, cache.alpha, cache.beta
    shape, x3 = tuple(x.shape), x.reshape(*scale.shape)
    g = checked_grad(grad_out, shape, x3.dtype)
    dx = kc.empty(x3.shape, x3.dtype)
    kc.norm.lrn_backward(g.reshape(*x3.shape), x3, scale, factor, size, alpha, beta, dx)
    return dx.reshape(*shape)
