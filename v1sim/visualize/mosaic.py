"""Filters as images, and images laid out as one mosaic.

A first layer's filters live in the input's own space and are shown as they
are (grey for one input channel, colour for three). A deeper filter spans
many channels of the layer below; :func:`filter_images` shows each one by its
strongest input channel (largest L2 norm), the map it weighs most (for what
the unit sees in pixels, use :func:`v1sim.visualize.top_patches`).
"""

from __future__ import annotations

import math

import numpy as np

from .._core.validate import (
    as_float_array,
    check_allocation,
    check_choice,
    check_nonnegative_int,
    check_positive_int,
    describe,
)
from ..errors import InputError
from .activations import check_layer, check_model

__all__ = ["filter_images", "layer_weights", "tile"]


def layer_weights(model, layer) -> np.ndarray:
    """The (K, C, kh, kw) weights of a convolution (Conv2d) or of an S-layer's templates, as a host copy.

    Raises
    ------
    InputError
        If ``layer`` is unknown (the names are listed) or has no spatial filters.
    """
    from ..hierarchy import SLayer
    from ..nn import Module
    from ..nn.device import host_copy

    check_model(model)
    check_layer(model, layer)
    if isinstance(model, Module):
        module = dict(model.named_modules())[layer]
        weight = getattr(module, "weight", None)
        data = None if weight is None else host_copy(weight.data)
    else:
        module = model.layers.get(layer)
        data = np.array(module.templates, copy=True) if isinstance(module, SLayer) else None
    if data is None or data.ndim != 4:
        raise InputError(
            f"layer {layer!r} ({type(module).__name__}) has no (K, C, kh, kw) filters to show", argument="layer"
        )
    return data


def filter_images(weights, *, channel="strongest") -> tuple:
    """One image per filter of a (K, C, kh, kw) bank, and the input channel each shows.

    Parameters
    ----------
    weights : (K, C, kh, kw) array_like
        Cross-correlation kernels (the ``weight`` of a Conv2d).
    channel : {"strongest", "rgb"}
        ``"strongest"``: each filter's input channel of largest L2 norm
        (for C = 1, the filter itself). ``"rgb"``: the three channels as a
        colour image (C = 3 only).

    Returns
    -------
    images : (K, kh, kw) or (K, kh, kw, 3) ndarray
    channels : (K,) int ndarray
        The input channel shown (-1 for "rgb").
    """
    w = as_float_array(weights, "weights", ndim=4)
    check_choice(channel, "channel", ("strongest", "rgb"))
    if channel == "rgb":
        if w.shape[1] != 3:
            raise InputError(f"channel='rgb' needs 3 input channels, weights have {w.shape[1]}", argument="channel")
        return np.ascontiguousarray(w.transpose(0, 2, 3, 1)), np.full(len(w), -1)
    strongest = np.sqrt((w.astype(np.float64) ** 2).sum(axis=(2, 3))).argmax(axis=1)
    return w[np.arange(len(w)), strongest], strongest


def tile(images, *, columns=None, pad=1, scale="symmetric", fill=1.0) -> np.ndarray:
    """Lay (K, h, w) or (K, h, w, 3) images out as one mosaic image with values in [0, 1].

    Parameters
    ----------
    images : (K, h, w) or (K, h, w, 3) array_like
    columns : int, optional
        Tiles per row; default ``ceil(sqrt(K))``.
    pad : int
        Pixels of ``fill`` between tiles (>= 0).
    scale : {"symmetric", "each", "none"}
        ``"symmetric"``: each tile as ``0.5 + x / (2 max |x|)``, so zero is
        mid-grey (filters); ``"each"``: each tile stretched to [0, 1]
        (patches); ``"none"``: values clipped to [0, 1].
    fill : float
        Value between tiles, in [0, 1].

    Returns
    -------
    (rows (h + pad) - pad, columns (w + pad) - pad[, 3]) float64 ndarray
    """
    x = as_float_array(images, "images", ndim=(3, 4)).astype(np.float64)
    if x.ndim == 4 and x.shape[3] != 3:
        raise InputError(f"images must be (K, h, w) or (K, h, w, 3), got shape {x.shape}", argument="images")
    if len(x) == 0 or x.shape[1] == 0 or x.shape[2] == 0:
        raise InputError(f"images must hold at least one non-empty image, got shape {x.shape}", argument="images")
    check_choice(scale, "scale", ("symmetric", "each", "none"))
    pad = check_nonnegative_int(pad, "pad")
    columns = math.ceil(math.sqrt(len(x))) if columns is None else check_positive_int(columns, "columns")
    if not isinstance(fill, (int, float)) or isinstance(fill, bool) or not 0 <= fill <= 1:
        raise InputError(f"fill must be a number in [0, 1], got {describe(fill)}", argument="fill")
    axes = tuple(range(1, x.ndim))
    if scale == "symmetric":
        peak = np.abs(x).max(axis=axes, keepdims=True)
        x = 0.5 + x / (2 * np.where(peak > 0, peak, 1))
    elif scale == "each":
        low, high = x.min(axis=axes, keepdims=True), x.max(axis=axes, keepdims=True)
        x = (x - low) / np.where(high > low, high - low, 1)
    x = np.clip(x, 0, 1)
    rows = math.ceil(len(x) / columns)
    h, w = x.shape[1:3]
    shape = (rows * (h + pad) - pad, columns * (w + pad) - pad) + x.shape[3:]
    check_allocation(shape, np.float64, "columns" if columns > len(x) else "pad", what="the mosaic")
    out = np.full(shape, float(fill))
    for i, img in enumerate(x):
        r, c = divmod(i, columns)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = img
    return out
