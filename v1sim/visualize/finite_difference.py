"""The input gradient of a unit without a backward pass: central finite differences, all in one batched forward.

The S/C hierarchies (:mod:`v1sim.hierarchy`: the Neocognitron, HMAX) have no
backward pass, so activation maximisation (:func:`v1sim.visualize.maximize_activation`)
takes the gradient of a unit's response ``a`` with respect to the ``P`` pixels
of its receptive field by central differences,

    da/dx_p = (a(x + h e_p) - a(x - h e_p)) / (2 h),

the ``2 P`` perturbed images evaluated as one batch. The unit sees only its
field, so the hierarchy runs on a small image holding that field (its side the
field's, or a few pixels more so that some unit's window lies inside it; the
rest of the image is zero and does not reach the unit): a step costs one forward
of ``2 P`` small images, not of ``2 P`` full ones. Fields above
:data:`MAX_FIELD_PIXELS` are refused: the work grows as ``P`` times the field's area.

The step ``h`` (:data:`FD_STEP`, 0.01 of the [0, 1] pixel range) is large for a
finite difference, on purpose: the hierarchies compute in float32 (a rounding
error near 1e-7 of the response, which a step of 1e-2 divides into 1e-5) and an
S-cell's response ``r phi[e - theta b v] / (1 + theta b v)`` is only piecewise
smooth (zero below its threshold, a kink at it; Fukushima 1980 [1]_), so a tiny
step measures rounding noise near the kink while a step of a hundredth of the
range averages over it, and lets a silent cell (zero response and zero slope
below its threshold) see a pixel that would lift it over. The ascent does not need the gradient exactly: it needs
an ascent direction, and it accepts a step only when the true response says the
objective did not fall.

References
----------
.. [1] Fukushima K (1980). Neocognitron: a self-organizing neural network model
   for a mechanism of pattern recognition unaffected by shift in position.
   Biological Cybernetics 36(4):193-202.
.. [2] Press WH, Teukolsky SA, Vetterling WT, Flannery BP (2007). Numerical
   Recipes, 3rd ed., section 5.7 (numerical derivatives: truncation against
   round-off error). Cambridge University Press.
"""

from __future__ import annotations

import numpy as np

from .._core.validate import as_float_array, check_nonnegative_int, check_positive_float, describe
from ..errors import InputError, InputTypeError
from .activations import check_layer
from .receptive_field import hierarchy_fields

__all__ = ["FD_STEP", "MAX_FIELD_PIXELS", "finite_difference_gradient", "hierarchy_unit_gradient", "unit_holder"]

FD_STEP = 1e-2  # pixels; see the module docstring
MAX_FIELD_PIXELS = 40 * 40  # 2 P small images per step: 3,200 at this bound
_MAX_BATCH = 8_000_000  # perturbed pixel values one forward may hold, (N * 2P) * P: 64 MB of float64


def finite_difference_gradient(response, x, *, step=FD_STEP) -> tuple:
    """The response of each image of ``x`` and its gradient by central differences (one call of ``response``).

    Parameters
    ----------
    response : callable
        Maps an (M, C, H, W) batch to the (M,) responses of one unit.
    x : (N, C, H, W) array_like
        The images (their dtype is kept: float64 for gradient checks).
    step : float
        The difference step ``h``, pixels (0 < h <= 1); see the module docstring.

    Returns
    -------
    value : (N,) ndarray
        ``response(x)``.
    gradient : (N, C, H, W) ndarray, float64
        ``(a(x + h e_p) - a(x - h e_p)) / (x_p^+ - x_p^-)``, the denominator the
        difference of the perturbed pixels as stored (exactly ``2 h`` up to rounding).

    Raises
    ------
    InputError
        For a step outside (0, 1] or too small to move the pixels, or a batch too large for one forward.
    InputTypeError
        If ``response`` is not callable.
    """
    if not callable(response):
        raise InputTypeError(f"response must be a callable of a batch, got {describe(response)}", argument="response")
    x = as_float_array(x, "x", ndim=4)
    step = check_positive_float(step, "step")
    if step > 1:
        raise InputError(f"step must be at most 1 (a difference step, in pixel units), got {step}", argument="step")
    n, pixels = len(x), int(np.prod(x.shape[1:]))
    if n * 2 * pixels * pixels > _MAX_BATCH:
        raise InputError(
            f"x holds {n} images of {pixels} pixels: {2 * n * pixels} perturbed images of that size are too many "
            f"for one forward (at most {_MAX_BATCH} pixel values)",
            argument="x",
        )
    flat = x.reshape(n, 1, pixels)
    delta = (step * np.eye(pixels)).astype(x.dtype)
    plus, minus = flat + delta, flat - delta  # (N, P, P): row p moves pixel p
    moved = np.einsum("npp->np", plus.astype(np.float64) - minus.astype(np.float64))
    if not (moved > 0).all():
        raise InputError(f"step {step} does not change the pixels of x at {x.dtype} precision", argument="step")
    batch = np.concatenate([x.reshape(n, 1, pixels), plus, minus], axis=1).reshape((-1,) + x.shape[1:])
    values = np.asarray(response(batch), dtype=np.float64)
    if values.shape != (len(batch),):
        raise InputError(
            f"response must return one value per image, shape ({len(batch)},), got {values.shape}", argument="response"
        )
    values = values.reshape(n, 1 + 2 * pixels)
    gradient = (values[:, 1 : 1 + pixels] - values[:, 1 + pixels :]) / moved
    return values[:, 0], gradient.reshape(x.shape)


def unit_holder(model, layer) -> tuple:
    """The small image that holds one unit's field of hierarchy stage ``layer``, and where.

    Returns
    -------
    side : int
        The holder image is ``side`` x ``side``: the field's size, or a few pixels
        more when the layer's stride and padding put no unit's window at its corner.
    offset : (int, int)
        (top, left) of the unit's window in the holder.
    position : (int, int)
        (row, column) of that unit in the layer's map on the holder.
    field : ReceptiveField
        The layer's field on the model's configured image.

    Raises
    ------
    InputError
        For a field larger than :data:`MAX_FIELD_PIXELS` (the message gives its size and the bound).
    """
    from .receptive_field import receptive_fields

    field = receptive_fields(model)[check_layer(model, layer)]
    rows, cols = field.size
    if rows * cols > MAX_FIELD_PIXELS:
        raise InputError(
            f"layer {layer}'s receptive field is {rows}x{cols} = {rows * cols} pixels; finite-difference activation "
            f"maximisation of a hierarchy takes at most {MAX_FIELD_PIXELS} (40x40: 2 forwards per pixel per step); "
            "choose a lower stage",
            argument="layer",
        )
    for side in range(max(rows, cols), max(rows, cols) + 4 * max(field.jump) + 1):
        small = hierarchy_fields(model, side, upto=layer)[layer]
        index = [-(s // j) if s < 0 else 0 for s, j in zip(small.start, small.jump)]  # ceil(-s / j): first inside
        top, left = (s + j * i for s, j, i in zip(small.start, small.jump, index))
        inside = all(i < m for i, m in zip(index, small.map_shape)) and top + rows <= side and left + cols <= side
        if inside:
            return side, (top, left), (index[0], index[1]), field
    raise InputError(f"layer {layer}: no unit's window fits an image of its field's size", argument="layer")


def hierarchy_unit_gradient(model, layer, unit, x, *, step=FD_STEP) -> tuple:
    """The response of one unit of hierarchy stage ``layer`` to each receptive-field image of ``x``, and its gradient.

    Parameters
    ----------
    model : v1sim.hierarchy.Neocognitron or HMAX
    layer : str
        A built stage ("US1", "UC1", ...) whose field has at most :data:`MAX_FIELD_PIXELS` pixels.
    unit : int
        Cell plane.
    x : (N, 1, rh, rw) array_like
        Images of the unit's receptive field (:func:`v1sim.visualize.receptive_field`'s size).
    step : float
        Finite-difference step (:data:`FD_STEP`).

    Returns
    -------
    response : (N,) ndarray
    gradient : (N, 1, rh, rw) ndarray
    position : (int, int)
        The unit's (row, column) in the stage's map on the holder image (:func:`unit_holder`).
    """
    from ..hierarchy.base import Hierarchy

    if not isinstance(model, Hierarchy):
        raise InputTypeError(
            f"model must be an S/C hierarchy (Neocognitron, HMAX), got {describe(model)}", argument="model"
        )
    side, (top, left), position, field = unit_holder(model, layer)
    x = as_float_array(x, "x", ndim=4)
    if x.shape[1:] != (1,) + field.size:
        raise InputError(
            f"x must be (N, 1, {field.size[0]}, {field.size[1]}) ({layer}'s field), got {x.shape}", argument="x"
        )
    unit = check_nonnegative_int(unit, "unit")
    planes = _planes(model, layer, side)
    if unit >= planes:
        raise InputError(f"unit must be below {planes} (planes of {layer}), got {unit}", argument="unit")

    def response(batch):
        holder = np.zeros((len(batch), 1, side, side), np.float32)
        holder[:, :, top : top + field.size[0], left : left + field.size[1]] = batch
        prev = holder
        for stage in model.STAGES[1 : model.STAGES.index(layer) + 1]:
            prev = model.stage_output(stage, prev)
        return prev[(slice(None), unit) + position]

    value, gradient = finite_difference_gradient(response, x, step=step)
    return value, gradient, position


def _planes(model, layer, side) -> int:
    """Planes of a stage: those of its output on a blank holder image."""
    prev = np.zeros((1, 1, side, side), np.float32)
    for stage in model.STAGES[1 : model.STAGES.index(layer) + 1]:
        prev = model.stage_output(stage, prev)
    return prev.shape[1]
