"""CUDA twin of :mod:`v1sim.nn.functional.dropout`: the keep mask is drawn on the host, as on the CPU."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...._core.validate import describe
from ....errors import InputError, InputTypeError
from ....kernels import cuda as kc
from ..dropout import keep_mask
from .common import dev

__all__ = ["DeviceDropoutCache", "dropout_backward", "dropout_forward"]


@dataclass(frozen=True, slots=True)
class DeviceDropoutCache:
    """The device's dropout cache: the uint8 keep mask and the survivors' scale ``1/(1-p)``.

    (The CPU's cache is the scaled float mask itself; the device keeps a quarter of that memory.)
    """

    keep: object
    scale: float
    device: str = "cuda"


def dropout_forward(x, p, *, training=True, rng=None):
    """Apply a host-drawn keep mask on the device: ``x * keep / (1 - p)``.

    The mask is drawn on the host from the layer's generator, exactly as on
    the CPU (:func:`v1sim.nn.functional.dropout.keep_mask`), so the two
    devices drop the same units and the generator's state (saved in
    checkpoints) means the same thing on both.
    """
    x = dev(x, "x", range(1, 7))
    p, keep = keep_mask(x.shape, x.dtype, p, training, rng)
    if keep is None:
        return x, None
    scale = np.dtype(x.dtype).type(1) / np.dtype(x.dtype).type(1 - p)
    keep_d = kc.to_device(np.ascontiguousarray(keep).view(np.uint8))
    out = kc.elementwise.dropout(x, keep_d, scale, kc.empty(x.shape, x.dtype))
    return out, DeviceDropoutCache(keep_d, scale)


def dropout_backward(grad_out, cache):
    if cache is None:
        return grad_out
    if not isinstance(cache, DeviceDropoutCache):
        raise InputTypeError(
            f"cache must be the cache returned by dropout_forward, got {describe(cache)}", argument="cache"
        )
    keep_d, scale = cache.keep, cache.scale
    g = dev(grad_out, "grad_out", range(1, 7))
    if tuple(g.shape) != tuple(keep_d.shape):
        raise InputError(
            f"grad_out must have the forward output's shape {tuple(keep_d.shape)}, got {tuple(g.shape)}",
            argument="grad_out",
        )
    return kc.elementwise.dropout(g, keep_d, scale, kc.empty(g.shape, g.dtype))
