"""Discover and run the figure scripts (``scripts/fig_*.py``), the project's main job.

Each script is a module with a docstring whose first line is its title and a
``main(out_dir, quick=False) -> Path`` that writes one PNG. The runner finds
them next to the package (a source checkout or editable install), or in a
folder given explicitly, and runs them in name order with a progress bar.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FigureScript", "default_scripts_dir", "discover", "run"]


@dataclass(frozen=True)
class FigureScript:
    """One figure script: its short name (``fig_dog.py`` -> ``dog``), path and title."""

    name: str
    path: Path
    title: str


def default_scripts_dir() -> Path | None:
    """The checkout's ``scripts/`` folder, if v1sim runs from a source tree."""
    candidate = Path(__file__).resolve().parent.parent / "scripts"
    return candidate if candidate.is_dir() else None


def _title(path: Path) -> str:
    import ast

    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else path.stem


def discover(scripts_dir=None) -> list[FigureScript]:
    """List the figure scripts in ``scripts_dir`` (default: :func:`default_scripts_dir`).

    Raises
    ------
    FileNotFoundError
        If no scripts folder is found.
    """
    folder = Path(scripts_dir) if scripts_dir is not None else default_scripts_dir()
    if folder is None or not folder.is_dir():
        raise FileNotFoundError(
            "no figure scripts found: run from a v1sim source checkout (pip install -e .) or pass "
            f"--scripts DIR pointing at its scripts/ folder (looked in {folder})"
        )
    return [FigureScript(p.stem[len("fig_") :], p, _title(p)) for p in sorted(folder.glob("fig_*.py"))]


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


def run(scripts, out_dir, *, quick=False, progress=True) -> list[dict]:
    """Run figure scripts, each writing its PNG into ``out_dir``.

    Parameters
    ----------
    scripts : list of FigureScript
    out_dir : str or Path
    quick : bool
        Ask each script for a fast, smaller version (tests use this).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    list of dict
        One record per script: ``name``, ``path`` (the PNG) and ``seconds``.
    """
    from tqdm.auto import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    bar = tqdm(scripts, desc="figures", unit="fig", disable=not progress)
    for script in bar:
        bar.set_postfix_str(script.name)
        start = time.perf_counter()
        path = Path(_load(script).main(out_dir, quick=quick))
        records.append({"name": script.name, "path": str(path), "seconds": round(time.perf_counter() - start, 3)})
    return records
