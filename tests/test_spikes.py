"""v1sim.spikes: Poisson and gamma trains keep their mean rate whatever the time step."""

from __future__ import annotations

import numpy as np
import pytest

from v1sim import spikes as S

DURATION = 30.0  # s per trial
TRIALS = 100  # ~10^5 spikes at 34 sp/s: the mean rate is known to ~0.3%


def _rate(kind, dt):
    t = np.arange(int(round(DURATION / dt))) * dt
    if kind == "constant":
        return np.full(t.size, S.PEAK_RATE)
    return 0.5 * S.PEAK_RATE * (1.0 + np.sin(2 * np.pi * 4.0 * t))  # a drifting grating's modulation, mean 17


def _mean(model, rates, dt, seed):
    if model == "poisson-counts":
        return S.poisson_counts(rates, dt, n_trials=TRIALS, rng=seed).sum() / (TRIALS * DURATION)
    if model == "poisson":
        return S.mean_rate(S.poisson_spikes(rates, dt, n_trials=TRIALS, rng=seed), DURATION)
    return S.mean_rate(S.gamma_spikes(rates, dt, order=2.0, refractory=0.002, n_trials=TRIALS, rng=seed), DURATION)


@pytest.mark.parametrize("model", ["poisson-counts", "poisson", "gamma"])
@pytest.mark.parametrize("kind", ["constant", "modulated"])
def test_halving_dt_changes_the_mean_rate_by_less_than_2_percent(model, kind):
    dt = 0.002
    coarse = _mean(model, _rate(kind, dt), dt, 1)
    fine = _mean(model, _rate(kind, dt / 2), dt / 2, 2)
    target = _rate(kind, dt).mean()
    assert abs(fine - coarse) / coarse < 0.02
    assert abs(coarse - target) / target < 0.02 and abs(fine - target) / target < 0.02


def test_defaults_are_the_macaque_v1_values():
    assert S.PEAK_RATE == pytest.approx(34.0) and S.SPONTANEOUS_RATE == pytest.approx(0.8)


def test_gamma_trains_respect_refractory_period_and_regularity():
    rates = np.full(20000, 40.0)
    cvs = {}
    for order in (1.0, 4.0):
        trains = S.gamma_spikes(rates, 0.001, order=order, refractory=0.003, n_trials=20, rng=3)
        isi = np.concatenate([np.diff(t) for t in trains])
        assert isi.min() >= 0.003 - 1e-12
        assert np.all(np.concatenate([np.diff(t) for t in trains]) > 0)
        cvs[order] = isi.std() / isi.mean()
    # CV = (1 - rate * refractory) / sqrt(order)
    assert cvs[1.0] == pytest.approx(1 - 40 * 0.003, rel=0.05)
    assert cvs[4.0] == pytest.approx((1 - 40 * 0.003) / 2, rel=0.08)
    with pytest.raises(ValueError, match="1/refractory"):
        S.gamma_spikes(np.full(10, 600.0), 0.001, refractory=0.002)


def test_poisson_counts_statistics_and_shapes():
    counts = S.poisson_counts(np.full(1000, 20.0), 0.01, n_trials=200, rng=0)
    assert counts.shape == (200, 1000)
    assert counts.var() == pytest.approx(counts.mean(), rel=0.05)  # Fano factor 1
    stacked = S.poisson_counts(np.ones((3, 50)), 0.01, n_trials=4, rng=0)
    assert stacked.shape == (3, 4, 50)
    assert len(S.poisson_spikes(np.ones((3, 50)), 0.01, n_trials=4, rng=0)) == 3
    np.testing.assert_array_equal(
        S.poisson_counts(np.full(9, 5.0), 0.1, rng=7), S.poisson_counts(np.full(9, 5.0), 0.1, rng=7)
    )


def test_raster_spike_times_and_psth():
    trains = [np.array([0.0005, 0.0012, 0.0013, 0.0501]), np.array([0.02])]
    counts = S.bin_counts(trains, 0.06, 0.001)
    assert counts.shape == (2, 60) and counts[0, 1] == 2 and counts.sum() == 5
    r = S.raster(trains, 0.06, 0.001)
    assert r.dtype == bool and r.sum() == 4  # two spikes in one bin show once
    back = S.spike_times(counts, 0.001)
    np.testing.assert_allclose(back[0], [0.0, 0.001, 0.001, 0.05])
    # PSTH of a step: 5 sp/s then 50 sp/s
    rates = np.r_[np.full(500, 5.0), np.full(500, 50.0)]
    trains = S.poisson_spikes(rates, 0.001, n_trials=400, rng=5)
    centers, psth = S.psth(trains, 1.0, 0.1)
    assert centers.shape == (10,) and centers[0] == pytest.approx(0.05)
    np.testing.assert_allclose(psth[:5], 5.0, rtol=0.2)
    np.testing.assert_allclose(psth[5:], 50.0, rtol=0.06)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="rates must be non-negative"):
        S.poisson_counts([1.0, -2.0], 0.01)
    with pytest.raises(ValueError, match="dt must be positive"):
        S.poisson_counts([1.0], 0.0)
    with pytest.raises(ValueError, match="rates must be 1-D or 2-D"):
        S.gamma_spikes(np.ones((2, 2, 2)), 0.01)
    with pytest.raises(ValueError, match="n_trials"):
        S.poisson_spikes([1.0], 0.01, n_trials=0)
    with pytest.raises(ValueError, match="duration must be positive"):
        S.psth([np.array([0.1])], -1.0, 0.01)
    with pytest.raises(TypeError, match="list of spike-time arrays"):
        S.psth(np.zeros((2, 10), bool), 1.0, 0.1)
    with pytest.raises(ValueError, match="raster must be 2-D"):
        S.spike_times(np.zeros(5, bool), 0.01)


def test_count_psth_averages_trials_in_whole_bins():
    counts = np.zeros((2, 3, 10), dtype=np.int64)  # (conditions, trials, steps)
    counts[0, :, 0] = 1  # every trial spikes in step 0
    counts[1, 0, 4] = 3  # one trial, three spikes in step 4
    counts[1, :, 9] = 1  # step 9 lies after the last whole bin of 3 steps: dropped
    edges, rate = S.count_psth(counts, 0.01, 0.03)
    np.testing.assert_allclose(edges, [0.0, 0.03, 0.06, 0.09])
    np.testing.assert_allclose(rate[0], [1 / 0.03, 0, 0])
    np.testing.assert_allclose(rate[1], [0, 1 / 0.03, 0])  # 3 spikes / 3 trials per 30 ms
    with pytest.raises(ValueError, match="longer than the recording"):
        S.count_psth(counts, 0.01, 0.2)
    with pytest.raises(ValueError, match="trials, T"):
        S.count_psth(np.zeros(5), 0.01, 0.02)


def test_counts_and_rates_beyond_reason_are_named():
    from v1sim.errors import InputError, InputTypeError, NonFiniteError

    with pytest.raises(NonFiniteError) as exc:
        S.count_psth(np.full((2, 10), np.inf), 0.01, 0.02)
    assert exc.value.argument == "counts"
    for counts in (np.full((2, 10), 0.5), -np.ones((2, 10))):
        with pytest.raises(InputError, match="non-negative whole numbers") as exc:
            S.count_psth(counts, 0.01, 0.02)
        assert exc.value.argument == "counts"
    _, rate = S.count_psth(np.full((2, 10), 3.0), 0.01, 0.02)  # integral floats are counts
    np.testing.assert_allclose(rate, 300.0)
    for dt, name in [(2.0**63, "dt"), (1e300, "dt")]:
        with pytest.raises(InputError, match="expected spikes per bin") as exc:
            S.poisson_counts(np.ones(5), dt)
        assert exc.value.argument == name
    with pytest.raises(InputError, match="expected spikes per bin") as exc:
        S.poisson_counts(np.full(5, 1e300), 0.01)
    assert exc.value.argument == "rates"
    with pytest.raises(InputError, match="spike times") as exc:  # memory, before any is drawn
        S.poisson_spikes((1e12, 1e12), 0.01)
    assert exc.value.argument == "rates"
    with pytest.raises(InputError, match="spike times") as exc:
        S.gamma_spikes(np.full(10, 10.0), 10**12)
    assert exc.value.argument == "dt"
    with pytest.raises(InputTypeError) as exc:
        S.spike_times([[1, 2], [3]], 0.01)
    assert exc.value.argument == "raster"
