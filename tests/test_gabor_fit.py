"""v1sim.biology.fit_gabor and the Ringach (2002) nx/ny data: recover known Gabors, compare populations."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest

from v1sim import biology as B
from v1sim import cells, filters, physiology

SHARED_V1 = Path(__file__).resolve().parents[2] / "shared/data/v1"
NXNY_SOURCE = SHARED_V1 / "vonenet_ringach2002_nx_ny_joint_hist.csv"


def _random_gabors(rng, n, shape=(17, 17)):
    """Gabors of random shape in Ringach's range (nx, ny log-uniform in 0.15-1), returned with their params."""
    fields, params = [], []
    for _ in range(n):
        f = rng.uniform(0.07, 0.3)
        sx, sy = (np.exp(rng.uniform(np.log(0.15), np.log(1.0), 2)) / f).clip(0.8, 5.0)
        p = np.array(
            [
                rng.uniform(0.5, 2),
                rng.uniform(7, 9),
                rng.uniform(7, 9),
                rng.uniform(0, np.pi),
                f,
                rng.uniform(-np.pi, np.pi),
                sx,
                sy,
            ]
        )
        fields.append(B.gabor_model(p, shape))
        params.append(p)
    return np.array(fields), np.array(params)


def test_fit_recovers_the_parameters_of_noisy_gabors():
    rng = np.random.default_rng(7)
    fields, true = _random_gabors(rng, 12)
    noisy = fields + 0.01 * rng.standard_normal(fields.shape)
    fit = B.fit_gabor(noisy)
    assert len(fit) == 12 and np.all(fit.r2 > 0.9)
    true_nx, true_ny = true[:, 6] * true[:, 4], true[:, 7] * true[:, 4]
    np.testing.assert_allclose(fit.nx, true_nx, rtol=0.08)
    np.testing.assert_allclose(fit.ny, true_ny, rtol=0.08)
    np.testing.assert_allclose(fit.frequency, true[:, 4], rtol=0.05)
    np.testing.assert_allclose(fit.x0, true[:, 1], atol=0.2)
    # theta is an axis (period pi); compare on the doubled circle
    assert np.all(np.abs(np.angle(np.exp(2j * (fit.theta - true[:, 3])))) < 0.1)
    for i in range(12):  # the rendered fit explains the field
        resid = noisy[i] - B.gabor_model(fit.params(i), noisy.shape[1:])
        assert np.sum(resid**2) < 0.1 * np.sum((noisy[i] - noisy[i].mean()) ** 2)


def test_fit_is_canonical_and_reproduces_the_field_exactly():
    p = np.array([-1.3, 8.2, 7.6, 4.0, 0.15, 2.5, 3.0, 4.5])  # negative amplitude, theta > pi
    field = B.gabor_model(p, (17, 17))
    fit = B.fit_gabor(field)
    assert fit.amplitude[0] > 0 and 0 <= fit.theta[0] < np.pi and -np.pi < fit.phase[0] <= np.pi
    np.testing.assert_allclose(B.gabor_model(fit.params(0), (17, 17)), field, atol=1e-6)
    assert fit.r2[0] > 1 - 1e-9


def test_fit_measures_v1sim_gabor_kernels_by_their_bandwidth():
    # sigma_x = sqrt(ln2 / 2) / (pi f) (2^b + 1) / (2^b - 1), so nx = sigma_x f depends only on the bandwidth b
    for b in (1.0, 1.5, 2.0):
        k = filters.gabor_kernel(0.1, bandwidth=b, theta=0.7, phase=np.pi / 2, size=41, dtype=np.float64)
        expected = np.sqrt(np.log(2) / 2) / np.pi * (2**b + 1) / (2**b - 1)
        fit = B.fit_gabor(k)
        np.testing.assert_allclose([fit.nx[0], fit.ny[0]], [expected, expected], rtol=0.02)
        assert abs(np.angle(np.exp(2j * (fit.theta[0] - 0.7)))) < 0.02


def test_fit_of_a_reverse_correlation_map_finds_the_cell():
    cell = cells.SimpleCell(theta=0.5, frequency=0.15, phase=0.0, bandwidth=1.5)
    rc = physiology.reverse_correlation(cell, (16, 16), n_frames=10000, rng=3)
    fit, truth = B.fit_gabor(rc.sta), B.fit_gabor(rc.receptive_field)
    assert fit.r2[0] > 0.6 and truth.r2[0] > 0.99  # the map is noisy, the cell's own field is a Gabor
    assert abs(np.angle(np.exp(2j * (fit.theta[0] - 0.5)))) < 0.1
    assert abs(fit.frequency[0] - 0.15) < 0.02
    np.testing.assert_allclose([fit.nx[0], fit.ny[0]], [truth.nx[0], truth.ny[0]], rtol=0.15)


def test_fit_accepts_conv_weights_and_averages_channels():
    rng = np.random.default_rng(1)
    fields, _ = _random_gabors(rng, 3, shape=(11, 11))
    weights = np.repeat(fields[:, None], 3, axis=1)  # (C_out, C_in, kh, kw), same field in every channel
    weights[:, 0] += 0.3  # a luminance offset that cancels ...
    weights[:, 2] -= 0.3  # ... in the channel mean
    a, b = B.fit_gabor(weights), B.fit_gabor(fields)
    np.testing.assert_allclose(a.nx, b.nx, rtol=1e-6)
    selected = a.select(np.array([True, False, True]))
    assert len(selected) == 2 and selected.nx[1] == a.nx[2]


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        (np.zeros((2, 2)), "at least 3 x 3"),
        (np.zeros((2, 5, 5)), "all zero"),
        (np.ones(5), "fields"),
        (np.full((5, 5), np.nan), "fields"),
    ],
)
def test_fit_rejects_bad_fields(fields, match):
    with pytest.raises(ValueError, match=match):
        B.fit_gabor(fields)


def test_nxny_data_is_ringachs_histogram():
    d = B.ringach2002_nxny()
    assert d.n == B.RINGACH2002_NXNY["n_cells"] == 79 and d.counts.shape == (5, 5)
    np.testing.assert_allclose(np.diff(np.log10(d.edges)), 0.24, rtol=1e-9)
    assert d.edges[0] == pytest.approx(0.1)
    # most cells have at most two subregions, and a fair share are blob-like
    assert d.counts[:3].sum() / d.n > 0.8 and d.counts[:2, :2].sum() >= 15
    d.counts[:] = 0  # fresh arrays
    assert B.ringach2002_nxny().n == 79


@pytest.mark.skipif(not NXNY_SOURCE.exists(), reason=f"shared data not present at {SHARED_V1}")
def test_nxny_data_equals_the_source_file():
    assert hashlib.sha256(NXNY_SOURCE.read_bytes()).hexdigest() == B.RINGACH2002_NXNY["source_sha256"]
    d = B.ringach2002_nxny()
    with open(NXNY_SOURCE, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            i, j = int(row["nx_bin"]), int(row["ny_bin"])
            assert d.counts[i, j] == int(row["count"])
            assert d.edges[i] == pytest.approx(float(row["nx_lo"]), rel=1e-4)
            assert d.edges[j + 1] == pytest.approx(float(row["ny_hi"]), rel=1e-4)


def test_histogram_distance_and_sampling_agree():
    d = B.ringach2002_nxny()
    nx, ny = d.sample(20000, rng=0)
    assert np.all((nx >= d.edges[0]) & (nx <= d.edges[-1]))
    model = d.histogram(nx, ny)
    assert model.sum() == 20000
    np.testing.assert_allclose(model / 20000, d.counts / d.n, atol=0.01)
    assert d.distance(nx, ny) < 0.03
    # a population of one-octave Gabors (nx = ny = 0.56) shares only one bin with the data
    one = np.full(10, 0.5625)
    assert d.distance(one, one) == pytest.approx(1 - d.counts[3, 3] / d.n)
    # values beyond the bins count in the outermost ones
    assert d.histogram([0.01, 5.0], [0.01, 5.0])[[0, 4], [0, 4]].tolist() == [1, 1]
    with pytest.raises(ValueError, match="same length"):
        d.histogram([0.5], [0.5, 0.6])
    with pytest.raises(ValueError, match="> 0"):
        d.distance([0.0], [0.5])


def test_devalois_orientation_counts_and_binning():
    d = B.devalois1982_orientation()
    assert d.n == B.DEVALOIS1982["n_cells"] == 246
    np.testing.assert_array_equal(d.centres_deg, [0, 45, 90, 135])
    assert 0.55 < d.cardinal_fraction < 0.6  # the oblique effect
    # bins are 45 degrees wide and centred on the centres; theta has period pi
    theta = np.radians([0.0, 22.4, 22.6, 90.0, 112.4, 135.0, 179.0, -10.0, 180.0 + 45.0])
    np.testing.assert_array_equal(d.histogram(theta), [4, 2, 2, 1])
    d.counts[:] = 0
    assert B.devalois1982_orientation().n == 246


@pytest.mark.skipif(not (SHARED_V1 / "vonenet_devalois1982a_orientation_hist.csv").exists(), reason="no shared data")
def test_devalois_data_equals_the_source_file():
    source = SHARED_V1 / "vonenet_devalois1982a_orientation_hist.csv"
    assert hashlib.sha256(source.read_bytes()).hexdigest() == B.DEVALOIS1982["source_sha256"]
    with open(source, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    d = B.devalois1982_orientation()
    np.testing.assert_array_equal(d.counts, [int(r["count"]) for r in rows])
    np.testing.assert_array_equal(d.centres_deg, [float(r["bin_center_deg"]) for r in rows])


def test_fit_jacobian_matches_central_differences():
    from v1sim.biology.gabor_fit import _jacobian, _residuals

    rng = np.random.default_rng(4)
    y, x = (a.ravel() for a in np.mgrid[0:9, 0:11].astype(np.float64))
    target = rng.standard_normal(x.size)
    for _ in range(5):
        p = np.array(
            [
                rng.uniform(0.5, 2),
                rng.uniform(3, 7),
                rng.uniform(3, 6),
                rng.uniform(0, np.pi),
                rng.uniform(0.05, 0.3),
                rng.uniform(-np.pi, np.pi),
                rng.uniform(1, 4),
                rng.uniform(1, 4),
            ]
        )
        h = 1e-6
        numeric = np.stack(
            [(_residuals(p + h * e, x, y, target) - _residuals(p - h * e, x, y, target)) / (2 * h) for e in np.eye(8)],
            axis=1,
        )
        np.testing.assert_allclose(_jacobian(p, x, y, target), numeric, rtol=1e-6, atol=1e-7)


@pytest.fixture(scope="module")
def noisy_gabor_and_fit():
    rng = np.random.default_rng(11)
    field = B.gabor_model([1.3, 8.2, 7.6, 0.7, 0.15, 0.5, 3.0, 4.5], (17, 17)) + 0.05 * rng.standard_normal((17, 17))
    return field, B.fit_gabor(field)


@pytest.mark.parametrize("scale", [1e-200, 1e-100, 1e-12, 1e-9, 1e-6, 1e-3, 7.0, 1e6, 1e12, 1e100, 1e200])
def test_fit_is_scale_free(noisy_gabor_and_fit, scale):
    # before the fit normalised the field, 1e-12 gave frequency +5% and r2 -6e5, and 1e+-200 raised LAPACK errors
    field, ref = noisy_gabor_and_fit
    fit = B.fit_gabor(field * scale)
    for name in ("x0", "y0", "theta", "frequency", "phase", "sigma_x", "sigma_y", "nx", "ny", "r2"):
        np.testing.assert_allclose(getattr(fit, name), getattr(ref, name), rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(fit.amplitude, ref.amplitude * scale, rtol=1e-12)


def test_fit_scales_each_field_on_its_own(noisy_gabor_and_fit):
    field, ref = noisy_gabor_and_fit
    fit = B.fit_gabor(np.stack([field * 1e-150, field, field * 1e150]))
    np.testing.assert_allclose(fit.r2, np.repeat(ref.r2, 3), rtol=1e-9)
    np.testing.assert_allclose(fit.nx, np.repeat(ref.nx, 3), rtol=1e-9)
    np.testing.assert_allclose(fit.amplitude, ref.amplitude * [1e-150, 1.0, 1e150], rtol=1e-12)


def test_all_zero_field_is_an_input_error_naming_the_field():
    from v1sim.errors import InputError

    fields = np.stack([np.ones((5, 5)), np.zeros((5, 5))])
    with pytest.raises(InputError, match=r"all zero; field\(s\) \[1\]") as info:
        B.fit_gabor(fields)
    assert info.value.argument == "fields"
