"""v1sim.biology: the shipped macaque F1/F0 data, its provenance, and the comparison statistics."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest

from v1sim import biology as B

SHARED_V1 = Path(__file__).resolve().parents[2] / "shared/data/v1"
SOURCE = SHARED_V1 / "ringach2002_jneurosci_orientation_db.csv"


def test_ringach_data_loads_with_the_documented_count():
    d = B.ringach2002_f1f0()
    assert d.n == B.RINGACH2002["n_neurons"] == 308
    for arr in (d.f1, d.f0, d.spontaneous):
        assert arr.shape == (308,) and arr.dtype == np.float64 and np.isfinite(arr).all()
    assert np.array_equal(d.neuron, np.arange(308))
    assert np.all(d.f0 > 0) and np.all(d.f1 >= 0) and np.all(d.spontaneous >= 0)
    assert 0.0 < d.ratio.min() and d.ratio.max() < 2.0  # F1/F0 <= 2 for a rectified response
    assert B.ringach2002_f1f0(min_evoked=5.0).n == 304  # Brain-Score's responsiveness criterion


def test_ringach_f1_f0_is_bimodal_with_a_dip_near_one():
    ratio = B.ringach2002_f1f0().ratio
    counts, _ = np.histogram(ratio, bins=np.linspace(0.0, 2.0, 11))  # 0.2 wide
    dip = counts[4:6].max()  # 0.8 - 1.2
    assert counts[:2].max() > 2.5 * dip and counts[7:9].max() > 2.5 * dip
    assert B.bimodality_coefficient(ratio) > 5.0 / 9.0
    assert 0.3 < B.ringach2002_f1f0().fraction_simple < 0.5  # ~40% simple (F1/F0 > 1)


def test_loader_hands_out_fresh_arrays():
    a = B.ringach2002_f1f0()
    a.f1[:] = -1.0
    assert np.all(B.ringach2002_f1f0().f1 >= 0)


def test_provenance_is_recorded():
    info = B.RINGACH2002
    for key in ("citation", "source", "source_sha256", "origin", "columns", "file", "license"):
        assert info[key]
    assert "Ringach" in info["citation"] and "J Neurosci" in info["citation"]
    with np.load(Path(B.__file__).parents[1] / "data" / "ringach2002_f1f0.npz", allow_pickle=False) as npz:
        assert str(npz["source_sha256"]) == info["source_sha256"]
        assert set(info["columns"]) <= set(npz.files)
    size = (Path(B.__file__).parents[1] / "data" / "ringach2002_f1f0.npz").stat().st_size
    assert size < 16_000


@pytest.mark.skipif(not SOURCE.exists(), reason=f"shared data not present at {SHARED_V1}")
def test_shipped_numbers_equal_the_source_file():
    assert hashlib.sha256(SOURCE.read_bytes()).hexdigest() == B.RINGACH2002["source_sha256"]
    with open(SOURCE, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    d = B.ringach2002_f1f0()
    assert len(rows) == d.n
    np.testing.assert_array_equal(d.neuron, [int(r["neuron"]) for r in rows])
    np.testing.assert_array_equal(d.f1, [float(r["maxfirst"]) for r in rows])
    np.testing.assert_array_equal(d.f0, [float(r["maxdc"]) for r in rows])
    np.testing.assert_array_equal(d.spontaneous, [float(r["spont"]) for r in rows])


@pytest.mark.skipif(not (SHARED_V1 / "ringach2002_jneurosci_db.mat").exists(), reason="shared .mat not present")
def test_shipped_numbers_equal_the_original_matlab_file():
    from scipy.io import loadmat

    db = loadmat(SHARED_V1 / "ringach2002_jneurosci_db.mat")["db"]
    d = B.ringach2002_f1f0()
    for name, ours in (("maxfirst", d.f1), ("maxdc", d.f0), ("spont", d.spontaneous)):
        theirs = np.asarray(db[name][0, 0], dtype=np.float64).ravel()
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


def test_bimodality_coefficient():
    rng = np.random.default_rng(0)
    normal = rng.normal(size=4000)
    two = np.concatenate([rng.normal(-3, 0.5, 2000), rng.normal(3, 0.5, 2000)])
    assert B.bimodality_coefficient(normal) == pytest.approx(1 / 3, abs=0.03)  # normal: 1/3
    assert B.bimodality_coefficient(two) > 0.8
    with pytest.raises(ValueError, match="at least 4"):
        B.bimodality_coefficient([1.0, 1.0, 1.0, 1.0])


def test_ks_distance():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=500), rng.normal(size=700)
    assert B.ks_distance(a, a) == 0.0
    assert B.ks_distance(a, b) < 0.1
    assert B.ks_distance(a, b + 10) == 1.0
    from scipy import stats

    assert B.ks_distance(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic)
