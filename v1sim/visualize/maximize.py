"""Activation maximisation: the input that drives a unit hardest, by gradient ascent through ``Module.backward``.

Starting from a grey image plus a little noise, the input ``x`` climbs the
gradient of the objective

    J(x) = a(x) - (l2 / 2) ||x - background||^2

where ``a`` is the unit's response (Erhan et al. 2009 [1]_; Simonyan et al.
2014 [2]_ with the L2 penalty). The gradient of ``a`` is the network's own
input gradient (:meth:`v1sim.nn.Module.backward` from a one-hot output
gradient), run only as far as the unit's layer. Each step moves ``x`` by
``lr`` times the gradient divided by its root mean square (so ``lr`` is in
pixel units whatever the layer's scale) and clips it to the pixel range;
a step that would lower ``J`` is halved until it does not (up to 10
times), so the ascent is monotone. Every ``blur_every`` steps the image is
blurred by a Gaussian of ``blur_sigma`` pixels (Yosinski et al. 2015 [3]_),
a regulariser that favours the smooth images a network sees over
high-frequency patterns; the blur may lower ``J`` (the trace shows it).

The loop (:func:`gradient_ascent`) takes the gradient as a function. An S/C
hierarchy (the Neocognitron, HMAX) has no backward pass: its gradient is
taken by central finite differences over the unit's receptive field
(:mod:`v1sim.visualize.finite_difference`), and the image is that field. The
objective, regulariser and step rule are the same.

References
----------
.. [1] Erhan D, Bengio Y, Courville A, Vincent P (2009). Visualizing
   higher-layer features of a deep network. Technical report 1341,
   Universite de Montreal.
.. [2] Simonyan K, Vedaldi A, Zisserman A (2014). Deep inside convolutional
   networks: visualising image classification models and saliency maps.
   ICLR 2014 workshop.
.. [3] Yosinski J, Clune J, Nguyen A, Fuchs T, Lipson H (2015).
   Understanding neural networks through deep visualization. ICML 2015
   Deep Learning Workshop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._core.validate import (
    as_float_array,
    check_finite_float,
    check_in_range,
    check_nonnegative_int,
    check_positive_float,
    check_positive_int,
    check_rng,
    describe,
)
from ..errors import InputError, InputTypeError
from ..nn.receptive_field import prefix_network
from .activations import check_layer
from .finite_difference import hierarchy_unit_gradient, unit_holder
from .receptive_field import check_input_shape, receptive_fields

__all__ = ["Maximization", "gradient_ascent", "maximize_activation", "unit_gradient"]

_HALVINGS = 10  # step halvings tried before a step is given up
_MAX_STEPS = 100_000  # a bound on the work one call may ask for


@dataclass(frozen=True)
class Maximization:
    """The result of :func:`maximize_activation`.

    Attributes
    ----------
    image : (C, H, W) ndarray
        The input found.
    responses : (steps + 1,) ndarray
        The unit's response ``a(x)`` before the first step and after each.
    objective : (steps + 1,) ndarray
        ``J(x) = a(x) - (l2 / 2) ||x - background||^2`` at the same points.
    layer : str
    unit : int
    position : (int, int)
        (row, column) of the unit in its layer's map ((0, 0) for a vector layer).
    """

    image: np.ndarray
    responses: np.ndarray
    objective: np.ndarray
    layer: str
    unit: int
    position: tuple


def unit_gradient(model, layer, unit, x, position=None) -> tuple:
    """The response of one unit of ``layer`` to each image of ``x`` and its gradient with respect to ``x``.

    Parameters
    ----------
    model : v1sim.nn.Module
    layer : str
        A layer name reachable through Sequential containers.
    unit : int
        Channel (feature) index.
    x : (N, C, H, W) ndarray
        Float32 or float64 inputs (float64 for gradient checks: give the
        model ``.double()`` weights too).
    position : (int, int), optional
        (row, column) of the unit in the map; default the centre ``(H // 2, W // 2)``.

    Returns
    -------
    response : (N,) ndarray
    gradient : (N, C, H, W) ndarray
    position : (int, int)

    Notes
    -----
    The model runs in eval mode (its mode is restored). The parameters'
    ``grad`` are restored as they were: the backward pass adds into them.
    """
    from ..nn import Module
    from ..nn.device import to_host

    if not isinstance(model, Module):
        raise InputTypeError(
            f"model must be a v1sim.nn.Module (activation maximisation needs its backward pass), got {describe(model)}",
            argument="model",
        )
    check_layer(model, layer)
    net = prefix_network(model, layer)
    x = as_float_array(x, "x", ndim=4)
    params = list(model.parameters())
    saved = [p.grad for p in params]
    was_training = model.training
    model.eval()
    try:
        out = to_host(net(x))
        unit = check_nonnegative_int(unit, "unit")
        if unit >= out.shape[1]:
            raise InputError(f"unit must be below {out.shape[1]} (channels of {layer!r}), got {unit}", argument="unit")
        if out.ndim == 4:
            position = _check_position(position, out.shape[2:])
            index = (slice(None), unit) + position
        elif out.ndim == 2:
            position, index = (0, 0), (slice(None), unit)
        else:
            raise InputError(f"layer {layer!r} gives {out.ndim - 1}-D samples: no units to maximise", argument="layer")
        grad_out = np.zeros_like(out)
        grad_out[index] = 1
        grad = to_host(net.backward(grad_out))
    finally:
        for p, g in zip(params, saved):
            p.grad = g
        model.train(was_training)
    return np.array(out[index]), np.asarray(grad), position


def _check_position(position, shape) -> tuple:
    if position is None:
        return shape[0] // 2, shape[1] // 2
    ok = isinstance(position, (tuple, list)) and len(position) == 2
    ok = ok and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in position)
    if not ok or not all(0 <= v < n for v, n in zip(position, shape)):
        raise InputError(
            f"position must be (row, column) inside the {shape} map, got {describe(position)}", argument="position"
        )
    return int(position[0]), int(position[1])


def maximize_activation(
    model,
    layer,
    unit,
    *,
    input_shape=None,
    steps=100,
    lr=0.05,
    l2=0.01,
    blur_every=4,
    blur_sigma=0.5,
    background=0.0,
    bounds=(0.0, 1.0),
    position=None,
    start=None,
    rng=None,
    progress=False,
) -> Maximization:
    """The input that maximises one unit's response, by regularised gradient ascent (see the module docstring).

    Parameters
    ----------
    model : v1sim.nn.Module or v1sim.hierarchy.Neocognitron / HMAX
        A ConvNet (gradient by its backward pass) or an S/C hierarchy (by
        finite differences over the unit's receptive field, which must hold at
        most :data:`~v1sim.visualize.finite_difference.MAX_FIELD_PIXELS` pixels).
    layer : str
        The unit's layer, reachable through Sequential containers, or a hierarchy's stage ("US1", "UC1", ...).
    unit : int
        Its channel (feature) index, or cell plane.
    input_shape : (C, H, W)
        The model's per-sample input; required for a ConvNet. A hierarchy's
        image is its unit's receptive field (``input_shape`` None or its
        ``(1, image_size, image_size)``).
    steps : int
        Gradient steps (>= 1).
    lr : float
        Step length: pixels of root-mean-square change per step (> 0).
    l2 : float
        Weight of the L2 penalty ``(l2 / 2) ||x - background||^2`` (>= 0).
    blur_every : int
        Blur the image every this many steps (0: never).
    blur_sigma : float
        Standard deviation of that blur, pixels (> 0).
    background : float
        The grey the image starts from and the penalty pulls towards (0 for
        digits, ink = 1).
    bounds : (float, float)
        The pixel range the image is clipped to.
    position : (int, int), optional
        The unit's (row, column) in its map; default the centre. ConvNets
        only: a hierarchy's unit is the one whose window fills the small image
        that holds its field (:func:`~v1sim.visualize.finite_difference.unit_holder`).
    start : (C, H, W) array_like, optional
        Start image; default ``background`` plus uniform noise of 0.01.
    rng : None, int or Generator
        Seeds the start noise.
    progress : bool
        A tqdm bar on stderr.

    Returns
    -------
    Maximization

    Raises
    ------
    InputError
        For an unknown layer or unit, a layer inside a residual block, or bad settings (each named).
    """
    from ..hierarchy.base import Hierarchy
    from ..nn import Module

    steps = check_positive_int(steps, "steps")
    if steps > _MAX_STEPS:
        raise InputError(f"steps must be at most {_MAX_STEPS}, got {steps}", argument="steps")
    lr = check_positive_float(lr, "lr")
    l2 = check_in_range(l2, "l2", 0.0, 1e6)
    blur_every = check_nonnegative_int(blur_every, "blur_every")
    blur_sigma = check_positive_float(blur_sigma, "blur_sigma")
    background = check_finite_float(background, "background")
    bounds = _check_bounds(bounds)
    if isinstance(model, Hierarchy):
        if position is not None:
            raise InputError("position is for ConvNets: a hierarchy's unit is its field's (None)", argument="position")
        receptive_fields(model, input_shape)  # None or its (1, image_size, image_size), else an InputError
        _, _, position, field = unit_holder(model, layer)
        shape, dtype = (1,) + field.size, np.dtype(np.float32)

        def gradient(x):
            return hierarchy_unit_gradient(model, layer, unit, x)[:2]

        gradient(np.full((1,) + shape, background, dtype))  # checks the unit before the loop
    elif isinstance(model, Module):
        shape = check_input_shape(input_shape)
        check_layer(model, layer)
        dtype = next((np.dtype(p.data.dtype) for p in model.parameters()), np.dtype(np.float32))
        position = unit_gradient(model, layer, unit, np.zeros((1,) + shape, dtype), position)[2]

        def gradient(x):
            return unit_gradient(model, layer, unit, x, position)[:2]

    else:
        raise InputTypeError(
            f"model must be a v1sim.nn.Module or an S/C hierarchy (Neocognitron, HMAX), got {describe(model)}",
            argument="model",
        )
    if start is None:
        x = background + 0.01 * check_rng(rng).random(shape)
    else:
        x = as_float_array(start, "start", ndim=3)
        if x.shape != shape:
            raise InputError(f"start must have shape {shape} (the unit's input), got {x.shape}", argument="start")
    image, responses, values = gradient_ascent(
        gradient,
        x.astype(dtype),
        steps=steps,
        lr=lr,
        l2=l2,
        blur_every=blur_every,
        blur_sigma=blur_sigma,
        background=background,
        bounds=bounds,
        progress=progress,
        desc=f"maximise {layer}[{unit}]",
    )
    return Maximization(image, responses, values, layer, int(unit), position)


def gradient_ascent(
    gradient, start, *, steps, lr, l2, blur_every, blur_sigma, background, bounds, progress=False, desc="ascent"
) -> tuple:
    """The regularised ascent of :func:`maximize_activation` on any unit, given its gradient function.

    ``gradient`` maps a (1, C, H, W) image to ``(response (1,), gradient (1, C, H, W))``:
    :func:`unit_gradient` for a ConvNet, :func:`~v1sim.visualize.finite_difference.hierarchy_unit_gradient`
    for a hierarchy. The arguments are those of :func:`maximize_activation`, checked there.

    Returns
    -------
    image : (C, H, W) ndarray
    responses, objective : (steps + 1,) ndarray
    """
    from scipy import ndimage
    from tqdm.auto import trange

    low, high = bounds

    def objective(a, image):
        return float(a) - 0.5 * l2 * float(np.sum((image.astype(np.float64) - background) ** 2))

    x = np.clip(start, low, high).astype(start.dtype)[None]
    a, grad = gradient(x)
    responses, values = [float(a[0])], [objective(a[0], x)]
    step = lr
    for i in trange(steps, desc=desc, disable=not progress, leave=False):
        g = grad[0] - l2 * (x[0] - background)
        rms = float(np.sqrt(np.mean(g.astype(np.float64) ** 2)))
        step = min(step * 2, lr)  # recover from earlier halvings
        if rms > 0:
            for _ in range(_HALVINGS):
                trial = np.clip(x + (step / rms) * g[None], low, high).astype(x.dtype)
                a_trial, grad_trial = gradient(trial)
                if objective(a_trial[0], trial) >= values[-1]:
                    x, a, grad = trial, a_trial, grad_trial
                    break
                step /= 2
        if blur_every and (i + 1) % blur_every == 0:
            x = ndimage.gaussian_filter(x, (0, 0, blur_sigma, blur_sigma), mode="nearest").astype(x.dtype)
            a, grad = gradient(x)
        responses.append(float(a[0]))
        values.append(objective(a[0], x))
    return x[0], np.asarray(responses), np.asarray(values)


def _check_bounds(bounds) -> tuple:
    ok = isinstance(bounds, (tuple, list)) and len(bounds) == 2
    if ok:
        low, high = (check_finite_float(b, "bounds") for b in bounds)
        if low < high:
            return low, high
    raise InputError(f"bounds must be (low, high) with low < high, got {describe(bounds)}", argument="bounds")
