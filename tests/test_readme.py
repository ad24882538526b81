"""The README's Python examples run as written.

Blocks fenced ```python run here; blocks fenced ```py need what a test machine
does not have (PyTorch, a user's weights file) and are only compiled.
"""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
SHOWN = re.findall(r"```py\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples():
    assert BLOCKS


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code):
    exec(compile(code, str(README), "exec"), {})


@pytest.mark.parametrize("code", SHOWN, ids=[f"shown{i}" for i in range(len(SHOWN))])
def test_readme_example_that_needs_torch_or_files_compiles(code):
    compile(code, str(README), "exec")
