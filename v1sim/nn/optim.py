"""Stochastic gradient descent and learning-rate schedules, PyTorch-shaped.

:class:`SGD` applies, for every unfrozen parameter with a gradient (PyTorch's
formulation, dampening 0)::

    g = grad + weight_decay * w
    v = momentum * v + g                  # v = g on the first step
    g = g + momentum * v  if nesterov else v
    w = w - lr * lr_mult * g

``lr_mult`` is the parameter's own multiplier (Caffe's per-layer learning
rates; 0 or ``requires_grad=False`` freezes it, bit for bit: no weight decay,
no momentum). :func:`set_layer_rates` sets both by layer name, as transfer
learning wants (a frozen feature extractor, or fine-tuning at a tenth of the
rate). Parameters in GPU memory
are updated there by one fused kernel per parameter, their momentum buffers
kept on the device. Schedules change
``optimizer.lr``: :class:`StepLR` every ``step_size`` epochs,
:class:`ReduceLROnPlateau` when a validation metric stops improving.

Optimisers and schedules have ``state_dict()``/``load_state_dict()`` of plain
floats and arrays, so training resumes exactly from an ``.npz`` checkpoint.

References
----------
.. [1] I. Sutskever, J. Martens, G. Dahl, G. Hinton, "On the importance of
   initialization and momentum in deep learning", ICML 2013 (Nesterov momentum).
.. [2] A. Krizhevsky, I. Sutskever, G. Hinton, NIPS 2012 (momentum 0.9, weight
   decay 5e-4, learning rate divided by 10 when the validation error plateaus).
"""

from __future__ import annotations

import math

import numpy as np

from .._core.validate import (
    check_choice,
    check_in_range,
    check_nonnegative_int,
    check_positive_float,
    check_positive_int,
)
from ..errors import InputError, InputTypeError, NonFiniteError
from . import device as _device
from .config import layer_factors, layer_names
from .parameter import Parameter

__all__ = ["SGD", "StepLR", "ReduceLROnPlateau", "layer_parameters", "set_layer_rates"]


def _nonnegative(value, name) -> float:
    return check_in_range(value, name, 0.0, math.inf, inclusive=(True, False))


class SGD:
    """Stochastic gradient descent with momentum, Nesterov momentum and weight decay.

    Parameters
    ----------
    params : iterable of Parameter
        Usually ``model.parameters()``.
    lr : float
        Learning rate (> 0).
    momentum : float
        In [0, 1).
    weight_decay : float
        L2 penalty coefficient (>= 0), added to the gradient.
    nesterov : bool
        Nesterov's accelerated gradient (needs momentum > 0).

    Attributes
    ----------
    lr : float
        Current learning rate (schedules change it).
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        self.params = []
        for p in params:
            if not isinstance(p, Parameter):
                raise InputTypeError(
                    f"params must be Parameters (e.g. model.parameters()), got {type(p).__name__}", argument="params"
                )
            if all(p is not q for q in self.params):
                self.params.append(p)
        if not self.params:
            raise InputError("params is empty: the optimiser has nothing to update", argument="params")
        self.lr = check_positive_float(lr, "lr")
        self.momentum = check_in_range(momentum, "momentum", 0.0, 1.0, inclusive=(True, False))
        self.weight_decay = _nonnegative(weight_decay, "weight_decay")
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise InputError("nesterov=True needs momentum > 0", argument="nesterov")
        self._velocity: dict[int, np.ndarray] = {}  # index into params -> momentum buffer

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every trainable parameter that has a gradient, in place."""
        for i, p in enumerate(self.params):
            if not p.requires_grad or p.grad is None or p.lr_mult == 0:
                continue
            v = self._velocity.get(i)
            if _device.is_device(p.data):
                self._device_step(i, p, v)
                continue
            if v is not None and _device.is_device(v):  # the model came back from the GPU
                v = self._velocity[i] = _device.to_host(v)
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if self.momentum:
                if v is None:
                    v = self._velocity[i] = np.array(g, dtype=p.data.dtype, copy=True)
                else:
                    v *= self.momentum
                    v += g
                g = g + self.momentum * v if self.nesterov else v
            p.data -= (self.lr * p.lr_mult) * g

    def _device_step(self, i, p, v) -> None:
        """The update of a parameter in GPU memory, in one fused kernel (velocity kept on the device)."""
        first = v is None
        if self.momentum:
            v = self._velocity[i] = _device.kernels().empty(p.shape, p.dtype) if first else _device.to_device(v)
        grad = _device.to_device(p.grad)
        _device.kernels().elementwise.sgd_step(
            p.data,
            grad,
            grad if v is None else v,
            self.lr * p.lr_mult,
            self.weight_decay,
            self.momentum,
            self.nesterov,
            first,
        )

    def state_dict(self) -> dict:
        """Hyperparameters (floats) and momentum buffers (``"velocity.<i>"``, host arrays)."""
        state = {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay, "nesterov": self.nesterov}
        state.update((f"velocity.{i}", _device.host_copy(v)) for i, v in sorted(self._velocity.items()))
        return state

    def load_state_dict(self, state) -> None:
        """Restore :meth:`state_dict` (values may be 0-d arrays, as from ``np.load``)."""
        known = {"lr", "momentum", "weight_decay", "nesterov"}
        missing = sorted(known - set(state))
        if missing:
            raise KeyError(f"SGD.load_state_dict: missing key(s): {', '.join(missing)}")
        velocity = {}
        for key in state:
            if key in known:
                continue
            index = key[len("velocity.") :] if key.startswith("velocity.") else ""
            if not index.isdigit() or int(index) >= len(self.params):
                raise KeyError(
                    f"SGD.load_state_dict: unexpected key {key!r} (this optimiser has {len(self.params)} parameters)"
                )
            v = np.asarray(state[key])
            p = self.params[int(index)]
            if v.shape != p.shape:
                raise InputError(
                    f"SGD.load_state_dict: {key!r} has shape {v.shape}, its parameter has shape {p.shape}",
                    argument="state",
                )
            velocity[int(index)] = np.array(v, dtype=p.dtype, copy=True)
        self.lr = check_positive_float(float(state["lr"]), "lr")
        self.momentum = check_in_range(float(state["momentum"]), "momentum", 0.0, 1.0, inclusive=(True, False))
        self.weight_decay = _nonnegative(float(state["weight_decay"]), "weight_decay")
        self.nesterov = bool(state["nesterov"])
        self._velocity = velocity

    def __repr__(self) -> str:
        return (
            f"SGD(lr={self.lr:g}, momentum={self.momentum:g}, weight_decay={self.weight_decay:g}, "
            f"nesterov={self.nesterov}, params={len(self.params)})"
        )


def _summary_names(model) -> list[str]:
    """Names of the layers holding parameters, as ``v1sim summary`` prints them (two levels deep)."""
    return [
        name
        for name, m in model.named_modules()
        if name and name.count(".") <= 1 and next(iter(m.parameters()), None) is not None
    ]


def layer_parameters(model, names, argument="layers") -> dict:
    """The parameters of the layers ``names`` select: ``{name given: [Parameter, ...]}``.

    A name selects the module of that dotted name and every module below it
    (``"c1"``, ``"stage1"`` or ``"stage1.0.conv1"``; not ``"c"``).

    Raises
    ------
    v1sim.errors.InputError
        For a name that selects no parameters, listing the known layer names
        (``argument`` is named).
    """
    names = layer_names(names, argument)
    found = {}
    for name in names:
        selected = [m for full, m in model.named_modules() if full == name or full.startswith(name + ".")]
        params = list({id(p): p for m in selected for p in m.parameters()}.values())
        if not params:
            known = ", ".join(_summary_names(model))
            raise InputError(
                f"{argument}: the model has no layer {name!r} with parameters; known: {known} "
                "(or a dotted name below them)",
                argument=argument,
            )
        found[name] = params
    return found


def set_layer_rates(model, freeze=(), lr_mult=()):
    """Freeze layers and set per-layer learning-rate multipliers, in place; returns ``model``.

    Parameters
    ----------
    model : Module
    freeze : sequence of str
        Layers (names or prefixes, see :func:`layer_parameters`) whose
        parameters stop training: ``requires_grad=False``, so no gradient is
        stored and :class:`~v1sim.nn.SGD` leaves them bit-identical (weight
        decay and momentum included).
    lr_mult : sequence of (str, float) or dict
        ``Parameter.lr_mult`` of each named layer's parameters; a factor of
        0 leaves them as frozen ones are (the optimiser skips them).

    Notes
    -----
    Buffers are not parameters: a frozen BatchNorm still updates its running
    statistics in training mode, as in PyTorch.
    """
    for name, factor in layer_factors(lr_mult, "lr_mult"):
        for p in layer_parameters(model, [name], "lr_mult")[name]:
            p.lr_mult = factor
    for params in layer_parameters(model, freeze, "freeze").values():
        for p in params:
            p.requires_grad = False
    return model


class _Schedule:
    _fields: tuple = ()
    _added_later: tuple = ()  # fields that older checkpoints lack: a missing one keeps the constructor's value

    def __init__(self, optimizer):
        if not hasattr(optimizer, "lr"):
            raise InputTypeError(
                f"optimizer must have an lr attribute (e.g. SGD), got {type(optimizer).__name__}", argument="optimizer"
            )
        self.optimizer = optimizer

    def get_last_lr(self) -> float:
        return self.optimizer.lr

    def state_dict(self) -> dict:
        return {name: getattr(self, name) for name in self._fields}

    def load_state_dict(self, state) -> None:
        missing = [k for k in self._fields if k not in state and k not in self._added_later]
        unexpected = [k for k in state if k not in self._fields]
        if missing or unexpected:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing {missing}, unexpected {unexpected}")
        for name in (k for k in self._fields if k in state):
            current = getattr(self, name)
            value = state[name]
            setattr(self, name, type(current)(value.item() if isinstance(value, np.ndarray) else value))


class StepLR(_Schedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    After ``e`` calls of :meth:`step` (one per epoch),
    ``lr = base_lr * gamma ** (e // step_size)``.

    Parameters
    ----------
    optimizer : SGD
    step_size : int
    gamma : float
    """

    _fields = ("base_lr", "step_size", "gamma", "last_epoch")

    def __init__(self, optimizer, step_size, gamma=0.1):
        super().__init__(optimizer)
        self.step_size = check_positive_int(step_size, "step_size")
        self.gamma = check_positive_float(gamma, "gamma")
        self.base_lr = float(optimizer.lr)
        self.last_epoch = 0

    def step(self) -> None:
        self.last_epoch += 1
        self.optimizer.lr = self.base_lr * self.gamma ** (self.last_epoch // self.step_size)


class ReduceLROnPlateau(_Schedule):
    """Divide the learning rate when a metric has stopped improving (as Krizhevsky et al. did by hand).

    Call :meth:`step` with the validation metric once per epoch. An epoch
    improves when the metric beats the best so far by more than
    ``threshold`` (relative: ``best * (1 - threshold)`` in "min" mode;
    absolute: ``best - threshold``). After more than ``patience`` epochs
    without improvement the rate becomes ``max(lr * factor, min_lr)``, then
    ``cooldown`` epochs pass before counting again. A reduction of ``eps`` or
    less is skipped (the rate stays; the counters still reset), as in PyTorch:
    near ``min_lr``, rounding must not count as a change.

    Parameters
    ----------
    optimizer : SGD
    mode : {"min", "max"}
        Whether lower (loss, error) or higher (accuracy) is better.
    factor : float in (0, 1)
    patience : int >= 0
    threshold : float >= 0
    threshold_mode : {"rel", "abs"}
    cooldown : int >= 0
    min_lr : float >= 0
    eps : float >= 0
        Smallest change of the rate that is applied (PyTorch's default, 1e-8).
    """

    _fields = (
        "mode",
        "factor",
        "patience",
        "threshold",
        "threshold_mode",
        "cooldown",
        "min_lr",
        "eps",
        "best",
        "num_bad_epochs",
        "cooldown_counter",
        "last_epoch",
    )
    _added_later = ("eps",)

    def __init__(
        self,
        optimizer,
        mode="min",
        factor=0.1,
        patience=10,
        threshold=1e-4,
        threshold_mode="rel",
        cooldown=0,
        min_lr=0.0,
        eps=1e-8,
    ):
        super().__init__(optimizer)
        self.mode = check_choice(mode, "mode", ("min", "max"))
        self.factor = check_in_range(factor, "factor", 0.0, 1.0, inclusive=(False, False))
        self.patience = check_nonnegative_int(patience, "patience")
        self.threshold = _nonnegative(threshold, "threshold")
        self.threshold_mode = check_choice(threshold_mode, "threshold_mode", ("rel", "abs"))
        self.cooldown = check_nonnegative_int(cooldown, "cooldown")
        self.min_lr = _nonnegative(min_lr, "min_lr")
        self.eps = _nonnegative(eps, "eps")
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0

    def _is_better(self, metric: float) -> bool:
        if self.threshold_mode == "rel":
            margin = self.best * (1 - self.threshold) if self.mode == "min" else self.best * (1 + self.threshold)
        else:
            margin = self.best - self.threshold if self.mode == "min" else self.best + self.threshold
        return metric < margin if self.mode == "min" else metric > margin

    def step(self, metric) -> None:
        """Record one epoch's ``metric`` and lower the rate if it has plateaued."""
        metric = float(np.asarray(metric))
        if not math.isfinite(metric):
            raise NonFiniteError(f"metric must be finite, got {metric}", argument="metric")
        self.last_epoch += 1
        if self._is_better(metric):
            self.best, self.num_bad_epochs = metric, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.optimizer.lr * self.factor, self.min_lr)
            if self.optimizer.lr - new_lr > self.eps:
                self.optimizer.lr = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
