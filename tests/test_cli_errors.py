"""A user's mistake on the command line is one line on stderr naming the flag, exit 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from v1sim.cli import info as info_cli
from v1sim.cli import main
from v1sim.cli import record as record_cli
from v1sim.errors import CheckpointError, InputError

REC = ["record", "simple", "--protocol", "orientation"]

# (argv with {placeholders} for paths, the flag the line must name); none of these runs an experiment
MISTAKES = [
    (["summary", "vgg16", "--depth", "-1"], "--depth"),
    (["summary", "vgg16", "--depth", "-1", "--json"], "--depth"),
    (["summary", "vgg16", "--depth", "two"], "--depth"),
    (["summary", "vgg16", "--input", "3,-1,224"], "--input"),
    (["summary", "vgg16", "--input", "a,b"], "--input"),
    (["summary", "lenet5", "--input", "1,8,8"], "--input"),  # too small for the model: the layer is named
    (["summary", "vgg16", "--variant", "lc"], "--variant"),
    (["summary", "resnet51"], "MODEL"),
    (["figures", "--scripts", "{empty}"], "--scripts"),
    (["figures", "--scripts", "{missing}"], "--scripts"),
    (["figures", "--scripts", "{nofig}"], "--scripts"),
    (["figures", "--scripts", "{file}"], "--scripts"),
    (["figures", "--scripts", "{scripts}", "--out", "{file}"], "--out"),
    (["figures", "--scripts", "{scripts}", "--out", "{file}/sub"], "--out"),
    ([*REC, "--out", "{file}"], "--out"),
    ([*REC, "--out", "{file}/sub"], "--out"),
    ([*REC, "--size", "1000000"], "--size"),
    ([*REC, "--size", "4"], "--size"),
    ([*REC, "--size", "-64"], "--size"),
    ([*REC, "--size", "abc"], "--size"),
    ([*REC, "--frequency", "0.9"], "--frequency"),
    ([*REC, "--frequency", "-1"], "--frequency"),
    ([*REC, "--frequency", "nan"], "--frequency"),
    ([*REC, "--theta", "inf"], "--theta"),
    ([*REC, "--trials", "0"], "--trials"),
    ([*REC, "--frames", "-5"], "--frames"),
    ([*REC, "--seed", "-1"], "--seed"),
    (["record", "grandmother", "--protocol", "orientation"], "CELL"),
    (["record", "simple", "--protocol", "tickle"], "--protocol"),
    (["record", "simple"], "--protocol"),
    (["record", "on-center", "--protocol", "reverse-correlation", "--frames", "1"], "--frames"),  # no spike
    (["warmup", "--devices", "gpu"], "--devices"),
    (["info", "--bogus"], "--bogus"),
    (["tickle"], "COMMAND"),
]


@pytest.fixture
def paths(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "nofig").mkdir()
    (tmp_path / "nofig" / "helper.py").write_text("x = 1\n")
    (tmp_path / "scripts").mkdir()
    never = '"""Never run."""\n\ndef main(out_dir, quick=False):\n    1 / 0\n'
    (tmp_path / "scripts" / "fig_never.py").write_text(never)
    (tmp_path / "a_file").write_text("not a folder\n")
    return {
        "empty": tmp_path / "empty",
        "missing": tmp_path / "missing",
        "nofig": tmp_path / "nofig",
        "scripts": tmp_path / "scripts",
        "file": tmp_path / "a_file",
        "out": tmp_path / "out",
    }


@pytest.mark.parametrize("argv, flag", MISTAKES, ids=[" ".join(a) for a, _ in MISTAKES])
def test_a_mistake_is_one_line_naming_the_flag(capsys, paths, argv, flag):
    argv = [a.format(**paths) for a in argv]
    if argv[0] == "record" and "--out" not in argv:
        argv += ["--out", str(paths["out"])]
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert flag in lines[0] and lines[0].startswith("v1sim")
    assert "Traceback" not in captured.err and captured.out == ""
    assert not paths["out"].exists()  # refused before any work: nothing written
    assert paths["file"].read_text() == "not a folder\n"


def test_the_flag_comes_from_the_exceptions_argument_not_its_wording(capsys, monkeypatch):
    def fails(args):
        raise InputError("size of the moon exceeds the screen", argument="frames")

    monkeypatch.setattr(record_cli, "run", fails)
    assert main(["record", "simple", "--protocol", "area"]) == 2
    assert capsys.readouterr().err == "v1sim record: argument --frames: size of the moon exceeds the screen\n"


@pytest.mark.parametrize(
    "error, line",
    [
        (InputError("no flag for this one"), "v1sim info: no flag for this one\n"),
        (InputError("bad limit", argument="--limit"), "v1sim info: argument --limit: bad limit\n"),
        (InputError("two\nlines", argument="zzz"), "v1sim info: two lines\n"),
        (CheckpointError("run/last.npz is corrupt", path="run/last.npz"), "v1sim info: run/last.npz is corrupt\n"),
    ],
)
def test_any_subcommands_input_or_checkpoint_error_is_a_usage_error(capsys, monkeypatch, error, line):
    def fails(args):
        raise error

    monkeypatch.setattr(info_cli, "info", fails)
    assert main(["info"]) == 2
    assert capsys.readouterr().err == line


def test_a_real_bug_keeps_its_traceback(monkeypatch):
    def bug(args):
        raise ZeroDivisionError("a bug, not a user's mistake")

    monkeypatch.setattr(info_cli, "info", bug)
    with pytest.raises(ZeroDivisionError):
        main(["info"])


def test_help_still_exits_0(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["summary", "--help"])
    assert exc.value.code == 0 and "--depth" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["summary", "--list"], ["info"]])
def test_a_pipe_closed_early_is_no_traceback(argv):
    # `v1sim summary --list | head -1`: the reader is gone before v1sim writes (deterministic, unlike head)
    proc = subprocess.Popen([sys.executable, "-m", "v1sim", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141  # 128 + SIGPIPE, as the shell reports for `yes | head -1`
    assert "BrokenPipeError" not in err and "Traceback" not in err and "Exception ignored" not in err


def test_head_gets_the_first_line_and_no_error():
    res = subprocess.run(
        f"'{sys.executable}' -m v1sim summary --list | head -1", shell=True, capture_output=True, text=True, timeout=120
    )
    assert res.stdout.startswith("lenet5") and res.stdout.count("\n") == 1
    assert res.stderr == ""
