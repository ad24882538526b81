"""Every figure script runs in quick mode and writes a non-empty PNG."""

import pytest

from v1sim.figures import discover, run

SCRIPTS = discover()


def test_there_are_figure_scripts():
    assert len(SCRIPTS) >= 1


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_figure_script_writes_png(script, tmp_path):
    (record,) = run([script], tmp_path, quick=True, progress=False)
    with open(record["path"], "rb") as fh:
        header = fh.read(8)
    assert header == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / record["path"].split("/")[-1]).stat().st_size > 5000


def test_figure_titles_come_from_docstrings():
    for s in SCRIPTS:
        assert s.title and not s.title.startswith("fig_"), f"{s.path} needs a docstring title"
