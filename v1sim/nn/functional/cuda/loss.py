"""CUDA twin of the softmax cross-entropy in :mod:`v1sim.nn.functional.loss`."""

from __future__ import annotations

import numpy as np

from ...._core.validate import check_finite_float
from ....errors import InputError, NonFiniteError
from ....kernels import cuda as kc
from ..common import check_cache
from ..loss import CrossEntropyCache, check_labels
from .common import dev

__all__ = ["cross_entropy_backward", "cross_entropy_forward"]


def cross_entropy_forward(logits, labels):
    """CUDA twin of :func:`v1sim.nn.functional.loss.cross_entropy_forward`.

    Only the per-row losses come back to the host (N numbers) for the mean.
    """
    if logits.ndim != 2:
        raise InputError(f"logits must have 2 dimensions (N, K), got shape {tuple(logits.shape)}", argument="logits")
    y = check_labels(labels, logits.shape[0], logits.shape[1])
    z = dev(logits, "logits", 2)
    probs, losses = kc.empty(z.shape, z.dtype), kc.empty((z.shape[0],), z.dtype)
    y_d = kc.to_device(np.ascontiguousarray(y, dtype=np.int64))
    kc.norm.cross_entropy(z, y_d, probs, losses)
    per_row = losses.copy_to_host()
    if not np.isfinite(per_row).all():
        raise NonFiniteError(
            "logits must be finite (no NaN or inf); the device computed a non-finite softmax cross-entropy",
            argument="logits",
        )
    return float(per_row.astype(np.float64).mean()), CrossEntropyCache(probs, y_d, "cuda")


def cross_entropy_backward(cache, grad=1.0):
    """CUDA twin of :func:`v1sim.nn.functional.loss.cross_entropy_backward`."""
    cache = check_cache(cache, CrossEntropyCache, "cross_entropy_forward")
    probs, y_d, grad = cache.probs, cache.y, check_finite_float(grad, "grad")
    d = kc.empty(probs.shape, probs.dtype)
    kc.norm.cross_entropy_backward(probs, y_d, grad / probs.shape[0], d)
    return d
