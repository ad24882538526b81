"""What a :func:`v1sim.nn.train.fit` checkpoint holds, the checks a resume makes, and how it is restored.

A checkpoint (``last.npz``, ``previous.npz``, ``best.npz`` of the run folder,
:class:`v1sim._core.runs.RunFolder`) is the arrays ``model/<name>`` (weights
and buffers) and ``optim/velocity.<i>`` (momentum), plus JSON metadata: the
configuration, the optimiser's settings, the schedule, the random generators
of dropout layers, the position reached (epoch, batch, sums of the epoch so
far and of the step-log window), the epoch and step histories and the run's
facts. The functions take the run in hand (``run``: its ``model``,
``optimizer``, ``schedule``, ``config``, ``steps_per_epoch``, ``position``,
``window``, ``history``, ``steps_log`` and ``meta``).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from .._core.runs import differences, finite_number, require
from ..errors import CheckpointError
from .config import TrainConfig

__all__ = ["check_checkpoint", "checkpoint_state", "fresh_position", "fresh_window", "generators", "restore_checkpoint"]


def generators(model):
    """The random generators held by modules (dropout), by module name."""
    return {
        name: m.rng for name, m in model.named_modules() if isinstance(getattr(m, "rng", None), np.random.Generator)
    }


def fresh_position(epoch=0):
    """Where a run stands: the epoch, the batch reached in it, and the sums of that epoch so far."""
    return {"epoch": epoch, "batch": 0, "loss_sum": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}


def fresh_window():
    """The sums of the SGD steps since the last ``steps.jsonl`` record."""
    return {"loss_sum": 0.0, "wrong": 0, "seen": 0, "steps": 0}


def checkpoint_state(run) -> tuple[dict, dict]:
    """The arrays and the JSON metadata of a checkpoint of ``run`` (a fit run), now."""
    arrays = {f"model/{k}": v for k, v in run.model.state_dict().items()}
    optim = run.optimizer.state_dict()
    arrays.update((f"optim/{k}", v) for k, v in optim.items() if isinstance(v, np.ndarray))
    info = {
        "config": dataclasses.asdict(run.config),
        "optimizer": {k: v for k, v in optim.items() if not isinstance(v, np.ndarray)},
        "schedule": run.schedule.state_dict() if run.schedule is not None else None,
        "generators": {k: g.bit_generator.state for k, g in generators(run.model).items()},
        "progress": dict(run.position, window=run.window),
        "history": run.history,
        "steps": run.steps_log,
        **run.meta,
    }
    return arrays, info


def check_checkpoint(run, arrays, info, path) -> None:
    """Refuse (one CheckpointError naming ``path``) a checkpoint that is not a consistent state of ``run``."""

    def bad(what):
        return CheckpointError(f"checkpoint {path} is inconsistent: {what}", path=path)

    config = require(path, info, "config", dict, "the run's configuration")
    progress = require(path, info, "progress", dict, "the position reached")
    optim = require(path, info, "optimizer", dict, "the optimiser's settings")
    history = require(path, info, "history", list, "a list of epoch records")
    require(path, {"steps": [], **info}, "steps", list, "a list of step records")
    require(path, {"generators": {}, **info}, "generators", dict, "the random generators by module")
    defaults = dataclasses.asdict(TrainConfig())  # fields added after the checkpoint take their defaults
    other = differences(
        {**defaults, **config}, {k: v for k, v in dataclasses.asdict(run.config).items() if k != "epochs"}
    )
    if other:
        raise bad(f"it belongs to another run ({'; '.join(other)})")
    epochs = require(path, config, "epochs", int, "a positive number of epochs")
    epoch, batch = (require(path, progress, k, int, "a count") for k in ("epoch", "batch"))
    seen = require(path, progress, "seen", int, "a count")
    correct = require(path, progress, "correct", (int, float), "a count or a sum of scores")  # float: reconstruction
    if not 0 <= epoch <= epochs:
        raise bad(f"progress epoch {epoch} is outside 0..{epochs} (its configured epochs)")
    if not 0 <= batch <= run.steps_per_epoch or (epoch == epochs and batch):
        raise bad(f"progress batch {batch} is beyond the {run.steps_per_epoch} batches of epoch {epoch + 1}")
    if not 0 <= correct <= seen or not all(finite_number(progress.get(k)) for k in ("loss_sum", "seconds")):
        raise bad(f"progress sums {json.dumps({k: progress.get(k) for k in ('loss_sum', 'correct', 'seen')})}")
    if [h.get("epoch") if isinstance(h, dict) else h for h in history] != list(range(1, epoch + 1)):
        raise bad(f"history does not hold the records of epochs 1..{epoch}")
    if run.schedule is not None and not isinstance(info.get("schedule"), dict):
        raise bad("the learning-rate schedule's state is missing")
    if not all(finite_number(optim.get(k)) for k in ("lr", "momentum", "weight_decay")):
        raise bad(f"optimizer settings {json.dumps(optim)[:80]} lack a finite lr, momentum or weight_decay")
    _check_arrays(run, arrays, optim, epoch or batch, bad)


def _check_arrays(run, arrays, optim, trained, bad) -> None:
    want = {k: v.shape for k, v in run.model.state_dict().items()}
    got = {k[len("model/") :]: a for k, a in arrays.items() if k.startswith("model/")}
    missing, unexpected = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    if missing or unexpected:
        raise bad(f"the model's arrays do not match (missing {missing}, unexpected {unexpected})")
    for k, shape in want.items():
        if got[k].shape != shape:
            raise bad(f"array model/{k} has shape {got[k].shape}, the model's has {shape}")
    velocity = {k[len("optim/") :]: a for k, a in arrays.items() if k.startswith("optim/")}
    params = run.optimizer.params
    for k, a in velocity.items():
        i = k[len("velocity.") :]
        if not (k.startswith("velocity.") and i.isdigit() and int(i) < len(params)):
            raise bad(f"unexpected optimiser array optim/{k}")
        if a.shape != params[int(i)].shape:
            raise bad(f"optimiser array optim/{k} has shape {a.shape}, its parameter {params[int(i)].shape}")
    if trained and optim["momentum"] and not velocity:  # resuming would silently restart momentum from zero
        raise bad("its momentum buffers (optim/velocity.*) are missing")


def restore_checkpoint(run, arrays, info) -> None:
    """Load a checkpoint that passed :func:`check_checkpoint` into ``run``'s model, optimiser, schedule and counters."""
    run.model.load_state_dict({k[len("model/") :]: v for k, v in arrays.items() if k.startswith("model/")})
    optim_state = dict(info["optimizer"])
    optim_state.update({k[len("optim/") :]: v for k, v in arrays.items() if k.startswith("optim/")})
    run.optimizer.load_state_dict(optim_state)
    if run.schedule is not None:
        run.schedule.load_state_dict(info["schedule"])
    held = generators(run.model)
    for name, state in info.get("generators", {}).items():
        if name in held:
            held[name].bit_generator.state = state
    run.history, run.steps_log = list(info["history"]), list(info.get("steps", []))
    run.position = dict(info["progress"])
    run.window = dict(run.position.pop("window", fresh_window()))
