"""The receptive field of a ConvNet's units, and the smallest input that computes its centre units exactly.

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
branches (residual shortcuts, Inception) the union of theirs; a tied
transposed convolution (stride 1) is a correlation padded by ``k - 1``.
Unit ``(i, j)`` of a layer sees input rows ``u + i jump ... u + i jump + r - 1``
(and the same for columns); rows outside the image are the zero padding.

:func:`centre_crop` uses it to run a network only on the central crop of
its input that its centre units need (:class:`v1sim.physiology.ConvNetLayer`).
:func:`v1sim.visualize.receptive_fields` extends :func:`receptive_fields` to
the S/C hierarchies.

References
----------
.. [1] Araujo A, Norris W, Sim J (2019). Computing receptive fields of
   convolutional neural networks. Distill 4(11):e21.
.. [2] LeCun Y, Bottou L, Bengio Y, Haffner P (1998). Gradient-based learning
   applied to document recognition. Proc. IEEE 86(11):2278-2324 (LeNet-5's
   layer table).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .._core.validate import check_int_pair, describe
from ..errors import InputError, InputTypeError

__all__ = ["CentreCrop", "ReceptiveField", "centre_crop", "check_input_shape", "prefix_network", "receptive_fields"]


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

    @classmethod
    def of_input(cls, height: int, width: int) -> ReceptiveField:
        """The input's own pixels as units: size 1, jump 1, start 0, map (height, width)."""
        return cls((1, 1), (1, 1), (0, 0), (int(height), int(width)))


def receptive_fields(model, input_shape) -> dict:
    """The receptive field of the units of every layer of a ConvNet, by module name, in forward order.

    Parameters
    ----------
    model : v1sim.nn.Module
        Any tree of Sequential, residual and Inception blocks, convolutions,
        poolings and element-wise layers (layers with ``kernel_size``,
        ``stride``, ``padding`` and optional ``dilation``).
    input_shape : (C, H, W) tuple
        Per-sample input shape (the map sizes a global layer covers).

    Returns
    -------
    dict of str to ReceptiveField
        Module names of ``model.named_modules()``, containers included.

    Raises
    ------
    InputError
        For an input the model cannot take, or a layer without a
        receptive-field rule (named, with its type).
    InputTypeError
        If ``model`` is not a :class:`v1sim.nn.Module`.

    Examples
    --------
    >>> from v1sim.nn import models
    >>> fields = receptive_fields(models.build("lenet5", rng=0), (1, 32, 32))
    >>> fields["c3"].size, fields["c3"].jump, fields["c5"].size
    ((14, 14), (2, 2), (32, 32))
    """
    from .module import check_module

    check_module(model)
    if input_shape is None:
        raise InputError("input_shape (C, H, W) is needed for a ConvNet", argument="input_shape")
    shape = check_input_shape(input_shape)
    try:
        model.output_shape(shape)
    except InputError as exc:
        raise InputError(f"the model cannot take input_shape {shape}: {exc}", argument="input_shape") from None
    out: dict = {}
    _walk(model, "", ReceptiveField.of_input(*shape[1:]), shape, out)
    out.pop("", None)
    return out


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
    from .blocks import Concat, Residual, ZeroPadShortcut
    from .container import Sequential
    from .pooling import Flatten, GlobalAvgPool2d
    from .sparse import TiedConvTranspose2d

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
    elif isinstance(module, TiedConvTranspose2d):  # a full convolution: a correlation padded by k - 1
        k = module.encoder.kernel_size
        field = field.after(k, 1, tuple(ki - 1 for ki in k), 1, _spatial(after))
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


def prefix_network(model, layer: str):
    """A Sequential sharing ``model``'s modules that runs its input up to ``layer``'s output.

    ``layer`` must be reachable through Sequential containers (every layer of
    LeNet-5, AlexNet, VGG; a whole residual or Inception block, not a layer
    inside one).

    Raises
    ------
    InputError
        For a layer inside a block that is not a Sequential, or a name that is
        not a module of ``model`` (``argument="layer"``).
    """
    from .container import Sequential

    if not isinstance(layer, str):
        raise InputTypeError(f"layer must be a layer name (str), got {type(layer).__name__}", argument="layer")
    parts, chain, current, path = layer.split("."), [], model, []
    for part in parts:
        if not isinstance(current, Sequential):
            where = ".".join(path) or "the model"
            raise InputError(
                f"layer {layer!r} lies inside {where} ({type(current).__name__}), not a Sequential: "
                "take the whole block instead",
                argument="layer",
            )
        names = [n for n, _ in current.named_modules() if n and "." not in n]
        if part not in names:
            raise InputError(f"layer {layer!r} is not a module of the model", argument="layer")
        index = names.index(part)
        if index:
            chain.append(current[:index])
        current = current[part]
        path.append(part)
    chain.append(current)
    return Sequential(OrderedDict((str(i), m) for i, m in enumerate(chain)))


@dataclass(frozen=True)
class CentreCrop:
    """The central crop of a network's input on which the units at the centre of a layer's map are computed exactly.

    Attributes
    ----------
    offset : (int, int)
        Input (row, column) of the crop's top-left pixel.
    shape : (int, int)
        The crop's (rows, columns).
    network : v1sim.nn.Sequential
        The model's prefix up to the layer (:func:`prefix_network`, sharing
        its modules): its output's centre unit, ``[..., rows // 2, cols // 2]``,
        on the crop equals that of the model's layer on the whole input.
    """

    offset: tuple
    shape: tuple
    network: object

    def apply(self, x) -> np.ndarray:
        """The crop of (..., H, W) inputs (a view)."""
        (top, left), (rows, cols) = self.offset, self.shape
        return np.asarray(x)[..., top : top + rows, left : left + cols]


#: layers whose output at a position depends on where it is in the map, or on the whole map: no crop through them
_NOT_SHIFTABLE = ("Linear", "LocallyConnected2d", "Flatten", "GlobalAvgPool2d")


def centre_crop(model, layer, input_shape) -> CentreCrop | None:
    """The smallest central crop of the input that computes ``layer``'s centre units exactly, or None.

    The centre unit of an (H', W') map is ``[H' // 2, W' // 2]``. It sums the
    pixels of its receptive field only; when the field lies inside the
    image, a crop that starts a multiple of the layer's jump before it and
    holds it gives the cropped network a centre unit that sums the same
    pixels with the same weights. The crop is taken only where no unit the
    centre unit depends on, in any layer on the way, lies in a zero padding,
    in the whole input or in the crop (so the two compute the same
    arithmetic, equal up to the summation order of the convolution kernels:
    within float32 rounding), and the prefix network is translation
    equivariant (no Linear, LocallyConnected2d, Flatten or global pooling;
    batch norm and dropout in eval mode).

    Parameters
    ----------
    model : v1sim.nn.Module
    layer : str
        A module name reachable through Sequential containers
        (:func:`prefix_network`); a layer inside a residual or Inception
        block gets None.
    input_shape : (C, H, W) tuple

    Returns
    -------
    CentreCrop or None
        None where no crop smaller than the input exists (a field beyond the
        image, a global layer, a layer inside a block).

    Examples
    --------
    >>> from v1sim.nn import models
    >>> crop = centre_crop(models.build("lenet5", rng=0), "c3", (1, 32, 32))
    >>> crop.offset, crop.shape
    ((9, 9), (14, 14))
    """
    from .module import check_module

    check_module(model)
    names = [n for n, _ in model.named_modules() if n]
    if not isinstance(layer, str) or layer not in names:
        raise InputError(f"layer must name one of the model's modules, got {describe(layer)}", argument="layer")
    shape = check_input_shape(input_shape)
    try:
        prefix = prefix_network(model, layer)
    except InputError:  # inside a residual or Inception block: the whole input
        return None
    if any(type(m).__name__ in _NOT_SHIFTABLE for _, m in prefix.named_modules()):
        return None
    whole = receptive_fields(prefix, shape)
    out = whole[[n for n in whole if "." not in n][-1]]
    offset, sides = [], []
    for axis in (0, 1):
        size = shape[1 + axis]
        top = out.start[axis] + (out.map_shape[axis] // 2) * out.jump[axis]  # the centre unit's first input pixel
        if not _clear(whole, axis, top, out.size[axis], size):
            return None
        for side in range(out.size[axis], size):
            trial = list(shape)
            trial[1 + axis] = side
            found = _placed(prefix, tuple(trial), axis, top, size)
            if found is not None:
                offset.append(found)
                sides.append(side)
                break
        else:
            return None
    return CentreCrop(tuple(offset), tuple(sides), prefix)


def _placed(prefix, shape, axis, top, size) -> int | None:
    """The crop's offset along ``axis`` when a crop of ``shape`` computes the centre unit (field at ``top``)."""
    try:
        fields = receptive_fields(prefix, shape)
    except InputError:  # too small for a layer on the way
        return None
    out = fields[[n for n in fields if "." not in n][-1]]
    inner = out.start[axis] + (out.map_shape[axis] // 2) * out.jump[axis]
    offset = top - inner
    if (
        inner < 0
        or not 0 <= offset <= size - shape[1 + axis]
        or not _clear(fields, axis, inner, out.size[axis], shape[1 + axis])
    ):
        return None
    return offset


def _clear(fields, axis, top, size, image) -> bool:
    """True when no unit the centre unit (field ``[top, top + size)``) depends on is padding, in any layer.

    Such a unit's own field lies inside the centre's. The input's padding lies outside ``[0, image)``; the
    padding of a map past its last unit (right or bottom) has fields ending at ``start + n jump + size`` or
    later; padding before its first unit begins before 0 (a field's start only decreases, layer by layer).
    """
    if top < 0 or top + size > image:
        return False
    return all(top + size < f.start[axis] + f.map_shape[axis] * f.jump[axis] + f.size[axis] for f in fields.values())
