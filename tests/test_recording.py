"""``v1sim._recording.record``: the function behind ``v1sim record`` (the CLI's own tests cover the science)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from v1sim._recording import CELLS, PROTOCOLS, json_safe, make_cell, record


def test_record_returns_standard_json_and_writes_the_figure(tmp_path):
    r = record("on-center", "reverse-correlation", out_dir=tmp_path / "new", frames=500, seed=4)
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
        ({"trials": 0}, "trials"),
        ({"frames": 0}, "frames"),
        ({"seed": -1}, "seed"),
        ({"theta_deg": math.nan}, "theta_deg"),
        ({"frequency": 0.9}, "frequency"),
    ],
)
def test_bad_arguments_raise_naming_them_and_write_nothing(tmp_path, kwargs, named):
    args = {"cell": "simple", "protocol": "orientation", **kwargs}
    with pytest.raises(ValueError, match=named):
        record(args.pop("cell"), args.pop("protocol"), out_dir=tmp_path / "out", **args)
    assert not (tmp_path / "out").exists()


def test_every_cell_has_a_model():
    for name in CELLS:
        assert make_cell(name).spontaneous_rate >= 0
    assert "reverse-correlation" in PROTOCOLS


def test_json_safe():
    value = {"a": np.float32(1.5), "b": np.array([1.0, np.nan]), "c": (np.int64(3), math.inf), "d": "x", "e": None}
    assert json_safe(value) == {"a": 1.5, "b": [1.0, None], "c": [3, None], "d": "x", "e": None}
