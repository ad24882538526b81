"""Reading a network's intermediate outputs: one forward pass, stopped once the last wanted layer has run.

The one place that intercepts a module's output. Feature visualisation
(:func:`v1sim.visualize.layer_outputs`) and the V1 benchmark's units
(:class:`v1sim.physiology.ConvNetLayer`) read layers through it; a fused fast
path that skips a module's own forward (a residual block's add + ReLU) asks
:func:`is_captured` and runs the module instead while it is watched.
"""

from __future__ import annotations

import numpy as np

from .device import to_host

__all__ = ["capture_outputs", "is_captured"]


class _Done(Exception):
    """Raised once every wanted module has run: the rest of the network is skipped."""


def is_captured(module) -> bool:
    """Whether :func:`capture_outputs` is watching ``module`` now (its ``forward`` is shadowed on the instance)."""
    return "forward" in module.__dict__


def capture_outputs(model, x, names) -> dict:
    """The outputs of ``model``'s modules ``names`` for input ``x``: host copies, from one eval-mode pass.

    The pass stops after the last of them has run; modules that did not run
    are missing from the result. The model's training mode and its modules'
    forwards are restored whatever happens.
    """
    modules = dict(model.named_modules())
    names = list(dict.fromkeys(names))
    captured: dict = {}
    for name in names:

        def capture(inp, _name=name, _forward=modules[name].forward):
            out = _forward(inp)
            captured[_name] = np.array(to_host(out), copy=True)
            if len(captured) == len(names):
                raise _Done
            return out

        object.__setattr__(modules[name], "forward", capture)  # an instance attribute shadows the class's forward
    was_training = model.training
    model.eval()
    try:
        model(x)
    except _Done:
        pass
    finally:
        for name in names:
            modules[name].__dict__.pop("forward", None)
        model.train(was_training)
    return captured
