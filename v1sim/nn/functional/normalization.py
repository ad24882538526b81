"""Normalisation as forward/backward pairs: local response norm and batch norm (alone, or with the ReLU after it).

CUDA twins: :mod:`v1sim.nn.functional.cuda.normalization` (same names and caches). The fused batch norm +
ReLU pair is CPU-only (listed in :data:`v1sim.nn.functional.dispatch.CPU_ONLY`): the device keeps its own scheme.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ... import kernels
from ..._core.validate import (
    check_in_range,
    check_positive_float,
    check_positive_int,
    describe,
)
from ...backend import resolve_device
from ...errors import InputError, InputTypeError
from .common import (
    FLOATS,
    check_cache,
    checked_grad,
    float_array,
    host_backend,
    positive_in_dtype,
)
from .dispatch import twin

__all__ = [
    "BatchNormCache",
    "BatchNormReluCache",
    "LocalResponseNormCache",
    "batch_norm_backward",
    "batch_norm_forward",
    "batch_norm_relu_backward",
    "batch_norm_relu_forward",
    "bn_eps",
    "bn_flags",
    "local_response_norm_backward",
    "local_response_norm_forward",
    "lrn_params",
]


@dataclass(frozen=True, slots=True)
class LocalResponseNormCache:
    """What :func:`local_response_norm_backward` needs (on the GPU, ``scale`` and ``factor`` are (N, C, H*W))."""

    x: np.ndarray
    scale: np.ndarray
    factor: np.ndarray
    size: int
    alpha: float
    beta: float
    device: str = "cpu"


@dataclass(frozen=True, slots=True)
class BatchNormCache:
    """What :func:`batch_norm_backward` needs from :func:`batch_norm_forward`.

    The CPU keeps ``x`` and ``mean``; the GPU keeps ``xhat`` (N, C, L) instead (``x`` and ``mean`` None).
    """

    shape: tuple
    x: np.ndarray | None
    gamma: np.ndarray
    mean: np.ndarray | None
    invstd: np.ndarray
    training: bool
    device: str  # the CPU backend of the kernels, or "cuda"
    xhat: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class BatchNormReluCache:
    """What :func:`batch_norm_relu_backward` needs: the batch norm's cache and the rectified output (the mask)."""

    bn: BatchNormCache
    out: np.ndarray


def _window_sum(a, before, after):
    """``s[:, c] = sum_{c'=c-before}^{c+after} a[:, c']`` over the channel axis, clipped at its ends."""
    s = a.copy()
    n_ch = a.shape[1]
    for d in range(1, min(after, n_ch - 1) + 1):
        s[:, : n_ch - d] += a[:, d:]
    for d in range(1, min(before, n_ch - 1) + 1):
        s[:, d:] += a[:, : n_ch - d]
    return s


def lrn_params(x, size, alpha, beta, k):
    """Checked ``(size, alpha, beta, k)`` of :func:`local_response_norm_forward` for x's dtype (shared by the twins)."""
    size = check_positive_int(size, "size")
    dtype = np.dtype(x.dtype)
    k = positive_in_dtype(k, "k", dtype)
    alpha = positive_in_dtype(alpha, "alpha", dtype, allow_underflow=True)
    beta = check_positive_float(beta, "beta")
    if beta * -math.log(k) >= math.log(np.finfo(dtype).max):  # k < 1 and a large beta: the factor overflows
        raise InputError(
            f"beta: k**-beta = {k:.3g}**-{beta:.3g}, the largest factor an input is multiplied by, "
            f"overflows {dtype.name}; use a smaller beta or a k nearer 1",
            argument="beta",
        )
    return size, alpha, beta, k


@twin
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
    x = float_array(x, "x", 4)
    size, alpha, beta, k = lrn_params(x, size, alpha, beta, k)
    scale = k + (alpha / size) * _window_sum(x * x, size // 2, (size - 1) // 2)
    factor = scale**-beta
    return x * factor, LocalResponseNormCache(x, scale, factor, size, alpha, beta)


@twin
def local_response_norm_backward(grad_out, cache):
    cache = check_cache(cache, LocalResponseNormCache, "local_response_norm_forward")
    x, scale, factor, size, alpha, beta = cache.x, cache.scale, cache.factor, cache.size, cache.alpha, cache.beta
    g = checked_grad(grad_out, x.shape, x.dtype)
    # channel c' appears in the sums of the channels c with c' in window(c): the transposed window
    back = _window_sum(g * x * factor / scale, (size - 1) // 2, size // 2)
    return g * factor - (2 * alpha * beta / size) * x * back


def _running(buffer, name, n_ch, update) -> np.ndarray | None:
    """A running-statistics buffer: a float (C,) array, which training updates in place (so not a copy)."""
    if buffer is None:
        return buffer
    if not update:
        arr = float_array(buffer, name, 1)
    elif isinstance(buffer, np.ndarray) and buffer.dtype in FLOATS and buffer.flags.writeable:
        arr = buffer
    else:
        raise InputTypeError(
            f"{name} must be a writable float32 or float64 array (training updates it in place), "
            f"got {describe(buffer)}",
            argument=name,
        )
    if arr.shape != (n_ch,):
        raise InputError(
            f"{name} must have shape ({n_ch},), one value per channel, got shape {arr.shape}", argument=name
        )
    return arr


def bn_eps(value, dtype) -> float:
    """``eps`` of batch norm: 0 or more (as PyTorch), and finite in the arithmetic's dtype."""
    return check_in_range(value, "eps", 0.0, float(np.finfo(dtype).max))


def bn_flags(training, momentum) -> float:
    """Checked ``training`` flag and ``momentum`` of :func:`batch_norm_forward` (shared with the twin)."""
    if not isinstance(training, (bool, np.bool_)):
        raise InputTypeError(f"training must be True or False, got {describe(training)}", argument="training")
    return check_in_range(momentum, "momentum", 0.0, 1.0)


def _normalise(x, gamma, beta, running_mean, running_var, training, momentum, eps, *, relu):
    """The body of :func:`batch_norm_forward`; ``relu`` rectifies in the last pass over the output."""
    momentum = bn_flags(training, momentum)
    x = float_array(x, "x", (2, 4))
    eps = bn_eps(eps, x.dtype)
    n, n_ch = x.shape[:2]
    gamma, beta = float_array(gamma, "gamma", 1), float_array(beta, "beta", 1)
    for name, a in (("gamma", gamma), ("beta", beta)):
        if a.shape != (n_ch,):
            raise InputError(
                f"{name} must have shape ({n_ch},), one value per channel of x of shape {x.shape}, got {a.shape}",
                argument=name,
            )
    running_mean = _running(running_mean, "running_mean", n_ch, training)
    running_var = _running(running_var, "running_var", n_ch, training)
    per_map = math.prod(x.shape[2:])
    count = n * per_map  # values per channel
    host = host_backend(resolve_device("auto"))
    x3 = x.reshape(n, n_ch, per_map)  # (N, C, L): the kernels' view of both layouts (explicit: N may be 0)
    if training:
        if count < 2:
            raise InputError(
                f"x: batch norm in training mode needs more than one value per channel (N*H*W >= 2), "
                f"got x of shape {x.shape}",
                argument="x",
            )
        mean, var = np.empty(n_ch), np.empty(n_ch)
        kernels.get("bn_stats", host, 2 * x.size)(x3, mean, var)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += momentum * var * (count / (count - 1))
    else:
        if running_mean is None or running_var is None:
            name = "running_mean" if running_mean is None else "running_var"
            raise InputError(
                f"{name}: batch norm in evaluation mode needs running_mean and running_var, got None", argument=name
            )
        mean, var = running_mean.astype(np.float64), running_var.astype(np.float64)
    invstd = 1.0 / np.sqrt(var + eps)
    scale = gamma * invstd  # out = xhat * gamma + beta = x * scale + shift
    out = np.empty_like(x)
    out3 = out.reshape(x3.shape)
    last = kernels.get("bn_affine_relu" if relu else "bn_affine", host, x.size)  # the ReLU rides on the last pass
    if x.dtype == np.float64:
        # two passes, (x - mean) first: the folded x * scale + shift rounds at x's magnitude, ~1e-10 of the
        # spread at an offset of 1e6 (as PyTorch); float32 keeps one pass, its input is rounded that coarsely anyway
        kernels.get("bn_affine", host, x.size)(x3, np.ones(n_ch), -mean, out3)
        last(out3, scale, beta.astype(np.float64), out3)
    else:
        last(x3, scale, beta - mean * scale, out3)
    return out, BatchNormCache(x.shape, x, gamma, mean, invstd, training, host)


@twin
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
    return _normalise(x, gamma, beta, running_mean, running_var, training, momentum, eps, relu=False)


@twin
def batch_norm_backward(grad_out, cache):
    """Gradients of :func:`batch_norm_forward`: ``(dx, dgamma, dbeta)``.

    In training mode the batch statistics depend on x:
    ``dx = invstd/M (M dxhat - sum dxhat - xhat sum(dxhat xhat))`` with
    ``dxhat = grad_out * gamma`` and M values per channel.
    """
    cache = check_cache(cache, BatchNormCache, "batch_norm_forward")
    return _normalise_backward(checked_grad(grad_out, cache.x.shape, cache.x.dtype), None, cache)


def batch_norm_relu_forward(
    x, gamma, beta, running_mean=None, running_var=None, *, training=True, momentum=0.1, eps=1e-5
):
    """``max(batch_norm_forward(x, ...), 0)``: batch norm [3]_ and the ReLU after it, in one pass over the output.

    Takes :func:`batch_norm_forward`'s arguments, raises its errors and
    updates the running statistics as it does; the output equals
    ``relu_forward(batch_norm_forward(x, ...)[0])[0]`` bit for bit (the same
    rounding, then ``np.maximum``'s: NaN passes through, -0.0 becomes +0.0),
    one array and one pass fewer. Host arrays only (CPU-only: a device keeps
    its two layers).

    Parameters
    ----------
    x : (N, C, H, W) or (N, C) ndarray
    gamma, beta : (C,) ndarray
    running_mean, running_var : (C,) float ndarray, optional
    training : bool
    momentum : float in [0, 1]
    eps : float >= 0
        As in :func:`batch_norm_forward`.

    Returns
    -------
    out : ndarray, same shape as x
        The rectified output.
    cache : BatchNormReluCache
        For :func:`batch_norm_relu_backward`; it holds ``out``, whose positive entries are the ReLU's mask.

    Raises
    ------
    InputError, InputTypeError
        As :func:`batch_norm_forward`.
    """
    out, cache = _normalise(x, gamma, beta, running_mean, running_var, training, momentum, eps, relu=True)
    return out, BatchNormReluCache(cache, out)


def batch_norm_relu_backward(grad_out, cache):
    """Gradients of :func:`batch_norm_relu_forward`: ``(dx, dgamma, dbeta)``.

    :func:`batch_norm_backward` of the masked gradient ``grad_out * (out > 0)``,
    the mask applied inline (a multiply by 1 or 0, as :func:`relu_backward`), so
    the results equal ``relu_backward`` then ``batch_norm_backward`` bit for bit
    without the masked gradient's array and pass.
    """
    cache = check_cache(cache, BatchNormReluCache, "batch_norm_relu_forward")
    y = cache.out
    return _normalise_backward(checked_grad(grad_out, y.shape, y.dtype), y, cache.bn)


def _normalise_backward(g, y, cache):
    """``(dx, dgamma, dbeta)`` of batch norm for the gradient ``g``, masked by ``y > 0`` unless y is None."""
    x, gamma, mean, invstd, training, host = (
        cache.x,
        cache.gamma,
        cache.mean,
        cache.invstd,
        cache.training,
        cache.device,
    )
    n, n_ch = x.shape[:2]
    per_map = math.prod(x.shape[2:])
    x3, g3 = x.reshape(n, n_ch, per_map), g.reshape(n, n_ch, per_map)
    masked = () if y is None else (y.reshape(x3.shape),)  # the ReLU's output: its mask folded into both passes
    suffix = "" if y is None else "_relu"
    sum_g, sum_gxhat = np.empty(n_ch), np.empty(n_ch)
    kernels.get("bn_backward_sums" + suffix, host, 2 * x.size)(g3, *masked, x3, mean, invstd, sum_g, sum_gxhat)
    count = n * per_map
    means = np.stack([sum_g, sum_gxhat]) / count if training else np.zeros((2, n_ch))  # eval: constant statistics
    dx = np.empty_like(x)
    kernels.get("bn_backward_dx" + suffix, host, 2 * x.size)(
        g3, *masked, x3, mean, invstd, gamma * invstd, means, dx.reshape(x3.shape)
    )
    return dx, sum_gxhat.astype(x.dtype), sum_g.astype(x.dtype)
