"""v1sim.physiology and v1sim.tuning: the classic experiments give the classic results."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from v1sim import cells, stimuli
from v1sim import physiology as P
from v1sim import tuning as T

SHAPE = (48, 48)
GANGLION = dict(center_radius=1.5, surround_radius=6.0)


# ----------------------------------------------------------------- the lecture's stimulus conditions


def test_center_surround_on_and_off_cells():
    on = P.center_surround(cells.GanglionCell(**GANGLION), SHAPE)
    assert on.conditions == ("center", "surround", "annulus", "full field")
    center, surround, annulus, full = on.rates
    assert center > 3 * on.spontaneous  # fires to a spot on the centre
    assert surround < on.spontaneous and annulus < 0.5 * on.spontaneous  # suppressed by light on the surround
    assert on.spontaneous < full < center  # full field: weaker than the centre alone
    off = P.center_surround(cells.GanglionCell(polarity="off", **GANGLION), SHAPE)
    assert (
        off.rates[0] < 0.5 * off.spontaneous and off.rates[1] > off.spontaneous and off.rates[2] > 2 * off.spontaneous
    )
    assert off.stimuli.shape == (4,) + SHAPE


def test_center_surround_recording_rasters():
    res = P.center_surround(
        cells.GanglionCell(**GANGLION), SHAPE, n_trials=20, duration=0.5, onset=0.1, offset=0.4, dt=0.002, rng=0
    )
    assert res.counts.shape == (4, 20, 250) and res.time.shape == (250,)
    on = slice(50, 200)
    before = res.counts[0, :, :50].mean() / 0.002
    during = res.counts[0, :, on].mean() / 0.002
    assert during > 2 * before  # the centre spot's burst shows in the raster
    assert res.counts[2, :, on].mean() < res.counts[2, :, :50].mean()  # the annulus silences the cell


def test_record_gives_rasters_and_psth():
    cell = cells.SimpleCell(frequency=0.1)
    movie = stimuli.drifting_grating(SHAPE, 0.1, 4.0, 2.0, dt=0.005)
    rec = P.record(cell, movie, 0.005, n_trials=30, rng=1)
    assert rec.counts.shape == (30, 400) and rec.raster.dtype == bool
    assert rec.mean_rate == pytest.approx(rec.rate.mean(), rel=0.1)
    centers, psth = rec.psth(0.025)
    assert centers.size == 80 and T.f1_f0(psth, 0.025, 4.0) > 1.0
    gam = P.record(cell, movie, 0.005, n_trials=30, spike_model="gamma", rng=1)
    assert gam.mean_rate == pytest.approx(rec.rate.mean(), rel=0.1)


# ----------------------------------------------------------------- area summation


def test_area_summation_peaks_at_the_centre_size_and_falls_beyond():
    cell = cells.GanglionCell(**GANGLION)
    radii = np.linspace(0.5, 20.0, 79)  # 0.25 px steps
    res = P.area_summation(cell, SHAPE, radii=radii, stimulus="spot")
    # the peak sits where the DoG profile changes sign (d/da of the disc integral = 2 pi a k(a) = 0)
    assert abs(res.optimal_radius - cell.rf_radius) < 0.5
    assert res.rates[-1] < 0.7 * res.rates.max() and res.suppression_index > 0.3
    grating = P.area_summation(
        cells.ComplexCell(frequency=0.15), SHAPE, stimulus="grating", radii=np.linspace(1, 24, 12)
    )
    assert grating.suppression_index < 0.05  # no surround in the energy model


def test_area_summation_uses_gratings_by_default_so_gabor_cells_are_not_all_suppressed():
    # Cavanaugh et al. (2002) grew drifting grating patches; a large uniform spot gives a DC-free Gabor
    # field no drive at all, so a spot default reported a suppression index of 1.0 for every V1 cell
    radii = np.linspace(1, 24, 12)
    spot = P.area_summation(cells.SimpleCell(frequency=0.15), SHAPE, radii=radii, stimulus="spot")
    assert spot.suppression_index == pytest.approx(1.0, abs=0.02)  # the artefact the default avoids
    for cell in (cells.SimpleCell(frequency=0.15), cells.ComplexCell(frequency=0.15)):
        res = P.area_summation(cell, SHAPE, radii=radii)
        assert res.stimulus == "grating"
        assert res.suppression_index < 0.2  # a plain Gabor or energy unit has no suppressive surround
    hyper = P.area_summation(cells.HypercomplexCell(frequency=0.15), SHAPE, radii=radii)
    assert hyper.suppression_index > 0.5  # its end zones do suppress: the grating default still shows it


# ----------------------------------------------------------------- flat curves prefer nothing


def test_a_flat_tuning_curve_has_no_preferred_value_or_bandwidth():
    blank = P.orientation_tuning(cells.SimpleCell(frequency=0.15), SHAPE, contrast=0.0)  # rates = spontaneous
    assert blank.preferred is None and blank.preferred_deg is None
    assert blank.bandwidth is None and blank.bandwidth_deg is None
    round_field = P.orientation_tuning(cells.GanglionCell(**GANGLION), SHAPE)  # a DoG prefers no orientation
    assert np.ptp(round_field.rates) < 0.05 * round_field.rates.max() and round_field.preferred_deg is None
    tuned = P.orientation_tuning(cells.SimpleCell(frequency=0.15), SHAPE)
    assert tuned.preferred_deg == pytest.approx(0.0, abs=1.0) and 5.0 < tuned.bandwidth_deg < 60.0
    flat_sf = P.spatial_frequency_tuning(cells.ComplexCell(frequency=0.15), SHAPE, contrast=0.0)
    assert flat_sf.preferred is None
    buf = io.BytesIO()
    np.savez(buf, **blank.to_dict())  # None is saved as NaN: the file loads without pickle
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as data:
        assert np.isnan(data["preferred"]) and np.isnan(data["bandwidth_deg"])
    assert T.is_tuned([1.0, 2.0, 1.0]) and not T.is_tuned([0.0, 0.0]) and not T.is_tuned([10.0, 10.2])


# ----------------------------------------------------------------- simple vs complex: F1/F0


@pytest.mark.parametrize(
    "cell, simple",
    [
        (cells.SimpleCell(theta=0.4, frequency=0.15), True),
        (cells.SimpleCell(theta=0.4, frequency=0.15, phase=np.pi / 2, nonlinearity=cells.Nonlinearity()), True),
        (cells.HubelWieselCell(theta=0.4, center_radius=1.5, surround_radius=5.0), True),
        (cells.ComplexCell(theta=0.4, frequency=0.15), False),
        (cells.MaxComplexCell(theta=0.4, frequency=0.15), False),
    ],
    ids=["gabor-even", "gabor-odd-linear", "hubel-wiesel", "energy", "max-pool"],
)
def test_f1_f0_separates_simple_from_complex_cells(cell, simple):
    res = P.grating_response(cell, SHAPE, temporal_frequency=4.0, duration=1.0, dt=0.01)
    if simple:
        assert res.f1_f0 > 1.0
    else:
        assert res.f1_f0 < 1.0


def test_f1_f0_of_a_rectified_sinusoid_is_pi_over_two():
    t = np.arange(100) * 0.01
    r = np.maximum(np.cos(2 * np.pi * 4 * t), 0.0)
    assert T.f1_f0(r, 0.01, 4.0) == pytest.approx(np.pi / 2, rel=2e-3)  # 25 samples per cycle
    assert T.f1_f0(np.ones(100), 0.01, 4.0) == pytest.approx(0.0, abs=1e-12)
    # a partial cycle at the end is ignored
    assert T.f1_f0(np.r_[r, r[:10]], 0.01, 4.0) == pytest.approx(T.f1_f0(r, 0.01, 4.0), rel=1e-12)


# ----------------------------------------------------------------- orientation and spatial frequency


@pytest.mark.parametrize("theta", [0.0, 0.4, 2.0])
def test_orientation_tuning_peaks_at_the_preferred_orientation(theta):
    res = P.orientation_tuning(cells.SimpleCell(theta=theta, frequency=0.15), SHAPE)
    err = abs(res.preferred - theta % np.pi)
    assert min(err, np.pi - err) < math.radians(2.0)
    assert res.orientations_deg[1] == pytest.approx(180 / 16)
    assert 0 < res.circular_variance < 1


def test_orientation_tuning_narrows_as_the_field_elongates():
    widths, cvs = [], []
    for sigma_y in (3.0, 6.0, 9.0):  # sigma_x = 3 px
        cell = cells.SimpleCell(theta=0.4, frequency=0.15, sigma_x=3.0, sigma_y=sigma_y)
        res = P.orientation_tuning(cell, (64, 64), orientations=np.arange(36) * np.pi / 36)
        widths.append(res.bandwidth)
        # evoked part: with the baseline in, a narrower peak raises the circular variance
        cvs.append(T.circular_variance(res.orientations, res.rates, spontaneous=res.spontaneous))
    assert widths[0] > widths[1] > widths[2] and cvs[0] > cvs[1] > cvs[2]
    assert math.degrees(widths[2]) < 0.6 * math.degrees(widths[0])


def test_orientation_metrics_on_a_known_curve():
    th = np.arange(36) * np.pi / 36
    d = np.angle(np.exp(2j * (th - 1.0))) / 2  # signed distance to 1 rad, axial
    r = 2.0 + 30.0 * np.exp(-(d**2) / (2 * 0.2**2))
    assert T.preferred_orientation(th, r) == pytest.approx(1.0, abs=1e-6)
    assert T.preferred_orientation(th, r, method="peak") == pytest.approx(1.0, abs=0.01)
    assert T.orientation_bandwidth(th, r) == pytest.approx(0.2 * math.sqrt(2 * math.log(2)), rel=0.03)
    assert T.circular_variance(th, np.ones(36)) == pytest.approx(1.0)
    assert math.isnan(T.orientation_bandwidth(th, np.ones(36)))


def test_spatial_frequency_and_phase_tuning():
    simple = cells.SimpleCell(theta=0.3, frequency=0.12)
    sf = P.spatial_frequency_tuning(simple, SHAPE)
    assert sf.preferred == pytest.approx(simple.preferred_frequency, rel=0.05)
    ph = P.phase_tuning(simple, SHAPE)
    assert ph.rates.max() > 10 * max(ph.rates.min(), simple.spontaneous_rate)
    assert ph.phases_deg[np.argmax(ph.rates)] == 0.0  # bright crest on the even field's centre
    flat = P.phase_tuning(cells.ComplexCell(theta=0.3, frequency=0.12), SHAPE).rates
    assert flat.max() / flat.min() < 1.05


def test_deg_units_follow_the_cell_ppd():
    cell = cells.SimpleCell(theta=0.3, frequency=3.0, ppd=20.0)  # 0.15 cycles/pixel
    sf = P.spatial_frequency_tuning(cell, SHAPE, frequencies=[1.0, 2.0, 3.0, 4.0, 6.0])
    assert sf.preferred == pytest.approx(cell.preferred_frequency, rel=0.1) and cell.preferred_frequency > 2.5
    lt = P.length_tuning(cell, SHAPE)
    assert lt.lengths.max() == pytest.approx(math.hypot(*SHAPE) / 20.0)


# ----------------------------------------------------------------- bars and edges


def test_bar_and_edge_sweeps_map_the_subfields():
    even = cells.SimpleCell(theta=0.0, frequency=0.12)
    light = P.sweep(even, SHAPE, stimulus="light bar")
    dark = P.sweep(even, SHAPE, stimulus="dark bar")
    assert light.positions[np.argmax(light.rates)] == 0.0 and dark.rates[16] < dark.spontaneous + 1e-9
    assert abs(dark.positions[np.argmax(dark.rates)]) == pytest.approx(0.5 / 0.12, abs=1.0)  # flanks
    odd = cells.SimpleCell(theta=0.0, frequency=0.12, phase=np.pi / 2)  # -sin: light left, dark right
    l2d = P.sweep(odd, SHAPE, stimulus="light-to-dark edge")
    d2l = P.sweep(odd, SHAPE, stimulus="dark-to-light edge")
    assert l2d.rates[16] > 10 * d2l.rates[16]
    hw = cells.HubelWieselCell(kind="dark-to-light", center_radius=1.5, surround_radius=5.0)
    res = P.sweep(hw, SHAPE, stimulus="dark-to-light edge")
    assert abs(res.positions[np.argmax(res.rates)]) <= 1.5


def test_hubel_wiesel_line_detector_prefers_bars_of_its_orientation():
    for theta in (0.0, np.pi / 3):
        cell = cells.HubelWieselCell(theta=theta, center_radius=1.5, surround_radius=5.0, n_subunits=7)
        res = P.orientation_tuning(cell, SHAPE, stimulus="bar", length=24.0, width=2.0)
        err = abs(res.preferred - theta)
        assert min(err, np.pi - err) < math.radians(2.0)
        assert res.rates.max() > 2 * res.rates.min()


# ----------------------------------------------------------------- end-stopping


def test_end_stopping_index_hypercomplex_vs_complex():
    lengths = np.geomspace(1.0, 68.0, 24)
    hyper = P.length_tuning(cells.HypercomplexCell(theta=0.0, frequency=0.2), SHAPE, lengths=lengths)
    assert hyper.end_stopping_index > 0.5
    assert hyper.optimal_length < 20.0
    for cell in (cells.ComplexCell(theta=0.0, frequency=0.2), cells.MaxComplexCell(theta=0.0, frequency=0.2)):
        assert P.length_tuning(cell, SHAPE, lengths=lengths).end_stopping_index < 0.1
    oblique = P.length_tuning(cells.HypercomplexCell(theta=np.pi / 4, frequency=0.2), (64, 64))
    assert oblique.end_stopping_index > 0.5


# ----------------------------------------------------------------- reverse correlation


def test_spike_triggered_average_recovers_the_receptive_field():
    """80000 frames of binary noise (24x24 px, 50 ms each) evoke about 5000 spikes
    from the default half-squaring simple cell; the STA then correlates > 0.9 with
    the true Gabor field (about 0.8 after 1200 spikes)."""
    cell = cells.SimpleCell(theta=0.4, frequency=0.2)
    res = P.reverse_correlation(cell, (24, 24), n_frames=80000, dt=0.05, rng=1)
    assert res.n_spikes >= 4000
    assert res.correlation >= 0.9
    assert res.sta.shape == (24, 24)


def test_spike_triggered_average_function_matches_the_protocol_arithmetic():
    rng = np.random.default_rng(0)
    frames = stimuli.white_noise((8, 8), n_frames=500, rng=rng)
    counts = rng.poisson(2.0, size=500)
    sta = T.spike_triggered_average(frames, counts)
    c = (frames.astype(np.float64) - 0.5) / 0.5
    expected = (counts[:, None, None] * c).sum(0) / counts.sum() - c.mean(0)
    np.testing.assert_allclose(sta, expected, atol=1e-12)
    with pytest.raises(ValueError, match="no spikes"):
        T.spike_triggered_average(frames, np.zeros(500))


# ----------------------------------------------------------------- registry, results, errors


def test_run_protocol_by_name_and_results_save_to_npz():
    res = P.run_protocol("orientation_tuning", cells.ComplexCell(), SHAPE, orientations=[0.0, 1.0])
    assert isinstance(res, P.OrientationTuning)
    buf = io.BytesIO()
    np.savez(buf, **res.to_dict())
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as data:
        np.testing.assert_array_equal(data["rates"], res.rates)
    assert set(P.PROTOCOLS) >= {"center_surround", "sweep", "length_tuning", "area_summation", "reverse_correlation"}


def test_bad_inputs_raise_clear_errors():
    cell = cells.SimpleCell()
    with pytest.raises(ValueError, match="protocol must be one of"):
        P.run_protocol("tuning_curve", cell, SHAPE)
    with pytest.raises(ValueError, match="duration must be positive"):
        P.grating_response(cell, SHAPE, duration=0.0)
    with pytest.raises(ValueError, match="duration must be positive"):
        P.orientation_tuning(cell, SHAPE, duration=-1.0)
    with pytest.raises(ValueError, match="duration must be positive"):
        P.center_surround(cell, SHAPE, duration=0.0)
    with pytest.raises(ValueError, match="dt must be positive"):
        P.record(cell, np.full((3, 8, 8), 0.5), 0.0)
    with pytest.raises(ValueError, match="stimulus must be 3-D"):
        P.record(cell, np.full((8, 8), 0.5), 0.01)
    with pytest.raises(ValueError, match="stimulus must be one of"):
        P.sweep(cell, SHAPE, stimulus="plaid")
    with pytest.raises(ValueError, match="spike_model"):
        P.record(cell, np.full((3, 8, 8), 0.5), 0.01, spike_model="hawkes")
    with pytest.raises(TypeError, match="cell must be"):
        P.orientation_tuning("V1", SHAPE)
    with pytest.raises(ValueError, match="shape"):
        P.length_tuning(cell, (0, 48))
    with pytest.raises(ValueError, match="lengths must all be positive"):
        P.length_tuning(cell, SHAPE, lengths=[0.0, 5.0])
    with pytest.raises(ValueError, match="frequency"):
        P.grating_response(cell, SHAPE, frequency=0.8)
    with pytest.raises(ValueError, match="orientations and rates"):
        T.preferred_orientation([0.0, 1.0], [1.0])


def test_reverse_correlation_refuses_a_mapping_of_days_and_frames_beyond_memory():
    from v1sim.errors import InputError

    cell = cells.SimpleCell(frequency=0.15)
    with pytest.raises(InputError, match="pixel-frames") as exc:  # streamed: memory alone would not stop it
        P.reverse_correlation(cell, (9, 9), n_frames=10**12, rng=0)
    assert exc.value.argument == "n_frames"
    with pytest.raises(InputError, match="frames") as exc:
        P.reverse_correlation(cell, (10**12, 10**12), n_frames=10, rng=0)
    assert exc.value.argument == "shape"
