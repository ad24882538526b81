"""Normalisation, dropout and softmax cross-entropy as forward/backward pairs.

Part of :mod:`v1sim.nn.functional` (re-exported there; import them from there).
Each pair runs on the GPU (:mod:`v1sim.nn._fn_cuda_norm`) when its input is
a device array; the backward pass follows its forward pass.
"""

from __future__ import annotations

import math

import numpy as np

from .. import kernels
from .._core.validate import (
    as_array,
    as_float_array,
    check_axis,
    check_finite_float,
    check_in_range,
    check_positive_float,
    check_positive_int,
    check_rng,
    describe,
)
from ..backend import resolve_device
from ..errors import InputError, InputTypeError
from . import _device as _dev
from ._device import DeviceCache
from ._fn_common import (
    _FLOATS,
    BatchNormCache,
    CrossEntropyCache,
    LocalResponseNormCache,
    _array,
    _check_cache,
    _check_output_cache,
    _grad,
    _host,
    _positive_in_dtype,
)


def _cuda():
    """:mod:`v1sim.nn._fn_cuda_norm` (imports numba.cuda on first use)."""
    import importlib

    return importlib.import_module("v1sim.nn._fn_cuda_norm")

# --------------------------------------------------------------------------
# normalisation and dropout
# --------------------------------------------------------------------------


def _window_sum(a, before, after):
    """``s[:, c] = sum_{c'=c-before}^{c+after} a[:, c']`` over the channel axis, clipped at its ends."""
    s = a.copy()
    n_ch = a.shape[1]
    for d in range(1, min(after, n_ch - 1) + 1):
        s[:, : n_ch - d] += a[:, d:]
    for d in range(1, min(before, n_ch - 1) + 1):
        s[:, d:] += a[:, : n_ch - d]
    return s


def local_response_norm_forward(x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    """Local response normalisation across channels (AlexNet [2]_).

    ``b_c = a_c / (k + alpha/n * sum_{c' near c} a_{c'}^2)^beta`` over the
    ``n = size`` channels ``c - n//2 .. c + (n-1)//2`` (clipped at the ends);
    the ``alpha/n`` scaling is PyTorch's (the paper writes ``alpha``, so its
    ``alpha = 1e-4`` corresponds to ``alpha = 5e-4`` here).

    Shape: (N, C, H, W) -> (N, C, H, W).

    Raises
    ------
    InputError
        For a ``size`` that is not a positive integer, or ``alpha``, ``beta``, ``k`` that are not positive or that
        the float32/float64 arithmetic cannot hold: ``k`` and ``alpha`` must be finite (and ``k`` above 0) in
        x's dtype, and so must ``k**-beta``, the largest factor an input can be multiplied by.
    """
    x = x if _dev.is_device(x) else _array(x, "x", 4)
    size = check_positive_int(size, "size")
    dtype = np.dtype(x.dtype)
    k = _positive_in_dtype(k, "k", dtype)
    alpha = _positive_in_dtype(alpha, "alpha", dtype, allow_underflow=True)
    beta = check_positive_float(beta, "beta")
    if beta * -math.log(k) >= math.log(np.finfo(dtype).max):  # k < 1 and a large beta: the factor overflows
        raise InputError(f"beta: k**-beta = {k:.3g}**-{beta:.3g}, the largest factor an input is multiplied by, "
                         f"overflows {dtype.name}; use a smaller beta or a k nearer 1", argument="beta")  # fmt: skip
    if _dev.is_device(x):
        return _cuda().local_response_norm_forward(x, size, alpha, beta, k)
    scale = k + (alpha / size) * _window_sum(x * x, size // 2, (size - 1) // 2)
    factor = scale**-beta
    return x * factor, LocalResponseNormCache(x, scale, factor, size, alpha, beta)


def local_response_norm_backward(grad_out, cache):
    if type(cache) is DeviceCache:
        return _cuda().local_response_norm_backward(grad_out, cache)
    x, scale, factor, size, alpha, beta = _check_cache(cache, LocalResponseNormCache, "local_response_norm_forward")
    g = _grad(grad_out, x.shape, x.dtype)
    # channel c' appears in the sums of the channels c with c' in window(c): the transposed window
    back = _window_sum(g * x * factor / scale, (size - 1) // 2, size // 2)
    return g * factor - (2 * alpha * beta / size) * x * back


def _running(buffer, name, n_ch, update) -> np.ndarray | None:
    """A running-statistics buffer: a float (C,) array, which training updates in place (so not a copy)."""
    if buffer is None or _dev.is_device(buffer):
        return buffer
    if not update:
        arr = _array(buffer, name, 1)
    elif isinstance(buffer, np.ndarray) and buffer.dtype in _FLOATS and buffer.flags.writeable:
        arr = buffer
    else:
        raise InputTypeError(f"{name} must be a writable float32 or float64 array (training updates it in place), "
                             f"got {describe(buffer)}", argument=name)  # fmt: skip
    if arr.shape != (n_ch,):
        raise InputError(f"{name} must have shape ({n_ch},), one value per channel, got shape {arr.shape}",
                         argument=name)  # fmt: skip
    return arr


def _eps(value, dtype) -> float:
    """``eps`` of batch norm: 0 or more (as PyTorch), and finite in the arithmetic's dtype."""
    return check_in_range(value, "eps", 0.0, float(np.finfo(dtype).max))


def batch_norm_forward(x, gamma, beta, running_mean=None, running_var=None, *, training=True, momentum=0.1, eps=1e-5):
    """Batch normalisation [3]_ per channel of (N, C, H, W) or per feature of (N, C).

    Training: normalise with the batch mean and (biased) variance over N, H,
    W, and, when running buffers are given, update them **in place**:
    ``running = (1 - momentum) * running + momentum * batch`` (the running
    variance takes the unbiased batch variance). Evaluation: normalise with
    the running statistics. Then scale by ``gamma`` and shift by ``beta``.
    The statistics are float64 sums over two passes (mean, then deviations), so
    they stay exact when the mean dwarfs the spread; float64 outputs are centred
    before they are scaled, so they lose no more than the mean's own rounding.

    Parameters
    ----------
    x : (N, C, H, W) or (N, C) ndarray
        An empty batch (N = 0) gives an empty output in evaluation mode.
    gamma, beta : (C,) ndarray
    running_mean, running_var : (C,) float ndarray, optional
        Required in evaluation mode; updated in place in training mode.
    training : bool
    momentum : float in [0, 1]
    eps : float >= 0
        Added to the variance (0 is allowed, as in PyTorch); must be finite in x's dtype.

    Returns
    -------
    out : ndarray, same shape as x
    cache : BatchNormCache

    Raises
    ------
    InputError
        Training mode with fewer than two values per channel (``x``, as PyTorch), evaluation mode without
        running statistics, shapes that do not match C, or ``momentum``/``eps`` out of range.
    InputTypeError
        Non-float running buffers in training mode, or ``training`` that is not a bool.
    """
    if not isinstance(training, (bool, np.bool_)):
        raise InputTypeError(f"training must be True or False, got {describe(training)}", argument="training")
    momentum = check_in_range(momentum, "momentum", 0.0, 1.0)
    if _dev.any_device(x, gamma, running_mean):
        eps = _eps(eps, np.dtype(x.dtype) if hasattr(x, "dtype") else np.float32)
        return _cuda().batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum, eps)
    x = _array(x, "x", (2, 4))
    eps = _eps(eps, x.dtype)
    n, n_ch = x.shape[:2]
    gamma, beta = _array(gamma, "gamma", 1), _array(beta, "beta", 1)
    for name, a in (("gamma", gamma), ("beta", beta)):
        if a.shape != (n_ch,):
            raise InputError(f"{name} must have shape ({n_ch},), one value per channel of x of shape {x.shape}, "
                             f"got {a.shape}", argument=name)  # fmt: skip
    running_mean = _running(running_mean, "running_mean", n_ch, training)
    running_var = _running(running_var, "running_var", n_ch, training)
    per_map = math.prod(x.shape[2:])
    count = n * per_map  # values per channel
    host = _host(resolve_device("auto"))
    x3 = x.reshape(n, n_ch, per_map)  # (N, C, L): the kernels' view of both layouts (explicit: N may be 0)
    if training:
        if count < 2:
            raise InputError(f"x: batch norm in training mode needs more than one value per channel (N*H*W >= 2), "
                             f"got x of shape {x.shape}", argument="x")  # fmt: skip
        mean, var = np.empty(n_ch), np.empty(n_ch)
        kernels.get("bn_stats", host)(x3, mean, var)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += momentum * var * (count / (count - 1))
    else:
        if running_mean is None or running_var is None:
            name = "running_mean" if running_mean is None else "running_var"
            raise InputError(f"{name}: batch norm in evaluation mode needs running_mean and running_var, got None",
                             argument=name)  # fmt: skip
        mean, var = running_mean.astype(np.float64), running_var.astype(np.float64)
    invstd = 1.0 / np.sqrt(var + eps)
    scale = gamma * invstd  # out = xhat * gamma + beta = x * scale + shift
    out = np.empty_like(x)
    out3 = out.reshape(x3.shape)
    affine = kernels.get("bn_affine", host)
    if x.dtype == np.float64:
        # two passes, (x - mean) first: the folded x * scale + shift rounds at x's magnitude, ~1e-10 of the
        # spread at an offset of 1e6 (as PyTorch); float32 keeps one pass, its input is rounded that coarsely anyway
        affine(x3, np.ones(n_ch), -mean, out3)
        affine(out3, scale, beta.astype(np.float64), out3)
    else:
        affine(x3, scale, beta - mean * scale, out3)
    return out, BatchNormCache(x, gamma, mean, invstd, training, host)


def batch_norm_backward(grad_out, cache):
    """Gradients of :func:`batch_norm_forward`: ``(dx, dgamma, dbeta)``.

    In training mode the batch statistics depend on x:
    ``dx = invstd/M (M dxhat - sum dxhat - xhat sum(dxhat xhat))`` with
    ``dxhat = grad_out * gamma`` and M values per channel.
    """
    if type(cache) is DeviceCache:
        return _cuda().batch_norm_backward(grad_out, cache)
    x, gamma, mean, invstd, training, host = _check_cache(cache, BatchNormCache, "batch_norm_forward")
    g = _grad(grad_out, x.shape, x.dtype)
    n, n_ch = x.shape[:2]
    per_map = math.prod(x.shape[2:])
    x3, g3 = x.reshape(n, n_ch, per_map), g.reshape(n, n_ch, per_map)
    sum_g, sum_gxhat = np.empty(n_ch), np.empty(n_ch)
    kernels.get("bn_backward_sums", host)(g3, x3, mean, invstd, sum_g, sum_gxhat)
    count = n * per_map
    means = np.stack([sum_g, sum_gxhat]) / count if training else np.zeros((2, n_ch))  # eval: constant statistics
    dx = np.empty_like(x)
    kernels.get("bn_backward_dx", host)(g3, x3, mean, invstd, gamma * invstd, means, dx.reshape(x3.shape))
    return dx, sum_gxhat.astype(x.dtype), sum_g.astype(x.dtype)


def dropout_forward(x, p, *, training=True, rng=None):
    """Inverted dropout: zero each unit with probability ``p`` and scale survivors by ``1/(1-p)``.

    The expected activation is unchanged, so evaluation (``training=False``)
    is the identity. The mask is drawn from ``rng`` (None, seed or Generator),
    on the host for device arrays too (the same masks as on the CPU).
    """
    on_device = _dev.is_device(x)
    x = x if on_device else _array(x, "x", range(1, 7))
    p = check_in_range(p, "p", 0.0, 1.0, inclusive=(True, False))
    if not training or p == 0:
        return x, None
    keep = check_rng(rng).random(tuple(x.shape), dtype=np.dtype(x.dtype)) >= p
    if on_device:
        return _cuda().dropout_forward(x, p, keep)
    mask = keep.astype(x.dtype) / x.dtype.type(1 - p)
    return x * mask, mask


def dropout_backward(grad_out, cache):
    if cache is None:
        return grad_out
    if type(cache) is DeviceCache:
        return _cuda().dropout_backward(grad_out, cache)
    cache = _check_output_cache(cache, "dropout_forward")  # the scaled mask
    return _grad(grad_out, cache.shape, cache.dtype) * cache


# --------------------------------------------------------------------------
# softmax cross-entropy
# --------------------------------------------------------------------------


def log_softmax(logits, axis=-1):
    """``z - logsumexp(z)`` along ``axis``, shifted by the maximum (no overflow).

    Raises
    ------
    InputError
        For an ``axis`` outside ``[-ndim, ndim)`` or of length 0 in ``logits``.
    InputTypeError
        For an ``axis`` that is not an integer, or ``logits`` that are not real numbers.
    """
    z = _array(logits, "logits", range(1, 7))
    axis = check_axis(axis, "axis", z.ndim)
    if z.shape[axis] == 0:
        raise InputError(f"logits must have at least one class along axis {axis}, got shape {z.shape}",
                         argument="logits")  # fmt: skip
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(logits, axis=-1):
    """Class probabilities ``exp(z) / sum exp(z)`` along ``axis`` (checked as in :func:`log_softmax`)."""
    return np.exp(log_softmax(logits, axis))


def _labels(labels, n, n_classes) -> np.ndarray:
    y = as_array(labels, "labels")  # class indices
    if y.shape != (n,):
        raise InputError(f"labels must have shape ({n},), one class index per row of logits, got shape {y.shape}",
                         argument="labels")  # fmt: skip
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise InputError(f"labels must lie in [0, {n_classes}) for logits with {n_classes} classes, got values in "
                         f"[{y.min()}, {y.max()}]", argument="labels")  # fmt: skip
    return y.astype(np.intp, copy=False)


def cross_entropy_forward(logits, labels):
    """Softmax cross-entropy, averaged over the batch.

    ``loss = mean_n( logsumexp(z_n) - z_n[y_n] )``.

    Parameters
    ----------
    logits : (N, K) array_like
        Unnormalised class scores; must be finite.
    labels : (N,) integer array_like
        Class indices in ``[0, K)``.

    Returns
    -------
    loss : float
    cache : CrossEntropyCache
        For :func:`cross_entropy_backward`.

    Raises
    ------
    TypeError
        Labels that are not integers.
    ValueError
        Non-finite logits; labels of the wrong length or out of range.

    Device-array logits are handled on the GPU; only the N per-row losses
    come back to the host.
    """
    if _dev.is_device(logits):
        if logits.ndim != 2:
            raise ValueError(f"logits must have 2 dimensions (N, K), got shape {tuple(logits.shape)}")
        return _cuda().cross_entropy_forward(logits, _labels(labels, logits.shape[0], logits.shape[1]))
    z = as_float_array(logits, "logits", ndim=2)
    y = _labels(labels, z.shape[0], z.shape[1])
    logp = log_softmax(z, axis=1)
    loss = -float(logp[np.arange(z.shape[0]), y].mean())
    return loss, CrossEntropyCache(np.exp(logp), y)


def cross_entropy_backward(cache, grad=1.0):
    """``dloss/dlogits = (softmax(z) - onehot(y)) * grad / N``."""
    if type(cache) is DeviceCache:
        return _cuda().cross_entropy_backward(cache, check_finite_float(grad, "grad"))
    probs, y = _check_cache(cache, CrossEntropyCache, "cross_entropy_forward")
    d = probs.copy()
    d[np.arange(len(y)), y] -= 1
    d *= check_finite_float(grad, "grad") / len(y)
    return d
