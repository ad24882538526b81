"""Reading a training run folder's logs back: ``run.json``, ``metrics.jsonl`` and ``steps.jsonl``.

:func:`load_run` reads what :func:`v1sim.nn.train.fit` writes (the layout is in
:mod:`v1sim.nn.train`); a folder holding only ``run.json`` and the two
``.jsonl`` files is enough, e.g. to plot a run without its checkpoints.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["load_run"]


def load_run(folder) -> dict:
    """The logs of a :func:`fit` run folder: how it was made, per-epoch metrics and the step log.

    Parameters
    ----------
    folder : str or Path
        A run folder (``v1sim train ... --out DIR``); the checkpoints are not
        needed.

    Returns
    -------
    dict
        ``run`` (the contents of ``run.json``: ``config``, ``model``,
        ``dataset``, ``n_train``, ...; empty if absent), ``epochs`` (the
        ``metrics.jsonl`` records, by epoch) and ``steps`` (the
        ``steps.jsonl`` records, by step; empty if absent).

    Raises
    ------
    FileNotFoundError
        If ``folder`` has no ``metrics.jsonl`` (no epoch finished yet).
    ValueError
        If a log is not valid JSON lines.
    """
    folder = Path(folder)
    metrics = folder / "metrics.jsonl"
    if not metrics.is_file():
        raise FileNotFoundError(f"{folder} holds no metrics.jsonl (not a v1sim train run, or no epoch finished)")

    def lines(path):
        try:
            return [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except ValueError as exc:
            raise ValueError(f"{path} is not a JSON-lines log: {exc}") from None

    run_json = folder / "run.json"
    run = json.loads(run_json.read_text(encoding="utf-8")) if run_json.is_file() else {}
    steps = folder / "steps.jsonl"
    return {
        "run": run,
        "epochs": sorted(lines(metrics), key=lambda r: r["epoch"]),
        "steps": sorted(lines(steps), key=lambda r: r["step"]) if steps.is_file() else [],
    }
