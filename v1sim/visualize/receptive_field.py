"""The receptive field of a unit, computed through the layers of a ConvNet or an S/C hierarchy.

Each layer that slides a window (kernel ``k``, stride ``s``, padding ``p``,
dilation ``d``) over its input maps the receptive field of its input units
(size ``r``, jump ``j`` between neighbouring units, first input pixel ``u``
of unit 0) to that of its output units, per axis (Araujo et al. 2019 [1]_;
the output-size formula of the lecture, ``W2 = (W1 - F + 2P)/S + 1``, with
the same symbols)::

    r_out = r_in + (d (k - 1)) j_in        size (input pixels)
    j_out = j_in s                         jump (input pixels between units)
    u_out = u_in - p j_in                  start: top-left input pixel of unit 0

starting from the input (``r = j = 1``, ``u = 0``). Element-wise layers
(activations, batch norm, dropout, local response norm) leave it unchanged;
a global pooling or a flatten gives every unit the whole map's field, and
branches (residual shortcuts, Inception) the union of theirs. Unit ``(i, j)``
of a layer sees input rows ``u + i jump ... u + i jump + r - 1`` (and the same
for columns); rows outside the image are the zero padding.

References
----------
.. [1] Araujo A, Norris W, Sim J (2019). Computing receptive fields of
   convolutional neural networks. Distill 4(11):e21.
.. [2] LeCun Y, Bottou L, Bengio Y, Haffner P (1998). Gradient-based learning
   applied to document recognition. Proc. IEEE 86(11):2278-2324 (LeNet-5's
   layer table).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._core.validate import check_int_pair, describe
from ..errors import InputError, InputTypeError

__all__ = ["ReceptiveField", "receptive_field", "receptive_fields"]


@dataclass(frozen=True)
class ReceptiveField:
    """Where the units of one layer look in the input: size, jump and start per axis (rows, columns).

    Attributes
    ----------
    size : (int, int)
        Input pixels one unit sees, (rows, columns).
    jump : (int, int)
        Input pixels between neighbouring units of the layer's map.
    start : (int, int)
        Top-left input pixel of unit (0, 0); negative where the field begins
        in the zero padding.
    map_shape : (int, int)
        The layer's map (H, W); (1, 1) for a vector (Linear) layer.
    """

    size: tuple
    jump: tuple
    start: tuple
    map_shape: tuple

    @property
    def center(self) -> tuple:
        """Input coordinate (row, column) of the centre of unit (0, 0); half-integer for an even size."""
        return tuple(u + (r - 1) / 2 for u, r in zip(self.start, self.size))

    def window(self, row: int, col: int) -> tuple:
        """The input ``(top, left, bottom, right)`` (bottom, right exclusive) that unit ``(row, col)`` sees."""
        top = self.start[0] + int(row) * self.jump[0]
        left = self.start[1] + int(col) * self.jump[1]
        return top, left, top + self.size[0], left + self.size[1]

    def after(self, kernel, stride=1, padding=0, dilation=1, map_shape=None) -> ReceptiveField:
        """The field of a layer sliding a ``kernel`` window (stride, padding, dilation) over this one's units."""
        k, s = check_int_pair(kernel, "kernel", minimum=1), check_int_pair(stride, "stride", minimum=1)
        p, d = check_int_pair(padding, "padding", minimum=0), check_int_pair(dilation, "dilation", minimum=1)
        return ReceptiveField(
            size=tuple(r + di * (ki - 1) * j for r, ki, di, j in zip(self.size, k, d, self.jump)),
            jump=tuple(j * si for j, si in zip(self.jump, s)),
            start=tuple(u - pi * j for u, pi, j in zip(self.start, p, self.jump)),
            map_shape=self.map_shape if map_shape is None else tuple(map_shape),
        )

    def whole_map(self) -> ReceptiveField:
        """The field of a unit that sees every unit of this layer's map (global pooling, flatten, linear)."""
        h, w = self.map_shape
        return self.after((h, w), (h, w), 0, 1, map_shape=(1, 1))

    def union(self, other: ReceptiveField) -> ReceptiveField:
        """The field of a unit that sees both fields (the branches of a residual or Inception block)."""
        if self.jump != other.jump or self.map_shape != other.map_shape:
            raise InputError(
                f"branches with different jumps {self.jump} / {other.jump} or maps {self.map_shape} / "
                f"{other.map_shape} cannot be merged",
                argument="model",
            )
        start = tuple(min(a, b) for a, b in zip(self.start, other.start))
        end = tuple(max(a + r, b + q) for a, r, b, q in zip(self.start, self.size, other.start, other.size))
        return ReceptiveField(tuple(e - s for e, s in zip(end, start)), self.jump, start, self.map_shape)


def _input_field(height: int, width: int) -> ReceptiveField:
    return ReceptiveField((1, 1), (1, 1), (0, 0), (int(height), int(width)))


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
    if input_shape is None:
        raise InputError("input_shape (C, H, W) is needed for a ConvNet", argument="input_shape")
    shape = check_input_shape(input_shape)
    try:
        model.output_shape(shape)
    except InputError as exc:
        raise InputError(f"the model cannot take input_shape {shape}: {exc}", argument="input_shape") from None
    out: dict = {}
    _walk(model, "", _input_field(*shape[1:]), shape, out)
    out.pop("", None)
    return out


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


def check_input_shape(input_shape) -> tuple:
    """``input_shape`` as a (C, H, W) tuple of positive ints; else an InputError naming it."""
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise InputError(f"input_shape must be (C, H, W), got {describe(input_shape)}", argument="input_shape")
    shape = []
    for v in input_shape:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= 1 << 20:
            raise InputError(f"input_shape must be 3 positive sizes, got {input_shape!r}", argument="input_shape")
        shape.append(int(v))
    return tuple(shape)


def _spatial(shape) -> tuple | None:
    return tuple(shape[1:]) if len(shape) == 3 else None


def _walk(module, name, field, shape, out) -> tuple:
    """The field and per-sample shape after ``module`` (recorded in ``out`` under ``name`` and its children's)."""
    from ..nn import Sequential
    from ..nn.blocks import Concat, Residual, ZeroPadShortcut
    from ..nn.pooling import Flatten, GlobalAvgPool2d

    def child(n):
        return f"{name}.{n}" if name else n

    after = module.output_shape(shape)
    children = [(n, m) for n, m in module.named_modules() if n and "." not in n]
    if isinstance(module, Residual):
        body, body_shape = _walk(module.body, child("body"), field, shape, out)
        short, _ = _walk(module.shortcut, child("shortcut"), field, shape, out)
        field = body.union(short)
        out[child("relu")] = field
    elif isinstance(module, Concat):
        merged = None
        for n, m in children:
            f, _ = _walk(m, child(n), field, shape, out)
            merged = f if merged is None else merged.union(f)
        field = merged
    elif children:  # Sequential, or any container whose children run one after another
        inner = shape
        for n, m in children:
            field, inner = _walk(m, child(n), field, inner, out)
        if tuple(inner) != tuple(after) and not isinstance(module, Sequential):
            raise InputError(
                f"layer {name!r} ({type(module).__name__}) does not run its children one after another; "
                "its receptive field is unknown",
                argument="model",
            )
    elif isinstance(module, (GlobalAvgPool2d, Flatten)) or (_spatial(shape) is None and _spatial(after) is None):
        field = field if _spatial(shape) is None else field.whole_map()
    elif isinstance(module, ZeroPadShortcut):
        field = field.after(1, module.stride, 0, 1, _spatial(after))
    elif hasattr(module, "kernel_size"):
        dilation = getattr(module, "dilation", 1)
        field = field.after(module.kernel_size, module.stride, module.padding, dilation, _spatial(after))
    elif _spatial(after) == _spatial(shape):  # element-wise over positions: activations, norms, dropout
        pass
    else:
        raise InputError(
            f"layer {name!r} ({type(module).__name__}) has no receptive-field rule (no kernel_size, stride, padding)",
            argument="model",
        )
    out[name] = field
    return field, tuple(after)


def _hierarchy_fields(model, input_shape) -> dict:
    """Fields of an S/C hierarchy's stages: S-layers slide their connection area, C-layers their window."""
    from ..hierarchy import CLayer, SLayer

    side = model.config.image_size
    if input_shape is not None and tuple(input_shape) != (1, side, side):
        raise InputError(
            f"input_shape of this hierarchy is (1, {side}, {side}) (its image_size), got {input_shape!r}",
            argument="input_shape",
        )
    maps = model.forward(np.zeros((1, 1, side, side), np.float32))
    field, out = _input_field(side, side), {}
    for stage, value in list(maps.items())[1:]:
        layer = model.layers.get(stage)
        h, w = value.shape[2:]
        if isinstance(layer, SLayer):
            field = field.after(layer.templates.shape[2:], 1, layer.padding, 1, (h, w))
        elif isinstance(layer, CLayer):
            size = field.map_shape if layer.size is None else layer.size
            field = field.after(size, size if layer.stride is None else layer.stride, layer.padding, 1, (h, w))
        elif (h, w) != field.map_shape:
            raise InputError(f"stage {stage} has no receptive-field rule", argument="model")
        out[stage] = field
    return out
