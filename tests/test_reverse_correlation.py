"""Reverse correlation that reaches the fields it maps: noise at the field's scale, whitening, STC (issue 13)."""

import time

import numpy as np
import pytest
import scipy.linalg
import scipy.ndimage

from v1sim import cells
from v1sim import physiology as P
from v1sim import tuning as T
from v1sim.errors import InputError
from v1sim.physiology.recording import write_recording


def test_record_defaults_map_a_simple_cell_at_r_0_9(tmp_path):
    """White 32x32 pixels gave r 0.61 (1000 spikes); noise correlated at the field's scale gives ~0.93."""
    t = time.perf_counter()
    r = write_recording("simple", "reverse-correlation", out_dir=tmp_path, seed=0)
    print(f"simple cell, record defaults: r = {r['sta_correlation']:.3f} in {time.perf_counter() - t:.1f} s")
    assert r["sta_correlation"] >= 0.9 and r["n_frames"] == 20000


def test_complex_cell_stc_pair_spans_its_quadrature_subunits():
    cell = cells.ComplexCell(theta=0.3, frequency=0.2)
    res = P.reverse_correlation(cell, (16, 16), n_frames=8000, grain="auto", rng=2)
    assert res.estimate == "stc" and np.isfinite(res.sta).all() and res.stc.shape == (2, 16, 16)
    assert res.correlation > 0.8  # cos of the largest principal angle (0.83 here: < 37 degrees)
    assert res.metrics()["sta_correlation"] is None and res.metrics()["stc_correlation"] == res.correlation
    subunits = cell.subunits((16, 16)).reshape(2, -1)
    other = np.random.default_rng(0).standard_normal((2, 256))  # a random plane is far from it
    angles = scipy.linalg.subspace_angles(res.stc.reshape(2, -1).T, other.T)
    assert np.cos(angles).min() < 0.5 < res.correlation
    assert np.linalg.matrix_rank(subunits) == 2


def _ln_cell(field, frames, rng):
    """Half-squaring LN-Poisson cell with a known field, driven by ``frames`` (contrast units)."""
    g = frames.reshape(len(frames), -1) @ field.ravel()
    return rng.poisson(5.0 * np.maximum(g / g.std() + 0.5, 0.0) ** 2)


def test_ridge_whitening_recovers_a_field_blurred_by_correlated_noise():
    rng = np.random.default_rng(1)
    y, x = np.mgrid[-7:8, -7:8]
    field = np.exp(-(x**2 + y**2) / 18.0) * np.cos(2 * np.pi * 0.3 * x)  # finer than the noise's grain
    c = scipy.ndimage.gaussian_filter(rng.standard_normal((30000, 15, 15)), (0, 1.2, 1.2), mode="wrap")
    c /= 3 * c.std()
    frames = 0.5 * (1 + c)
    counts = _ln_cell(field, c, rng)
    sta = T.spike_triggered_average(frames, counts)
    white = T.spike_triggered_average(frames, counts, ridge=1e-3)
    assert T.rf_correlation(sta, field) < 0.6  # Sigma k: the field blurred by the noise
    assert T.rf_correlation(white, field) > 0.9


def test_spike_triggered_covariance_finds_an_energy_models_plane():
    rng = np.random.default_rng(3)
    stim = rng.standard_normal((20000, 8, 8))
    a, b = np.zeros((8, 8)), np.zeros((8, 8))
    a[2, 3], b[5, 5] = 1.0, 1.0
    g = stim.reshape(20000, -1)
    counts = rng.poisson(0.5 * ((g @ a.ravel()) ** 2 + (g @ b.ravel()) ** 2))
    vals, vecs = T.spike_triggered_covariance(0.5 + 0.1 * stim, counts, background=0.5)
    assert vals[0] > 0 and vals[1] > 0 and vecs.shape == (2, 8, 8)
    angles = scipy.linalg.subspace_angles(vecs.reshape(2, -1).T, np.stack([a.ravel(), b.ravel()]).T)
    assert np.cos(angles).min() > 0.95


def test_bad_reverse_correlation_arguments_are_named():
    cell = cells.SimpleCell(frequency=0.2)
    for kwargs, name in (
        ({"grain": -1.0}, "grain"),
        ({"estimate": "wiener"}, "estimate"),
        ({"ridge": -0.1}, "ridge"),
        ({"contrast": 2.0}, "contrast"),
    ):
        with pytest.raises(InputError) as exc:
            P.reverse_correlation(cell, (9, 9), n_frames=100, rng=0, **kwargs)
        assert exc.value.argument == name
    with pytest.raises(InputError) as exc:
        T.spike_triggered_average(np.full((5, 4, 4), 0.5), np.ones(5), ridge=-1.0)
    assert exc.value.argument == "ridge"
    with pytest.raises(InputError) as exc:
        T.spike_triggered_covariance(np.full((5, 4, 4), 0.5), np.ones(4))
    assert exc.value.argument == "counts"
