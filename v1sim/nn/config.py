"""TrainConfig: the hyper-parameters of a :func:`v1sim.nn.train.fit` run, and the learning-rate warm-up."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .._core.validate import check_in_range, check_nonnegative_int, check_positive_float, check_positive_int
from ..errors import InputError, InputTypeError

__all__ = ["TrainConfig", "layer_factors", "layer_names", "warmup_factor"]


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of a run (all of them go into the checkpoints).

    Attributes
    ----------
    epochs : int
        Passes over the training set.
    batch_size : int
        Images per SGD step.
    lr : float
        Base learning rate.
    momentum : float
        SGD momentum in [0, 1).
    weight_decay : float
        L2 penalty coefficient (added to the gradient).
    nesterov : bool
        Nesterov momentum.
    lr_step : int
        Divide the learning rate by ``1 / lr_gamma`` every ``lr_step`` epochs
        (0: constant learning rate).
    lr_gamma : float
        Factor of the step schedule.
    seed : int
        Seeds the batch order and dropout (weights are seeded by the caller).
    warmup_steps : int
        Raise the learning rate linearly from ``lr / 10`` to ``lr`` over the
        first ``warmup_steps`` SGD steps (0: no warm-up). He et al. start
        ResNet-110 at a tenth of the rate until training gets going.
    log_every : int
        Append the mean training loss and error of every ``log_every`` SGD
        steps to ``steps.jsonl`` (0: no step log).
    freeze : tuple of str
        Layers left untrained, by name or name prefix as ``v1sim summary``
        prints them (``"c1"``, ``"stage1"``): their parameters keep their
        values bit for bit (see :func:`v1sim.nn.transfer.set_layer_rates`).
    lr_mult : tuple of (str, float)
        Per-layer learning-rate multipliers, ``(("c1", 0.1), ...)``: the
        layer trains at ``lr * factor`` (0 equals freezing it).
    shift : int
        Augmentation: each training image moved by up to ``shift`` pixels
        each way, zero-filled (:func:`v1sim.datasets.augment`; 0: none).
    flip : bool
        Augmentation: each training image mirrored left-right with
        probability 1/2 (not for digits: a mirrored 2 is no 2). The draws of
        a minibatch come from a generator seeded with ``(seed, epoch,
        batch)``, so a resumed run augments as an uninterrupted one.
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    nesterov: bool = False
    lr_step: int = 0
    lr_gamma: float = 0.1
    seed: int = 0
    warmup_steps: int = 0
    log_every: int = 50
    freeze: tuple = ()
    lr_mult: tuple = ()
    shift: int = 0
    flip: bool = False

    def __post_init__(self):
        check_positive_int(self.epochs, "epochs")
        check_positive_int(self.batch_size, "batch_size")
        check_positive_float(self.lr, "lr")
        check_in_range(self.momentum, "momentum", 0.0, 1.0, inclusive=(True, False))
        check_in_range(self.weight_decay, "weight_decay", 0.0, math.inf)
        check_nonnegative_int(self.lr_step, "lr_step")
        check_in_range(self.lr_gamma, "lr_gamma", 0.0, 1.0, inclusive=(False, True))
        check_nonnegative_int(self.seed, "seed")
        check_nonnegative_int(self.warmup_steps, "warmup_steps")
        check_nonnegative_int(self.log_every, "log_every")
        check_nonnegative_int(self.shift, "shift")
        if not isinstance(self.flip, bool):
            raise InputTypeError(f"flip must be True or False, got {self.flip!r}", argument="flip")
        # lists (from run.json) become tuples: the config stays hashable and compares equal to the original
        object.__setattr__(self, "freeze", layer_names(self.freeze, "freeze"))
        object.__setattr__(self, "lr_mult", layer_factors(self.lr_mult, "lr_mult"))

    def lr_factor(self, step: int) -> float:
        """Warm-up factor of the learning rate at (0-based) SGD step ``step`` (see :func:`warmup_factor`)."""
        return warmup_factor(step, self.warmup_steps)


def layer_names(names, argument) -> tuple:
    """``names`` (a string or a sequence of strings, non-empty each) as a tuple of str."""
    if isinstance(names, str):
        names = (names,)
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n for n in names):
        raise InputTypeError(f"{argument} must be a sequence of layer names, got {names!r}", argument=argument)
    return tuple(names)


def layer_factors(pairs, argument) -> tuple:
    """``pairs`` (a mapping or a sequence of ``(name, factor)``) as a tuple of (str, float), factors >= 0."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    if not isinstance(items, (list, tuple, type({}.items()))):
        raise InputTypeError(f"{argument} must be (layer, factor) pairs, got {pairs!r}", argument=argument)
    out = []
    for item in items:
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str) and item[0]):
            raise InputTypeError(f"{argument} must be (layer, factor) pairs, got {item!r}", argument=argument)
        factor = item[1]
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 <= factor < math.inf:
            raise InputError(
                f"{argument}: the factor of layer {item[0]!r} must be a finite number >= 0, got {factor!r}",
                argument=argument,
            )
        out.append((item[0], float(factor)))
    return tuple(out)


def warmup_factor(step: int, warmup_steps: int) -> float:
    """Linear warm-up: the learning rate's factor at (0-based) step ``step``, 0.1 -> 1 over ``warmup_steps``, then 1."""
    if step >= warmup_steps:
        return 1.0
    return 0.1 + 0.9 * step / warmup_steps
