"""Discover and run the figure scripts (``scripts/fig_*.py``), the project's main job.

Each script is a module with a docstring whose first line is its title and a
``main(out_dir, quick=False) -> Path`` that writes one PNG; a figure of a
network trained elsewhere also takes ``weights=None`` (a path to an ``.npz``
of its state dict, passed by ``v1sim figures NAME --weights PATH``). The runner finds
them next to the package (a source checkout or editable install), or in a
folder given explicitly, and runs them in name order with a progress bar.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

__all__ = ["FigureScript", "default_scripts_dir", "discover", "run"]


@dataclass(frozen=True)
class FigureScript:
    """One figure script: short name (``fig_dog.py`` -> ``dog``), path, title, whether ``main`` takes ``weights``."""

    name: str
    path: Path
    title: str
    takes_weights: bool = False


def default_scripts_dir() -> Path | None:
    """The checkout's ``scripts/`` folder, if v1sim runs from a source tree."""
    candidate = Path(__file__).resolve().parent.parent / "scripts"
    return candidate if candidate.is_dir() else None


def _title(path: Path) -> tuple:
    """The script's title (its docstring's first line) and whether its ``main`` has a ``weights`` argument."""
    import ast

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"scripts_dir holds an unreadable figure script {str(path)!r} ({exc.strerror})", argument="scripts_dir"
        ) from exc
    tree = ast.parse(text)
    doc = ast.get_docstring(tree) or ""
    main = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"), None)
    names = [] if main is None else [a.arg for a in main.args.args + main.args.kwonlyargs]
    return (doc.strip().splitlines()[0] if doc.strip() else path.stem), "weights" in names


def discover(scripts_dir=None) -> list[FigureScript]:
    """List the figure scripts in ``scripts_dir`` (default: :func:`default_scripts_dir`).

    Raises
    ------
    v1sim.errors.InputError
        With ``argument="scripts_dir"`` if there is no such folder, it holds
        no ``fig_*.py`` script, or a script cannot be read.
    """
    folder = Path(scripts_dir) if scripts_dir is not None else default_scripts_dir()
    if folder is None or not folder.is_dir():
        where = "there is no scripts/ folder next to the package" if folder is None else f"{str(folder)!r} is not one"
        raise InputError(
            f"scripts_dir must be a folder of fig_*.py scripts, but {where}: run from a v1sim source checkout "
            "(pip install -e .) or pass --scripts DIR pointing at its scripts/ folder",
            argument="scripts_dir",
        )
    paths = sorted(folder.glob("fig_*.py"))
    if not paths:
        raise InputError(
            f"scripts_dir must hold fig_*.py figure scripts, found none in {str(folder)!r}", argument="scripts_dir"
        )
    return [FigureScript(p.stem[len("fig_") :], p, *_title(p)) for p in paths]


def _load(script: FigureScript):
    spec = importlib.util.spec_from_file_location(f"v1sim_fig_{script.name}", script.path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look their module up there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    if not callable(getattr(module, "main", None)):
        raise AttributeError(f"{script.path} has no main(out_dir, quick=False) function")
    return module


def run(scripts, out_dir, *, quick=False, progress=True, weights=None) -> list[dict]:
    """Run figure scripts, each writing its PNG into ``out_dir``.

    Parameters
    ----------
    scripts : list of FigureScript
    out_dir : str or Path
        Created if absent; checked before any script runs.
    quick : bool
        Ask each script for a fast, smaller version (tests use this).
    progress : bool
        Show a progress bar on stderr.
    weights : str or Path, optional
        Passed as ``weights=`` to the scripts that take it (``takes_weights``); the others run as usual.

    Returns
    -------
    list of dict
        One record per script: ``name``, ``path`` (the PNG) and ``seconds``.

    Raises
    ------
    v1sim.errors.InputError
        With ``argument="out_dir"`` if ``out_dir`` is a file, lies under one,
        or cannot be written.
    v1sim.errors.CheckpointError
        From a script that takes ``weights``, if the file is missing or does not fit its model.
    """
    from tqdm.auto import tqdm

    from .plotting import check_out_dir

    out_dir = check_out_dir(out_dir, "out_dir")
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    bar = tqdm(scripts, desc="figures", unit="fig", disable=not progress)
    for script in bar:
        bar.set_postfix_str(script.name)
        start = time.perf_counter()
        try:
            extra = {"weights": weights} if weights is not None and script.takes_weights else {}
            path = Path(_load(script).main(out_dir, quick=quick, **extra))
        except InputError as exc:  # the script's call into v1sim, not the user, is at fault: a bug, with traceback
            raise RuntimeError(f"figure script {script.path} passed a bad value to v1sim: {exc}") from exc
        records.append({"name": script.name, "path": str(path), "seconds": round(time.perf_counter() - start, 3)})
    return records
