"""The command line: help, info, warmup, figures listing and errors."""

import json
import subprocess
import sys

import pytest

from v1sim.cli import build_parser, main


def test_no_command_prints_help_and_returns_usage_code(capsys):
    assert main([]) == 2
    assert "figures" in capsys.readouterr().out


def test_help_teaches_the_subcommands():
    text = build_parser().format_help()
    for word in ("figures", "info", "warmup"):
        assert word in text


def test_info_json_reports_environment(capsys):
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["default_device"] in ("cpu", "parallel", "cuda")
    assert isinstance(info["cuda_available"], bool)
    assert info["numba_threads"] >= 1
    assert info["kernel_gemm"]  # the library whose ?gemm the convolutions call from Numba


def test_figures_list_names_every_script(capsys):
    from v1sim.figures import discover

    assert main(["figures", "--list"]) == 0
    out = capsys.readouterr().out
    scripts = discover()
    assert scripts, "no figure scripts found"
    for s in scripts:
        assert s.name in out


def test_figures_unknown_name_is_a_usage_error(capsys):
    assert main(["figures", "no-such-figure", "--out", "unused"]) == 2
    assert "no-such-figure" in capsys.readouterr().err


def test_warmup_compiles_every_kernel(capsys):
    from v1sim import kernels

    assert main(["warmup", "--devices", "cpu", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["kernel"] for r in records} == set(kernels.names()) | {
        "conv_shifted",
        "conv_winograd",
        "correlate",
        "row_tiles",
    }
    assert all(r["first_call_s"] > 0 and r["steady_s"] > 0 for r in records)


@pytest.mark.parametrize("argv", [["--version"], ["figures", "--help"]])
def test_module_entry_point(argv):
    res = subprocess.run([sys.executable, "-m", "v1sim", *argv], capture_output=True, text=True)
    assert res.returncode == 0
    assert "v1sim" in res.stdout


def test_help_starts_without_numpy():
    # the parser (help texts included) must not pull in numpy, numba or the science modules
    code = "import sys; from v1sim.cli import build_parser; build_parser(); print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_figures_quiet_prints_no_bar_but_still_the_error(tmp_path, capsys):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "fig_tiny.py").write_text(
        '"""A tiny figure."""\nfrom pathlib import Path\n\n\n'
        "def main(out_dir, quick=False):\n    path = Path(out_dir) / 'tiny.png'\n    path.write_bytes(b'png')\n"
        "    return path\n"
    )
    argv = ["figures", "--scripts", str(scripts), "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    assert "figures" in capsys.readouterr().err  # the bar and the summary line
    assert main([*argv, "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == "" and (tmp_path / "out" / "tiny.png").is_file()
    assert main([*argv, "--quiet", "--weights", str(tmp_path / "none.npz")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1  # a mistake is still one line on stderr
