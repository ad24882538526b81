"""``v1sim.physiology.recording.write_recording``: behind ``v1sim record`` (the CLI's own tests cover the science)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from v1sim.errors import InputError
from v1sim.physiology.recording import (
    CELLS,
    PROTOCOLS,
    json_safe,
    make_cell,
    write_recording,
)


def test_record_returns_standard_json_and_writes_the_figure(tmp_path):
    r = write_recording("on-center", "reverse-correlation", out_dir=tmp_path / "new", frames=500, seed=4)
    assert list(r)[:5] == ["cell", "protocol", "seed", "size_px", "figure"] and list(r)[-1] == "data"
    assert r["figure"] == str(tmp_path / "new" / "on-center_reverse-correlation.png")
    assert open(r["figure"], "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert r["n_frames"] == 500 and isinstance(r["n_spikes"], int)
    json.dumps(r, allow_nan=False)  # plain values only


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"cell": "grandmother"}, "cell"),
        ({"protocol": "tickle"}, "protocol"),
        ({"size": 8}, "size"),
        ({"size": 1_000_000}, "size"),  # refused before anything is allocated
        ({"trials": 0}, "trials"),
        ({"frames": 0}, "frames"),
        ({"seed": -1}, "seed"),
        ({"theta_deg": math.nan}, "theta_deg"),
        ({"frequency": 0.9}, "frequency"),
        ({"frequency": 0.0}, "frequency"),
        ({"out_dir": "{file}"}, "out_dir"),
        ({"out_dir": "{file}/below"}, "out_dir"),
        ({"cell": "on-center", "protocol": "reverse-correlation", "frames": 1}, "frames"),  # no spike: a protocol's
    ],  # n_frames, reported as write_recording()'s own argument
)
def test_bad_arguments_raise_naming_them_and_write_nothing(tmp_path, kwargs, named):
    (tmp_path / "file").write_text("")
    args = {"cell": "simple", "protocol": "orientation", "out_dir": str(tmp_path / "out"), **kwargs}
    args["out_dir"] = args["out_dir"].format(file=tmp_path / "file")
    with pytest.raises(InputError) as exc:
        write_recording(args.pop("cell"), args.pop("protocol"), **args)
    assert exc.value.argument == named
    assert not (tmp_path / "out").exists() and (tmp_path / "file").read_text() == ""


def test_a_flat_orientation_curve_reports_none(tmp_path):
    r = write_recording("on-center", "orientation", out_dir=tmp_path)  # a round field prefers no orientation
    assert r["preferred_orientation_deg"] is None and r["bandwidth_deg"] is None
    assert open(r["figure"], "rb").read(8) == b"\x89PNG\r\n\x1a\n"  # the figure says "untuned"


def test_every_cell_has_a_model():
    for name in CELLS:
        assert make_cell(name).spontaneous_rate >= 0
    assert "reverse-correlation" in PROTOCOLS


def test_json_safe():
    value = {"a": np.float32(1.5), "b": np.array([1.0, np.nan]), "c": (np.int64(3), math.inf), "d": "x", "e": None}
    assert json_safe(value) == {"a": 1.5, "b": [1.0, None], "c": [3, None], "d": "x", "e": None}
