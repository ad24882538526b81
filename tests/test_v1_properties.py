"""v1sim.biology.properties: the macaque V1 property distributions of Marques et al. (2021), and their provenance."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest

from v1sim import biology as B
from v1sim.errors import InputError

SHARED_V1 = Path(__file__).resolve().parents[2] / "shared/data/v1"
MARQUES_CSV = SHARED_V1 / "marques2020_v1_property_histograms.csv"
RINGACH_CSV = SHARED_V1 / "ringach2002_jneurosci_orientation_db.csv"
DATA = Path(B.__file__).parents[1] / "data"
needs_shared = pytest.mark.skipif(
    not (MARQUES_CSV.exists() and RINGACH_CSV.exists()), reason=f"shared data not present at {SHARED_V1}"
)

N_CELLS = {  # documented in v1_property's Notes
    "preferred_orientation": 385,
    "circular_variance": 304,
    "orientation_bandwidth": 298,
    "orthogonal_preferred_ratio": 304,
    "peak_spatial_frequency": 363,
    "spatial_frequency_bandwidth": 73,
    "spatial_frequency_selective": 87,
    "grating_summation_field": 148,
    "surround_diameter": 148,
    "surround_grating_summation_field_ratio": 148,
    "surround_suppression_index": 190,
    "strongly_suppressed": 190,
    "f1_f0": 304,
}


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("name", B.V1_PROPERTIES)
def test_every_property_loads_as_a_read_only_histogram(name):
    d = B.v1_property(name)
    assert d.name == name and d.unit and d.source and d.n == N_CELLS[name]
    assert d.bins.dtype == np.float64 and d.counts.dtype == np.int64
    assert d.bins.shape == (d.counts.size + 1,) and np.all(np.diff(d.bins) > 0) and np.isfinite(d.bins).all()
    assert np.all(d.counts >= 0)
    assert d.bins[0] <= d.median() <= d.bins[-1]
    for arr in (d.bins, d.counts) + (() if d.values is None else (d.values,)):
        with pytest.raises(ValueError):
            arr[0] = 1
    # per-cell values exactly where they were published: Ringach et al. (2002)
    assert (d.values is not None) == (d.source == B.RINGACH2002_ORIENTATION["citation"])
    if d.values is not None:
        assert d.values.size == d.n


def test_names_cover_the_interface_and_unknown_names_are_refused():
    assert len(B.V1_PROPERTIES) == len(set(B.V1_PROPERTIES)) == 13
    with pytest.raises(InputError) as err:
        B.v1_property("bandwidth")
    assert err.value.argument == "name"


def test_histogram_median_interpolates_inside_its_bin():
    d = B.PropertyData("x", "deg", np.array([0.0, 1.0, 2.0]), np.array([1, 3]), None, "synthetic")
    assert d.median() == pytest.approx(1.0 + 1.0 / 3.0)  # 2 of 4 cells: the first of bin [1, 2) plus 1/3 of it
    v = B.PropertyData("x", "deg", d.bins, d.counts, np.array([0.5, 1.2, 1.4, 1.9]), "synthetic")
    assert v.median() == pytest.approx(1.3)


def test_orientations_wrap_onto_the_data_bins():
    d = B.v1_property("preferred_orientation")
    assert d.period == 180.0
    np.testing.assert_allclose(d.wrap(np.array([170.0, -30.0, 45.0, 337.5])), [-10.0, 150.0, 45.0, 157.5 - 180.0])
    f = B.v1_property("f1_f0")
    assert f.period is None and f.wrap(np.array([3.0]))[0] == 3.0


def test_shipped_files_record_their_source_checksum():
    for info in (B.MARQUES2020_PROPERTIES, B.RINGACH2002_ORIENTATION):
        path = DATA / Path(info["file"]).name
        assert path.stat().st_size < 16_000
        with np.load(path, allow_pickle=False) as npz:
            assert str(npz["source_sha256"]) == info["source_sha256"]
        assert info["citation"] and info["license"] and info["source"]


def test_builder_refuses_a_source_that_is_not_the_recorded_one(tmp_path):
    (tmp_path / "marques2020_v1_property_histograms.csv").write_text("source_paper,property\n")
    with pytest.raises(InputError) as err:
        B.build_shipped(tmp_path, tmp_path)
    assert err.value.argument == "src_dir"


@needs_shared
def test_builder_reproduces_the_shipped_files_byte_for_byte(tmp_path):
    assert hashlib.sha256(MARQUES_CSV.read_bytes()).hexdigest() == B.MARQUES2020_PROPERTIES["source_sha256"]
    assert hashlib.sha256(RINGACH_CSV.read_bytes()).hexdigest() == B.RINGACH2002_ORIENTATION["source_sha256"]
    for built in B.build_shipped(SHARED_V1, tmp_path):
        assert built.read_bytes() == (DATA / built.name).read_bytes()


@needs_shared
def test_histograms_equal_the_csv_with_groups_summed():
    rows = _rows(MARQUES_CSV)

    def counts(paper, prop, **match):
        sel = [r for r in rows if r["source_paper"] == paper and r["property"] == prop]
        sel = [r for r in sel if all(r[k] == v for k, v in match.items())]
        edges = sorted({float(r["bin_lo"]) for r in sel})
        return np.array([sum(int(r["count"]) for r in sel if float(r["bin_lo"]) == e) for e in edges])

    # the later DeValois1982a table (eccentricity < 5 deg), not the central ~1 deg one (77, 49, 66, 54)
    np.testing.assert_array_equal(B.v1_property("preferred_orientation").counts, [110, 83, 100, 92])
    groups = ("simple_foveal", "complex_foveal", "simple_parafoveal", "complex_parafoveal")
    sf = sum(counts("DeValois1982b", "peak_spatial_frequency", cell_group=g) for g in groups)
    np.testing.assert_array_equal(B.v1_property("peak_spatial_frequency").counts, sf)
    for prop in ("surround_suppression_index", "grating_summation_field", "surround_diameter"):
        np.testing.assert_array_equal(B.v1_property(prop).counts, counts("Cavanaugh2002a", prop))
    np.testing.assert_array_equal(B.v1_property("spatial_frequency_selective").counts, [14, 73])
    # Schiller's 0-100 scale (100 f_low / f_high) in octaves, log2(100 / s): the bins reverse
    bw = B.v1_property("spatial_frequency_bandwidth")
    schiller = counts("Schiller1976c", "spatial_frequency_bandwidth", cell_group="simple") + counts(
        "Schiller1976c", "spatial_frequency_bandwidth", cell_group="complex"
    )
    np.testing.assert_array_equal(bw.counts, schiller[::-1])
    np.testing.assert_allclose(bw.bins[:-1], np.log2(100.0 / np.arange(100, 0, -10)))
    assert bw.bins[5] == 1.0  # s = 50: the high cut-off twice the low, one octave


@needs_shared
def test_ringach_values_follow_brain_scores_selection():
    rows = _rows(RINGACH_CSV)
    col = {k: np.array([float(r[k]) for r in rows]) for k in ("spont", "maxdc", "maxfirst", "orivar", "po", "bw")}
    responsive = col["maxdc"] > col["spont"] + 5.0
    assert len(rows) == 308 and responsive.sum() == 304
    np.testing.assert_array_equal(B.v1_property("circular_variance").values, col["orivar"][responsive])
    np.testing.assert_array_equal(B.v1_property("orthogonal_preferred_ratio").values, col["po"][responsive])
    np.testing.assert_array_equal(B.v1_property("f1_f0").values, (col["maxfirst"] / col["maxdc"])[responsive])
    tuned = responsive & (col["bw"] <= 90.0)
    np.testing.assert_array_equal(B.v1_property("orientation_bandwidth").values, col["bw"][tuned])
    f1f0 = B.v1_property("f1_f0")
    np.testing.assert_array_equal(f1f0.counts, np.histogram(np.clip(f1f0.values, 0, 2), bins=f1f0.bins)[0])
