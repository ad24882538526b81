"""The receptive field of a unit, computed through the layers of a ConvNet or an S/C hierarchy.

The ConvNet arithmetic lives in :mod:`v1sim.nn.receptive_field` (which
:class:`v1sim.physiology.ConvNetLayer` uses too); this module adds the
S/C hierarchies' stages and re-exports it.

The rules, per layer, are in that module's docstring (Araujo et al. 2019 [1]_).

References
----------
.. [1] Araujo A, Norris W, Sim J (2019). Computing receptive fields of
   convolutional neural networks. Distill 4(11):e21.
.. [2] LeCun Y, Bottou L, Bengio Y, Haffner P (1998). Gradient-based learning
   applied to document recognition. Proc. IEEE 86(11):2278-2324 (LeNet-5's
   layer table).
"""

from __future__ import annotations

import numpy as np

from .._core.validate import describe
from ..errors import InputError, InputTypeError
from ..nn.receptive_field import ReceptiveField, check_input_shape
from ..nn.receptive_field import receptive_fields as convnet_fields

__all__ = ["ReceptiveField", "check_input_shape", "receptive_field", "receptive_fields"]


def receptive_fields(model, input_shape=None) -> dict:
    """The receptive field of the units of every layer of ``model``, by layer name, in forward order.

    Parameters
    ----------
    model : v1sim.nn.Module or v1sim.hierarchy.Neocognitron / HMAX
        A ConvNet (any tree of Sequential, residual and Inception blocks,
        convolutions, poolings and element-wise layers; layers with
        ``kernel_size``, ``stride``, ``padding`` and optional ``dilation``)
        or an S/C hierarchy (its S-layers' connection areas, its C-layers'
        windows).
    input_shape : (C, H, W) tuple, optional
        Per-sample input shape; required for a ConvNet (the map sizes a
        global layer covers), the configured ``image_size`` for a hierarchy.

    Returns
    -------
    dict of str to ReceptiveField
        Module names of ``model.named_modules()`` (containers included) or
        hierarchy stage names ("UG", "US1", "UC1", ...).

    Raises
    ------
    InputError
        For an input the model cannot take, or a layer without a
        receptive-field rule (named, with its type).
    InputTypeError
        If ``model`` is neither.

    Examples
    --------
    >>> from v1sim.nn import models
    >>> fields = receptive_fields(models.build("lenet5", rng=0), (1, 32, 32))
    >>> fields["c3"].size, fields["c3"].jump, fields["c5"].size
    ((14, 14), (2, 2), (32, 32))
    """
    from ..hierarchy.base import Hierarchy
    from ..nn import Module

    if isinstance(model, Hierarchy):
        return _hierarchy_fields(model, input_shape)
    if not isinstance(model, Module):
        raise InputTypeError(
            f"model must be a v1sim.nn.Module or an S/C hierarchy, got {describe(model)}", argument="model"
        )
    return convnet_fields(model, input_shape)


def receptive_field(model, layer: str, input_shape=None) -> ReceptiveField:
    """The receptive field of the units of ``layer`` (see :func:`receptive_fields`).

    Raises
    ------
    InputError
        If ``layer`` is not a layer of the model (the message lists the names).
    """
    fields = receptive_fields(model, input_shape)
    if not isinstance(layer, str) or layer not in fields:
        raise InputError(
            f"layer must name a layer of the model, got {describe(layer)}; the names: {', '.join(fields)}",
            argument="layer",
        )
    return fields[layer]


def _hierarchy_fields(model, input_shape) -> dict:
    """Fields of an S/C hierarchy's stages on its configured ``image_size``."""
    side = model.config.image_size
    if input_shape is not None and tuple(input_shape) != (1, side, side):
        raise InputError(
            f"input_shape of this hierarchy is (1, {side}, {side}) (its image_size), got {input_shape!r}",
            argument="input_shape",
        )
    return hierarchy_fields(model, side)


def hierarchy_fields(model, side: int, upto=None) -> dict:
    """Fields of an S/C hierarchy's stages on a ``side`` x ``side`` image (any side its layers take), up to ``upto``.

    S-layers slide their connection area, C-layers their window. The stages run
    through ``model.stage_output`` (not ``forward``, which takes only the
    configured ``image_size``), so a small image holding one unit's field
    (:mod:`v1sim.visualize.finite_difference`) gets its own geometry.
    """
    from ..hierarchy import CLayer, SLayer

    prev = np.zeros((1, 1, side, side), np.float32)
    field, out = ReceptiveField.of_input(side, side), {}
    for stage in model.STAGES[1:]:
        value = model.stage_output(stage, prev)
        if value is None:
            break
        prev, layer = value, model.layers.get(stage)
        h, w = value.shape[2:]
        if isinstance(layer, SLayer):
            field = field.after(layer.templates.shape[2:], 1, layer.padding, 1, (h, w))
        elif isinstance(layer, CLayer):
            size = field.map_shape if layer.size is None else layer.size
            field = field.after(size, size if layer.stride is None else layer.stride, layer.padding, 1, (h, w))
        elif (h, w) != field.map_shape:
            raise InputError(f"stage {stage} has no receptive-field rule", argument="model")
        out[stage] = field
        if stage == upto:
            break
    return out
