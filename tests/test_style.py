"""House habits: the code is formatted and linted by ruff as configured in pyproject.toml.

``ruff format`` and ``ruff check`` are the one authority on layout and lint (no
``# fmt: skip`` islands); this test makes ``.ci/run`` enforce them. Fix a
failure with ``ruff format . && ruff check --fix .``.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["v1sim", "tests", "scripts", "benchmarks"]


def _ruff():
    if shutil.which("ruff") is None:
        pytest.importorskip("ruff", reason="ruff is in the [test] extra; install it to check the style")
    return [sys.executable, "-m", "ruff"] if shutil.which("ruff") is None else ["ruff"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(command):
    done = subprocess.run([*_ruff(), *command, "."], cwd=ROOT, capture_output=True, text=True)  # README's code too
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_formatter_escapes():
    escapes = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in PATHS
        for path in sorted((ROOT / folder).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if path.name != "test_style.py" and ("fmt: skip" in line or "fmt: off" in line)
    ]
    assert not escapes, f"formatter escapes: {escapes}"
