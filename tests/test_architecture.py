"""The shape of the house, checked: packages named after the science, no cycles, no private reach-through.

These tests read the source (``ast``), so they state the architecture the
README describes and fail when a change breaks it:

* the import graph between v1sim's modules has no cycle;
* no module imports an underscore name from another package, and no
  module outside a package imports one of its underscore modules;
* no module is much over 400 lines;
* every public object's ``__module__`` is a public module (no ``_``
  component), so ``help()`` and tracebacks point where users look;
* the errors users catch live in :mod:`v1sim.errors`.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import v1sim

ROOT = Path(v1sim.__file__).resolve().parent
MAX_LINES = 420  # "no module over about 400 lines"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _package(module: str) -> str:
    """The package a module belongs to (a package's ``__init__`` belongs to the package itself)."""
    return module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = _package(module).split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str):
    """(target module, imported name or None, top-level?) for every v1sim import in ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    top = set(map(id, tree.body))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("v1sim"):
                    yield alias.name, None, id(node) in top
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            if not target.startswith("v1sim"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield (sub, None, id(node) in top) if sub in MODULES else (target, alias.name, id(node) in top)


def _is_private(dotted: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split("."))


def test_no_import_cycles_at_module_level():
    graph = {m: {t for t, _, top in _imports(m) if top and t in MODULES and t != m} for m in MODULES}
    # a package's __init__ importing its own submodules is how packages work, not a cycle
    for m, targets in graph.items():
        if MODULES[m].name == "__init__.py":
            graph[m] = {t for t in targets if not t.startswith(m + ".")}
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_no_private_names_across_packages():
    offenders = []
    for module in MODULES:
        here = _package(module)
        for target, name, _ in _imports(module):
            if target not in MODULES:
                continue
            there = _package(target)
            inside = there == here or there.startswith(here + ".") or target.startswith(here + ".")
            if name is not None and name.startswith("_") and not name.startswith("__") and there != here:
                offenders.append(f"{module} imports {name} from {target}")
            elif _is_private(target.removeprefix("v1sim.")) and not inside and not target.startswith("v1sim._core"):
                offenders.append(f"{module} imports the private module {target}")
    assert not offenders, "\n".join(offenders)


def test_no_module_over_about_400_lines():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


PUBLIC_PACKAGES = [
    "v1sim",
    "v1sim.signal",
    "v1sim.pooling",
    "v1sim.filters",
    "v1sim.stimuli",
    "v1sim.cells",
    "v1sim.spikes",
    "v1sim.tuning",
    "v1sim.physiology",
    "v1sim.retinotopy",
    "v1sim.biology",
    "v1sim.efficient_coding",
    "v1sim.hierarchy",
    "v1sim.datasets",
    "v1sim.nn",
    "v1sim.nn.functional",
    "v1sim.nn.models",
    "v1sim.errors",
    "v1sim.backend",
    "v1sim.plotting",
]


@pytest.mark.parametrize("package", PUBLIC_PACKAGES)
def test_public_objects_live_in_public_modules(package):
    mod = importlib.import_module(package)
    private = []
    for name in getattr(mod, "__all__", ()):
        obj = getattr(mod, name)
        home = getattr(obj, "__module__", None)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and home and _is_private(home):
            private.append(f"{package}.{name} lives in {home}")
    assert not private, "\n".join(private)


def test_errors_users_catch_live_in_one_module():
    from v1sim import errors

    for module, path in MODULES.items():
        if module == "v1sim.errors":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):  # private control flow is fine
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                assert not bases & {"Exception", "ValueError", "TypeError", "RuntimeError", "OSError"}, (
                    f"{module} defines the error {node.name}; errors users catch belong in v1sim.errors"
                )
    assert {"InputError", "CheckpointError", "TrainingError", "CudaUnavailableError"} <= set(errors.__all__)
