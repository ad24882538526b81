"""Inverted dropout as a forward/backward pair (CUDA twin: :mod:`v1sim.nn.functional.cuda.dropout`)."""

from __future__ import annotations

import numpy as np

from ..._core.validate import check_in_range, check_rng
from .common import check_output_cache, checked_grad, float_array
from .dispatch import twin

__all__ = ["dropout_backward", "dropout_forward", "keep_mask"]


def keep_mask(shape, dtype, p, training, rng):
    """Checked ``p``, and the bool keep mask drawn on the host from ``rng`` (None when nothing is dropped).

    Both devices draw it here, so they drop the same units and the generator's state (saved in
    checkpoints) means the same thing on both.
    """
    p = check_in_range(p, "p", 0.0, 1.0, inclusive=(True, False))
    if not training or p == 0:
        return p, None
    return p, check_rng(rng).random(tuple(shape), dtype=np.dtype(dtype)) >= p


@twin
def dropout_forward(x, p, *, training=True, rng=None):
    """Inverted dropout: zero each unit with probability ``p`` and scale survivors by ``1/(1-p)``.

    The expected activation is unchanged, so evaluation (``training=False``)
    is the identity. The mask is drawn from ``rng`` (None, seed or Generator),
    on the host for device arrays too (the same masks as on the CPU).
    """
    x = float_array(x, "x", range(1, 7))
    p, keep = keep_mask(x.shape, x.dtype, p, training, rng)
    if keep is None:
        return x, None
    mask = keep.astype(x.dtype) / x.dtype.type(1 - p)
    return x * mask, mask


@twin
def dropout_backward(grad_out, cache):
    """``grad_out`` times the forward pass's scaled mask (``grad_out`` itself when nothing was dropped)."""
    if cache is None:
        return grad_out
    cache = check_output_cache(cache, "dropout_forward")  # the scaled mask
    return checked_grad(grad_out, cache.shape, cache.dtype) * cache
