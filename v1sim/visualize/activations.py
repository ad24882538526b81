"""What the layers compute on images: every layer's maps, and each unit's top-k patches of a dataset.

:func:`top_patches` is Zeiler & Fergus (2014)'s [1]_ view of a unit: the
images of a dataset that drive it hardest, each cropped to the part of the
input its receptive field covers (:mod:`v1sim.visualize.receptive_field`).

References
----------
.. [1] Zeiler MD, Fergus R (2014). Visualizing and understanding convolutional
   networks. ECCV 2014, LNCS 8689:818-833.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._core.validate import as_float_array, check_allocation, check_positive_int, describe
from ..errors import InputError, InputTypeError
from .receptive_field import ReceptiveField, receptive_fields

__all__ = ["TopPatches", "layer_outputs", "top_patches"]


def check_model(model):
    """``model`` if it is a v1sim ConvNet (nn.Module) or an S/C hierarchy; else an InputTypeError."""
    from ..hierarchy.base import Hierarchy
    from ..nn import Module

    if not isinstance(model, (Module, Hierarchy)):
        raise InputTypeError(
            f"model must be a v1sim.nn.Module or an S/C hierarchy (Neocognitron, HMAX), got {describe(model)}",
            argument="model",
        )
    return model


def layer_names(model) -> list:
    """The layer names of a ConvNet (``named_modules``, root left out) or a hierarchy's built stages."""
    from ..nn import Module

    if isinstance(model, Module):
        return [n for n, _ in model.named_modules() if n]
    return [s for s in model.STAGES[1:] if s in model.layers or (s == "UC4" and "US4" in model.layers)]


def check_layer(model, layer) -> str:
    """``layer`` if it names a layer of ``model``; else an InputError listing the names."""
    names = layer_names(model)
    if not isinstance(layer, str) or layer not in names:
        raise InputError(
            f"layer must name a layer of the model, got {describe(layer)}; the names: {', '.join(names)}",
            argument="layer",
        )
    return layer


def input_batch(model, images, input_shape=None) -> np.ndarray:
    """``images`` as the (N, C, H, W) float batch ``model`` takes ((H, W) and (N, H, W) promoted, grey only)."""
    from ..nn import Module

    x = as_float_array(images, "images", ndim=(2, 3, 4))
    x = x[None, None] if x.ndim == 2 else x[:, None] if x.ndim == 3 else x
    if not isinstance(model, Module):
        side = model.config.image_size
        input_shape = (1, side, side)
    if input_shape is not None and tuple(x.shape[1:]) != tuple(input_shape):
        raise InputError(
            f"images must be of per-image shape {tuple(input_shape)}, got {x.shape[1:]}", argument="images"
        )
    return np.ascontiguousarray(x, dtype=np.float32 if x.dtype != np.float64 else np.float64)


def layer_outputs(model, images, layers=None) -> dict:
    """The output of each layer for a batch of images, from one forward pass (eval mode).

    Parameters
    ----------
    model : v1sim.nn.Module or S/C hierarchy
        A ConvNet, or a Neocognitron/HMAX (its stages' maps).
    images : (N, C, H, W), (N, H, W) or (H, W) array_like
        Inputs as the model takes them (float; grey images promoted).
    layers : list of str, optional
        Names (see :func:`receptive_fields`); default every layer. A ConvNet
        runs only as far as the last of them.

    Returns
    -------
    dict of str to ndarray
        (N, K, H, W) maps or (N, F) vectors, host arrays, in forward order.

    Raises
    ------
    InputError
        For an unknown layer (the names are listed) or images the model cannot take.
    """
    from ..nn import Module
    from ..nn.capture import capture_outputs

    check_model(model)
    names = layer_names(model)
    wanted = names if layers is None else [check_layer(model, n) for n in _as_list(layers)]
    x = input_batch(model, images)
    if not isinstance(model, Module):
        maps = model.forward(x)
        return {n: maps[n] for n in names if n in wanted and n in maps}
    captured = capture_outputs(model, x, wanted)
    return {n: captured[n] for n in names if n in captured}


def _as_list(layers) -> list:
    if isinstance(layers, str):
        return [layers]
    if not isinstance(layers, (list, tuple)) or not layers:
        raise InputError(f"layers must be a non-empty list of layer names, got {describe(layers)}", argument="layers")
    return list(layers)


@dataclass(frozen=True)
class TopPatches:
    """The k images that drive each unit hardest, with the input patch under the unit's receptive field.

    Attributes
    ----------
    layer : str
    units : (U,) int ndarray
        The channels (features) shown.
    values : (U, k) ndarray
        Each unit's response: the largest over positions of its map in that
        image, best first.
    image_index : (U, k) int ndarray
        Index of the image in the dataset.
    position : (U, k, 2) int ndarray
        (row, column) of the unit in the map where the response peaks.
    crops : (U, k, C, rh, rw) ndarray
        The input under the receptive field at that position; zeros where it
        reaches past the image (the zero padding the network saw).
    field : ReceptiveField
    """

    layer: str
    units: np.ndarray
    values: np.ndarray
    image_index: np.ndarray
    position: np.ndarray
    crops: np.ndarray
    field: ReceptiveField


def top_patches(model, layer, images, *, k=9, units=None, batch_size=256, progress=False) -> TopPatches:
    """The top-``k`` images of a dataset for each unit of ``layer``, cropped to the unit's receptive field.

    A unit here is a channel (feature map) of the layer: its response to an
    image is the largest value over the positions of its map, and the crop
    is taken at the position of that peak (the first one, in row-major order,
    if several tie), as Zeiler & Fergus (2014) [1]_ show them. Taking one
    peak per image keeps one image from filling a unit's k slots. Ties
    between images rank the lower index first. For a vector layer (Linear)
    the response is the feature and the crop is the whole field.

    Parameters
    ----------
    model : v1sim.nn.Module or S/C hierarchy
    layer : str
        A layer name (:func:`layer_outputs`).
    images : (N, C, H, W), (N, H, W) array_like
        The dataset, as the model takes it; N >= k.
    k : int
        Images per unit (>= 1).
    units : sequence of int, optional
        Which channels; default all.
    batch_size : int
        Images per forward pass.
    progress : bool
        A tqdm bar on stderr.

    Returns
    -------
    TopPatches

    Raises
    ------
    InputError
        For an unknown layer or unit, k larger than the dataset, or images the model cannot take.
    """
    from tqdm.auto import tqdm

    check_model(model)
    layer = check_layer(model, layer)
    k = check_positive_int(k, "k")
    batch_size = check_positive_int(batch_size, "batch_size")
    x = input_batch(model, images)
    if k > len(x):
        raise InputError(f"k ({k}) must be at most the number of images ({len(x)})", argument="k")
    field = receptive_fields(model, None if _is_hierarchy(model) else x.shape[1:])[layer]
    best_values, best_positions, chosen = [], [], None
    for start in tqdm(range(0, len(x), batch_size), desc=f"{layer} top patches", disable=not progress, leave=False):
        out = layer_outputs(model, x[start : start + batch_size], [layer])[layer]
        if chosen is None:
            chosen = _check_units(units, out.shape[1])
        out = out[:, chosen]
        if out.ndim == 2:
            out = out[:, :, None, None]
        flat = out.reshape(out.shape[0], out.shape[1], -1)
        arg = flat.argmax(axis=2)  # first maximum in row-major order
        best_values.append(np.take_along_axis(flat, arg[..., None], axis=2)[..., 0])
        best_positions.append(np.stack(np.unravel_index(arg, out.shape[2:]), axis=-1))
    values = np.concatenate(best_values).T  # (U, N)
    positions = np.concatenate(best_positions).transpose(1, 0, 2)  # (U, N, 2)
    order = np.argsort(-values, axis=1, kind="stable")[:, :k]
    top_values = np.take_along_axis(values, order, axis=1)
    top_positions = np.take_along_axis(positions, order[..., None], axis=1)
    size = field.size
    check_allocation((len(chosen), k, x.shape[1]) + size, x.dtype, "k", what="the crops of the top patches")
    crops = np.zeros((len(chosen), k, x.shape[1]) + size, dtype=x.dtype)
    for u in range(len(chosen)):
        for i in range(k):
            crops[u, i] = crop(x[order[u, i]], field, *top_positions[u, i])
    return TopPatches(layer, np.asarray(chosen), top_values, order, top_positions, crops, field)


def _is_hierarchy(model) -> bool:
    from ..nn import Module

    return not isinstance(model, Module)


def _check_units(units, n: int) -> np.ndarray:
    if units is None:
        return np.arange(n)
    try:
        chosen = np.asarray(units)
    except (TypeError, ValueError):
        chosen = np.asarray([], dtype=object)
    if chosen.ndim != 1 or chosen.size == 0 or chosen.dtype.kind not in "iu" or chosen.min() < 0 or chosen.max() >= n:
        raise InputError(f"units must be channel indices in 0..{n - 1}, got {describe(units)}", argument="units")
    return chosen


def crop(image, field: ReceptiveField, row: int, col: int) -> np.ndarray:
    """The (C, rh, rw) input under unit ``(row, col)``'s receptive field; zeros outside the (C, H, W) image."""
    top, left, bottom, right = field.window(row, col)
    c, h, w = image.shape
    out = np.zeros((c, bottom - top, right - left), dtype=image.dtype)
    t, lf, b, r = max(top, 0), max(left, 0), min(bottom, h), min(right, w)
    if t < b and lf < r:
        out[:, t - top : b - top, lf - left : r - left] = image[:, t:b, lf:r]
    return out
