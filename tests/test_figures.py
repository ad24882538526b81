"""Every figure script runs in quick mode and writes a non-empty PNG."""

import pytest

from v1sim.errors import InputError
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


@pytest.mark.parametrize("folder", ["empty", "missing", "a_file"])
def test_discover_refuses_a_folder_without_figure_scripts(tmp_path, folder):
    (tmp_path / "empty").mkdir()
    (tmp_path / "a_file").write_text("")
    with pytest.raises(InputError) as exc:
        discover(tmp_path / folder)
    assert exc.value.argument == "scripts_dir"


def test_run_refuses_an_out_dir_that_is_a_file_before_running_anything(tmp_path):
    (tmp_path / "fig_boom.py").write_text('"""Boom."""\n\ndef main(out_dir, quick=False):\n    1 / 0\n')
    (tmp_path / "taken").write_text("")
    with pytest.raises(InputError) as exc:
        run(discover(tmp_path), tmp_path / "taken", progress=False)  # ZeroDivisionError if the script ran
    assert exc.value.argument == "out_dir"


def test_a_scripts_bad_call_into_v1sim_is_a_bug_not_a_usage_error(tmp_path):
    (tmp_path / "fig_bad.py").write_text(
        '"""Bad."""\nfrom v1sim import tuning\n\n\ndef main(out_dir, quick=False):\n'
        "    return tuning.is_tuned([1.0], modulation=2.0)\n"
    )
    with pytest.raises(RuntimeError, match="fig_bad.py") as exc:  # the CLI shows its traceback, not a usage line
        run(discover(tmp_path), tmp_path / "out", progress=False)
    assert isinstance(exc.value.__cause__, InputError) and exc.value.__cause__.argument == "modulation"
