"""Softmax and softmax cross-entropy (CUDA twin of the loss: :mod:`v1sim.nn.functional.cuda.loss`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..._core.validate import as_array, as_float_array, check_axis, check_finite_float
from ...errors import InputError
from .common import check_cache, float_array
from .dispatch import twin

__all__ = [
    "CrossEntropyCache",
    "check_labels",
    "cross_entropy_backward",
    "cross_entropy_forward",
    "log_softmax",
    "softmax",
]


@dataclass(frozen=True, slots=True)
class CrossEntropyCache:
    """What :func:`cross_entropy_backward` needs: the class probabilities and the labels."""

    probs: np.ndarray
    y: np.ndarray
    device: str = "cpu"


def log_softmax(logits, axis=-1):
    """``z - logsumexp(z)`` along ``axis``, shifted by the maximum (no overflow).

    Raises
    ------
    InputError
        For an ``axis`` outside ``[-ndim, ndim)`` or of length 0 in ``logits``.
    InputTypeError
        For an ``axis`` that is not an integer, or ``logits`` that are not real numbers.
    """
    z = float_array(logits, "logits", range(1, 7))
    axis = check_axis(axis, "axis", z.ndim)
    if z.shape[axis] == 0:
        raise InputError(
            f"logits must have at least one class along axis {axis}, got shape {z.shape}", argument="logits"
        )
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(logits, axis=-1):
    """Class probabilities ``exp(z) / sum exp(z)`` along ``axis`` (checked as in :func:`log_softmax`)."""
    return np.exp(log_softmax(logits, axis))


def check_labels(labels, n, n_classes) -> np.ndarray:
    y = as_array(labels, "labels")  # class indices
    if y.shape != (n,):
        raise InputError(
            f"labels must have shape ({n},), one class index per row of logits, got shape {y.shape}", argument="labels"
        )
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise InputError(
            f"labels must lie in [0, {n_classes}) for logits with {n_classes} classes, got values in "
            f"[{y.min()}, {y.max()}]",
            argument="labels",
        )
    return y.astype(np.intp, copy=False)


@twin
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
    InputTypeError
        Labels that are not integers.
    InputError
        Logits that are not (N, K); labels of the wrong length or out of range.
    NonFiniteError
        Non-finite logits.

    Device-array logits are handled on the GPU; only the N per-row losses
    come back to the host.
    """
    z = as_float_array(logits, "logits", ndim=2)
    y = check_labels(labels, z.shape[0], z.shape[1])
    logp = log_softmax(z, axis=1)
    loss = -float(logp[np.arange(z.shape[0]), y].mean())
    return loss, CrossEntropyCache(np.exp(logp), y)


@twin
def cross_entropy_backward(cache, grad=1.0):
    """``dloss/dlogits = (softmax(z) - onehot(y)) * grad / N``."""
    cache = check_cache(cache, CrossEntropyCache, "cross_entropy_forward")
    probs, y = cache.probs, cache.y
    d = probs.copy()
    d[np.arange(len(y)), y] -= 1
    d *= check_finite_float(grad, "grad") / len(y)
    return d
