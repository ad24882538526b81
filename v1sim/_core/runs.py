"""The run folder every trainer writes: how a run was started, its logs, its checkpoints, its resume.

One folder per run, the same for :func:`v1sim.nn.train.fit` (SGD) and
:func:`v1sim.hierarchy.train` (Neocognitron, HMAX):

``run.json``
    How the run was started (configuration, model, dataset, sizes). Written
    once, when the run starts; never rewritten, also not by a resume.
``metrics.jsonl`` / ``steps.jsonl``
    Per-epoch (per-stage) records and the finer training curve. Derived
    data: rewritten whole, atomically, from the checkpoint's history, so a
    resume makes them agree with the state it continues from.
``last.npz`` / ``previous.npz``
    The newest resumable checkpoint and the one before it. A new ``last`` is
    written completely to a temporary file and fsynced before the old one is
    renamed to ``previous`` and the new one into place, so at every instant
    one of the two is a complete checkpoint. A resume takes the newest one
    that loads and passes the trainer's checks, and says on stderr when it
    had to fall back.
``best.npz``
    The model worth keeping (lowest test error; a hierarchy's finished model).

Stale ``.*.tmp`` files of a killed writer are removed when a run starts or
resumes. :func:`deferred_interrupt` turns Ctrl-C into a flag the trainer
checks at safe points, so a checkpoint is never cut in half.
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
import sys
from pathlib import Path

import numpy as np

from ..errors import CheckpointError, InputError, TrainingInterrupted
from .io import checkpoint_path, load_checkpoint, remove_stale_temporaries, save_checkpoint, write_json, write_jsonl

__all__ = ["RunFolder", "check_finite", "deferred_interrupt", "differences", "finite_number", "require"]


def differences(saved: dict, given: dict, *, names: dict | None = None) -> list[str]:
    """``"NAME: S in the saved run, G given"`` for every key of ``given`` whose value differs from ``saved``.

    Keys that ``saved`` does not record (a run written by an older version)
    are skipped; values are compared after a JSON round trip (tuples equal
    lists). ``names`` maps keys to what the user typed (``{"lr": "--lr"}``).
    """
    names = names or {}
    out = []
    for key, value in given.items():
        if key not in saved:
            continue
        a, b = json.loads(json.dumps(saved[key])), json.loads(json.dumps(value))
        if a != b:
            out.append(f"{names.get(key, key)}: {a!r} in the saved run, {b!r} given")
    return out


def require(path, info: dict, key: str, kind: type | tuple, what: str):
    """``info[key]`` if it is a ``kind``; else one :class:`CheckpointError` naming ``path`` and the key."""
    if key not in info:
        raise CheckpointError(f"checkpoint {path} is inconsistent: its metadata has no {key!r} ({what})", path=path)
    value, kinds = info[key], kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):  # True is an int too
        raise CheckpointError(
            f"checkpoint {path} is inconsistent: {key!r} is {json.dumps(value)[:60]}, expected {what}", path=path
        )
    return value


def finite_number(value) -> bool:
    """Whether ``value`` is a real, finite JSON number (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_finite(path, arrays: dict) -> None:
    """One :class:`CheckpointError` naming the first float array of ``arrays`` holding NaN or infinity."""
    for name, a in arrays.items():
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise CheckpointError(
                f"checkpoint {path} is corrupt: array {name!r} holds NaN or infinite values", path=path
            )


@contextlib.contextmanager
def deferred_interrupt():
    """Turn the first Ctrl-C into a flag (``yield``-ed as a callable) that the trainer checks at safe points.

    A step, an evaluation or a checkpoint write is never cut in half: the
    trainer notices the flag when the work in hand is done, saves and raises
    :class:`~v1sim.errors.TrainingInterrupted`. A second Ctrl-C raises
    ``KeyboardInterrupt`` at once (files stay whole: every write is atomic).
    Outside the main thread signals cannot be caught, and Ctrl-C behaves as
    usual.
    """
    hits = []

    def handler(signum, frame):
        hits.append(signum)
        if len(hits) > 1:
            raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread
        yield lambda: False
        return
    try:
        yield lambda: bool(hits)
    finally:
        signal.signal(signal.SIGINT, previous)


class RunFolder:
    """The folder of one training run (see the module docstring for its files).

    Parameters
    ----------
    path : str or Path
        The folder; created by :meth:`start`.

    Raises
    ------
    InputError
        If ``path`` exists and is not a folder.
    """

    RUN, METRICS, STEPS = "run.json", "metrics.jsonl", "steps.jsonl"
    LAST, PREVIOUS, BEST = "last", "previous", "best"

    def __init__(self, path):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"the run folder {self.path} is an existing file, not a folder", argument="out_dir")

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    # --------------------------------------------------------------------------------- starting and resuming

    def holds_run(self) -> bool:
        """Whether a run was started here (``run.json`` or a checkpoint, also of the old format)."""
        return any((self.path / name).exists() for name in (self.RUN, "last.npz", "last.json", "previous.npz"))

    def start(self, run: dict) -> None:
        """Begin a new run: create the folder and write ``run.json`` (refused where a run exists)."""
        if self.holds_run():
            raise CheckpointError(
                f"{self.path} already holds a run; continue it with --resume (resume=True) or choose another folder",
                path=self.path,
            )
        self.path.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.path)
        for name in (self.METRICS, self.STEPS, "best.npz", "best.json"):  # orphans of nothing: no run is here
            with contextlib.suppress(FileNotFoundError):
                (self.path / name).unlink()
        write_json(self.path / self.RUN, run, point="run")

    def saved_run(self) -> dict:
        """The contents of ``run.json`` (how the run was started)."""
        path = self.path / self.RUN
        if not path.is_file():
            raise CheckpointError(
                f"cannot resume {self.path}: {path.name} is missing (no run was started there)", path=path
            )
        try:
            run = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{path} is unreadable: {exc}", path=path) from None
        if not isinstance(run, dict):
            raise CheckpointError(f"{path} is not a run record (a JSON object expected)", path=path)
        return run

    def check_settings(self, given: dict, *, names: dict | None = None) -> dict:
        """Refuse to resume with settings that contradict ``run.json``; returns ``run.json``.

        ``given`` holds the run's facts (``model``, ``seed``, ...) and its
        ``config`` as a dict, compared field by field.

        Raises
        ------
        CheckpointError
            Naming every differing setting with the saved and the given value.
        """
        saved = self.saved_run()
        diff = differences(saved, {k: v for k, v in given.items() if k != "config"}, names=names)
        if "config" in given:  # field by field, so the message names the field
            diff += differences(saved.get("config") or {}, given["config"], names=names)
        if diff:
            raise CheckpointError(
                f"cannot resume {self.path}: it was started with other settings ({'; '.join(diff)})", path=self.path
            )
        return saved

    def resume(self, check) -> tuple[dict, dict] | None:
        """The newest usable checkpoint, ``last`` then ``previous``; None if the run saved none yet.

        Parameters
        ----------
        check : callable
            ``check(arrays, meta, path)`` raises :class:`CheckpointError` if
            the checkpoint does not fit the trainer (keys, counters, shapes).

        Returns
        -------
        (arrays, meta) or None

        Raises
        ------
        CheckpointError
            If no checkpoint is usable: one error naming each file and what is
            wrong with it.
        """
        remove_stale_temporaries(self.path)
        problems = []
        for stem in (self.LAST, self.PREVIOUS):
            path = checkpoint_path(self.path / stem)
            if not path.exists() and not path.with_suffix(".json").exists():
                continue
            try:
                arrays, meta = load_checkpoint(path)
                check_finite(path, arrays)
                check(arrays, meta, path)
            except CheckpointError as exc:
                problems.append(str(exc))
                continue
            if problems or stem != self.LAST:
                why = "; ".join(problems) if problems else f"{self.LAST}.npz is missing"
                print(f"v1sim: resuming from {path} ({why})", file=sys.stderr, flush=True)
            return arrays, meta
        if problems:
            raise CheckpointError(f"cannot resume {self.path}: {'; '.join(problems)}", path=self.path)
        return None

    def peek(self) -> dict | None:
        """The metadata of the newest checkpoint that loads (no trainer checks, no message); None if none."""
        for stem in (self.LAST, self.PREVIOUS):
            with contextlib.suppress(CheckpointError):
                return load_checkpoint(self.path / stem)[1]
        return None

    # --------------------------------------------------------------------------------- writing

    def save_last(self, arrays: dict, meta: dict) -> Path:
        """Commit the resumable checkpoint ``last.npz`` (the one it replaces becomes ``previous.npz``)."""
        return save_checkpoint(self.path / self.LAST, arrays, meta, previous=self.path / self.PREVIOUS)

    def save_best(self, arrays: dict, meta: dict) -> Path:
        """Commit ``best.npz``."""
        return save_checkpoint(self.path / self.BEST, arrays, meta)

    def write_metrics(self, records: list) -> None:
        """Rewrite ``metrics.jsonl`` (atomically) from the records so far."""
        write_jsonl(self.path / self.METRICS, records)

    def write_steps(self, records: list) -> None:
        """Rewrite ``steps.jsonl`` (atomically) from the records so far."""
        write_jsonl(self.path / self.STEPS, records)

    def interrupts(self):
        """The deferred Ctrl-C of this run (:func:`deferred_interrupt`)."""
        return deferred_interrupt()

    def interruption(self, where: str) -> TrainingInterrupted:
        """What a trainer raises on Ctrl-C once ``last.npz`` is saved: where it stopped and how to go on.

        ``where`` completes "interrupted ...", e.g. ``"in epoch 3"`` or ``"before stage S2"``.
        """
        last = checkpoint_path(self.path / self.LAST)
        return TrainingInterrupted(f"interrupted {where}; checkpoint {last} written (continue with --resume)")
