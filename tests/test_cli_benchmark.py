"""``v1sim benchmark``: the table, the files, --json, and one-line usage errors (exit 2)."""

from __future__ import annotations

import json

import pytest

from v1sim.cli import main


def test_table_and_files(tmp_path, capsys):
    assert main(["benchmark", "lenet5", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "lenet5: " in out and "monkey median" in out and "V1 score" in out and "f1_f0" in out
    record = json.loads((tmp_path / "lenet5" / "benchmark.json").read_text())
    assert record["model"] == "lenet5" and record["n_units"] == 6 and 0 <= record["score"] <= 1
    assert (tmp_path / "lenet5" / "benchmark.png").read_bytes()[:4] == b"\x89PNG"


def test_json_lists_one_object_per_model(tmp_path, capsys):
    argv = ["benchmark", "neocognitron", "pixels", "--units", "8", "--json", "--out", str(tmp_path)]
    assert main(argv) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in records] == ["neocognitron", "pixels"]
    for r in records:
        assert set(r) == {"model", "score", "score_measured", "ceiling", "properties"} and len(r["properties"]) == 13
        assert all(set(p) == {"score", "n_units", "model_median", "monkey_median"} for p in r["properties"].values())


@pytest.mark.parametrize(
    ("argv", "flag", "detail"),
    [
        (["lenet5", "--layer", "conv9"], "--layer", "c1"),  # the message lists the layers
        (["hmax", "--layer", "S9"], "--layer", "US1"),
        (["macaque", "--fov", "0"], "--fov", "fov"),
        (["nonsense"], "MODEL_OR_RUN", "macaque"),
        (["pixels", "--scheduler", "nowhere"], "--scheduler", "address"),
    ],
)
def test_usage_errors_are_one_line(tmp_path, capsys, argv, flag, detail):
    assert main(["benchmark", *argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("v1sim benchmark: argument " + flag) and detail in err


def test_an_existing_file_is_refused_as_out(tmp_path, capsys):
    (tmp_path / "f").write_text("")
    assert main(["benchmark", "lenet5", "--out", str(tmp_path / "f")]) == 2
    assert "--out" in capsys.readouterr().err
