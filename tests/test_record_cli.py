"""``v1sim record``: each cell and protocol gives the classic metrics, a figure, and clean errors."""

from __future__ import annotations

import json

import pytest

from v1sim.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


def _strict(text):
    """JSON that refuses NaN/Infinity (the output must be standard JSON)."""

    def bad(token):
        raise ValueError(f"non-standard JSON constant {token}")

    return json.loads(text, parse_constant=bad)


def record(capsys, tmp_path, cell, protocol, *extra):
    rc = main(["record", cell, "--protocol", protocol, "--json", "--out", str(tmp_path), *extra])
    out = capsys.readouterr().out
    assert rc == 0
    data = _strict(out)
    assert data["cell"] == cell and data["protocol"] == protocol
    with open(data["figure"], "rb") as fh:
        assert fh.read(8) == PNG
    return data


def test_simple_and_complex_cells_f1_f0(capsys, tmp_path):
    simple = record(capsys, tmp_path, "simple", "drifting-grating")
    complex_ = record(capsys, tmp_path, "complex", "drifting-grating")
    assert simple["f1_f0"] > 1.0
    assert complex_["f1_f0"] < 1.0
    assert simple["f0"] > simple["spontaneous_rate"]
    assert (tmp_path / "simple_drifting-grating.png").stat().st_size > 5000


def test_orientation_tuning_keys_and_values(capsys, tmp_path):
    d = record(capsys, tmp_path, "simple", "orientation", "--theta", "30")
    for key in ("preferred_orientation_deg", "bandwidth_deg", "circular_variance", "f1_f0"):
        assert key in d
    assert d["preferred_orientation_deg"] == pytest.approx(30.0, abs=2.0)
    assert 5.0 < d["bandwidth_deg"] < 60.0
    assert 0.0 < d["circular_variance"] < 1.0
    assert d["f1_f0"] > 1.0
    assert len(d["data"]["orientations_deg"]) == len(d["data"]["rates"]) == 16
    c = record(capsys, tmp_path, "complex", "orientation", "--theta", "30")
    assert c["preferred_orientation_deg"] == pytest.approx(30.0, abs=2.0)
    assert c["f1_f0"] < 1.0


def test_ganglion_cells_are_untuned_for_orientation(capsys, tmp_path):
    d = record(capsys, tmp_path, "on-center", "orientation")
    assert d["preferred_orientation_deg"] is None and d["bandwidth_deg"] is None
    assert d["circular_variance"] > 0.95


def test_hypercomplex_end_stopping(capsys, tmp_path):
    hyper = record(capsys, tmp_path, "hypercomplex", "length")
    plain = record(capsys, tmp_path, "complex", "length")
    assert hyper["end_stopping_index"] > 0.5
    assert plain["end_stopping_index"] < 0.1
    assert hyper["optimal_length_px"] < plain["optimal_length_px"]
    orient = record(capsys, tmp_path, "hypercomplex", "orientation")
    assert orient["stimulus"] == "bar" and orient["f1_f0"] is None
    assert orient["preferred_orientation_deg"] == pytest.approx(0.0, abs=2.0)


def test_center_surround_on_and_off(capsys, tmp_path):
    on = record(capsys, tmp_path, "on-center", "spot-annulus", "--trials", "3")
    off = record(capsys, tmp_path, "off-center", "spot-annulus", "--trials", "3")
    spont = on["spontaneous_rate"]
    assert on["rate_center"] > spont > on["rate_annulus"]
    assert off["rate_center"] < spont < off["rate_annulus"]
    assert on["rate_full_field"] < on["rate_center"]


def test_area_summation_and_sweep(capsys, tmp_path):
    area = record(capsys, tmp_path, "on-center", "area")
    assert area["suppression_index"] > 0.3 and area["stimulus"] == "spot"
    dark = record(capsys, tmp_path, "off-center", "area")
    assert dark["suppression_index"] > 0.3
    hyper = record(capsys, tmp_path, "hypercomplex", "area")
    assert hyper["suppression_index"] > 0.5 and hyper["stimulus"] == "grating"
    sweep = record(capsys, tmp_path, "simple", "sweep")
    assert abs(sweep["peak_position_px"]) <= 1.0


def test_spatial_frequency(capsys, tmp_path):
    d = record(capsys, tmp_path, "complex", "spatial-frequency", "--frequency", "0.2")
    assert d["preferred_frequency_cpp"] == pytest.approx(0.2, rel=0.15)


def test_reverse_correlation(capsys, tmp_path):
    simple = record(capsys, tmp_path, "simple", "reverse-correlation", "--frames", "20000", "--seed", "1")
    assert simple["sta_correlation"] > 0.4
    assert simple["n_frames"] == 20000 and simple["n_spikes"] > 100
    on = record(capsys, tmp_path, "on-center", "reverse-correlation", "--frames", "4000")
    assert on["sta_correlation"] > 0.7
    energy = record(capsys, tmp_path, "complex", "reverse-correlation", "--frames", "2000")
    assert energy["sta_correlation"] is None  # no linear field to compare with


def test_seed_makes_runs_reproducible(capsys, tmp_path):
    a = record(capsys, tmp_path, "on-center", "reverse-correlation", "--frames", "1000", "--seed", "5")
    b = record(capsys, tmp_path, "on-center", "reverse-correlation", "--frames", "1000", "--seed", "5")
    assert a["n_spikes"] == b["n_spikes"] and a["sta_correlation"] == b["sta_correlation"]


def test_text_output_and_default_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["record", "simple", "--protocol", "drifting-grating"]) == 0
    out = capsys.readouterr().out
    assert "f1_f0" in out and "figure" in out
    assert (tmp_path / "recordings" / "simple_drifting-grating.png").read_bytes()[:8] == PNG


@pytest.mark.parametrize(
    "argv, listed",
    [
        (["record", "grandmother", "--protocol", "orientation"], "hypercomplex"),
        (["record", "simple", "--protocol", "tickle"], "reverse-correlation"),
    ],
)
def test_unknown_cell_or_protocol_exits_2_with_the_list(capsys, tmp_path, argv, listed):
    assert main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown" in err and listed in err
    assert not list(tmp_path.iterdir())


def test_bad_numbers_exit_2(capsys, tmp_path):
    assert main(["record", "simple", "--protocol", "orientation", "--frequency", "0.9", "--out", str(tmp_path)]) == 2
    assert "frequency" in capsys.readouterr().err
    assert main(["record", "simple", "--protocol", "orientation", "--size", "4", "--out", str(tmp_path)]) == 2


def test_missing_protocol_is_a_usage_error(capsys):
    assert main(["record", "simple"]) == 2
    assert "--protocol" in capsys.readouterr().err


def test_help_teaches(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["record", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for word in (
        "on-center",
        "off-center",
        "simple",
        "complex",
        "hypercomplex",
        "spot-annulus",
        "sweep",
        "orientation",
        "spatial-frequency",
        "drifting-grating",
        "area",
        "length",
        "reverse-correlation",
        "examples:",
    ):
        assert word in text
