"""Spike generation from firing rates: inhomogeneous Poisson counts and trains, gamma renewal trains.

Rates in spikes/s, one value per bin of ``dt`` seconds (held constant within
the bin); see :mod:`v1sim.spikes` for the two forms of a spike train and the
default rates.

References
----------
.. [1] Brown EN, Barbieri R, Ventura V, Kass RE, Frank LM (2002). The
   time-rescaling theorem and its application to neural spike train data
   analysis. Neural Comput 14:325-346.
"""

from __future__ import annotations

import math

import numpy as np

from .._core.validate import (
    as_float_array,
    check_allocation,
    check_in_range,
    check_positive_float,
    check_positive_int,
    check_rng,
)
from ..errors import InputError

__all__ = ["PEAK_RATE", "SPONTANEOUS_RATE", "gamma_spikes", "poisson_counts", "poisson_spikes"]

PEAK_RATE = 34.0  # spikes/s, response to an optimal stimulus (typical macaque V1)
SPONTANEOUS_RATE = 0.8  # spikes/s, maintained discharge (typical macaque V1)


_MAX_MEAN_COUNT = 2.0**62  # expected spikes per bin: counts are int64 (NumPy's Poisson sampler stops near 2**63)


def _rates(rates, dt):
    """Validate a (T,) or (N, T) rate array (spikes/s, >= 0) and dt; returns float64 rates, dt.

    The expected count per bin, ``rates * dt``, must stay below 2**62: an int64 count cannot hold more. The
    error names ``dt`` when the bin is longer than a second (the unusual one), else ``rates``.
    """
    r = as_float_array(rates, "rates", ndim=(1, 2), dtype=np.float64)
    if r.min() < 0:
        raise InputError(f"rates must be non-negative (spikes/s), got a minimum of {r.min():.4g}", argument="rates")
    dt = check_positive_float(dt, "dt")
    if r.max() * dt >= _MAX_MEAN_COUNT:  # inf too
        name = "dt" if dt > 1 else "rates"
        raise InputError(
            f"{name}: rates * dt, the expected spikes per bin, must stay below 2**62 (an int64 count); "
            f"got a maximum rate of {r.max():.3g} spikes/s with dt = {dt:.3g} s",
            argument=name,
        )
    return r, dt


def poisson_counts(rates, dt, *, n_trials=1, rng=None) -> np.ndarray:
    """Spike counts per bin of an inhomogeneous Poisson process.

    Parameters
    ----------
    rates : (T,) or (N, T) array_like
        Firing rate in spikes/s in each bin of width ``dt`` (N independent
        traces, e.g. stimulus conditions).
    dt : float
        Bin width in seconds, > 0.
    n_trials : int
        Repeats per trace.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    counts : (n_trials, T) or (N, n_trials, T) ndarray of int64
        ``counts ~ Poisson(rates * dt)`` independently per bin: the expected
        count over a window is the integral of the rate, whatever ``dt``.
    """
    r, dt = _rates(rates, dt)
    n_trials = check_positive_int(n_trials, "n_trials")
    check_allocation(r.size * n_trials, np.int64, "n_trials", what=f"{n_trials} trials of rates of shape {r.shape}")
    rng = check_rng(rng)
    lam = r * dt
    if r.ndim == 1:
        return rng.poisson(lam, size=(n_trials, lam.size))
    return rng.poisson(lam[:, None, :], size=(lam.shape[0], n_trials, lam.shape[1]))


def poisson_spikes(rates, dt, *, n_trials=1, rng=None):
    """Spike times of an inhomogeneous Poisson process with a piecewise-constant rate.

    Parameters
    ----------
    rates : (T,) or (N, T) array_like
        Rate in spikes/s per bin of width ``dt``.
    dt : float
        Bin width in seconds.
    n_trials : int
        Repeats per trace.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    list of ndarray, or list of lists of ndarray
        For (T,) rates, ``n_trials`` sorted arrays of spike times in seconds,
        in ``[0, T dt)``; for (N, T) rates, N such lists. Counts are drawn
        per bin as in :func:`poisson_counts` and placed uniformly within
        their bin (exact for a rate held constant over the bin).
    """
    r, dt = _rates(rates, dt)
    n_trials = check_positive_int(n_trials, "n_trials")
    rng = check_rng(rng)
    _check_spike_memory(r, dt, n_trials, copies=3)
    counts = poisson_counts(r, dt, n_trials=n_trials, rng=rng)
    if r.ndim == 1:
        return _place(counts, dt, rng)
    return [_place(c, dt, rng) for c in counts]


def _check_spike_memory(r, dt, n_trials, copies):
    """Bound the spike times a train generator will hold by their expected number (plus 10 standard deviations).

    Memory scales with the spikes, not with T: ``rates * dt`` summed over the bins and trials. The error names
    ``dt`` when the bin is longer than a second, else ``rates`` (as :func:`_rates`).
    """
    expected = float(r.sum()) * dt * n_trials
    check_allocation(
        int(expected + 10 * math.sqrt(expected)) + 1,
        np.float64,
        "dt" if dt > 1 else "rates",
        copies=copies,
        what=f"rates summing to {r.sum():.3g} spikes/s over {r.shape[-1]} bins of "
        f"{dt:g} s, {n_trials} trial(s), give about {expected:.3g} spike times",
    )


def _place(counts, dt, rng):
    """(trials, T) counts -> list of sorted spike-time arrays, uniform within bins."""
    out = []
    starts = np.arange(counts.shape[1]) * dt
    for row in counts:
        t = np.repeat(starts, row) + rng.random(int(row.sum())) * dt
        t.sort()
        out.append(t)
    return out


def gamma_spikes(rates, dt, *, order=2.0, refractory=0.002, n_trials=1, rng=None):
    """Spike times of a gamma renewal process with an absolute refractory period.

    Each inter-spike interval is a dead time ``refractory`` followed by a
    gamma-distributed interval of shape ``order`` in rescaled time: with the
    free rate ``lam(t) = rate(t) / (1 - rate(t) * refractory)`` and
    ``Lam(t) = integral of lam``, the free part of an interval ends where
    ``Lam`` has grown by ``u ~ Gamma(order, 1/order)`` (unit mean). For a
    constant rate the mean interval is ``refractory + 1/lam = 1/rate``: the
    train fires at ``rate`` exactly, with a coefficient of variation
    ``(1 - rate*refractory) / sqrt(order)``. ``Lam`` is piecewise linear on
    the bins and inverted exactly, so the result does not depend on ``dt``
    beyond the sampling of ``rate`` itself (time rescaling, Brown et al. 2002).
    ``order=1, refractory=0`` is a Poisson process.

    Parameters
    ----------
    rates : (T,) or (N, T) array_like
        Rate in spikes/s per bin; ``rates * refractory`` must stay below 1.
    dt : float
        Bin width in seconds.
    order : float
        Gamma shape parameter, > 0 (1: exponential; larger: more regular).
        The default 2 is an assumption (cortical trains are near-Poisson,
        CV ~ 1, at low rates), not a fitted value.
    refractory : float
        Absolute refractory period in seconds, >= 0 (default 2 ms).
    n_trials : int
        Repeats per trace.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    list of ndarray, or list of lists of ndarray
        As :func:`poisson_spikes`. The first spike of a trial comes from
        the forward-recurrence (stationary) distribution, so there is no
        onset artefact.
    """
    r, dt = _rates(rates, dt)
    order = check_positive_float(order, "order")
    refractory = check_in_range(refractory, "refractory", 0.0, math.inf)
    n_trials = check_positive_int(n_trials, "n_trials")
    check_allocation(
        r.shape[0] * n_trials if r.ndim == 2 else n_trials,
        np.float64,
        "n_trials",
        copies=8,
        what=f"{n_trials} trials of spike trains",
    )
    _check_spike_memory(r, dt, n_trials, copies=3)  # the NaN-padded (spikes, trials) stack, its list, the result
    rng = check_rng(rng)
    if r.max() * refractory >= 1.0:
        raise InputError(
            f"rates must stay below 1/refractory = {1.0 / refractory:.4g} spikes/s, got a maximum of {r.max():.4g}",
            argument="rates",
        )
    if r.ndim == 1:
        return _gamma_trains(r, dt, order, refractory, n_trials, rng)
    return [_gamma_trains(row, dt, order, refractory, n_trials, rng) for row in r]


def _gamma_trains(r, dt, order, tau, n_trials, rng):
    lam = r / (1.0 - r * tau)
    big_lam = np.concatenate([[0.0], np.cumsum(lam * dt)])  # Lam at the bin edges
    total, n_bins = big_lam[-1], lam.size
    duration = n_bins * dt

    def lam_at(t):  # Lam(t) for t in [0, duration]
        j = np.minimum((t / dt).astype(np.int64), n_bins - 1)
        return big_lam[j] + lam[j] * (t - j * dt)

    def lam_inverse(target):  # smallest t with Lam(t) = target (target < total)
        j = np.searchsorted(big_lam, target, side="right") - 1
        j = np.clip(j, 0, n_bins - 1)
        return j * dt + (target - big_lam[j]) / np.where(lam[j] > 0, lam[j], 1.0)

    scale = 1.0 / order
    # stationary start: forward recurrence time = U * (length-biased free interval)
    target = rng.random(n_trials) * rng.gamma(order + 1.0, scale, n_trials)
    times = []
    active = target < total
    t = np.zeros(n_trials)
    while active.any():
        t_new = np.full(n_trials, np.nan)
        t_new[active] = lam_inverse(target[active])
        times.append(t_new)
        t = t_new
        start = t + tau
        active &= start < duration
        target = np.full(n_trials, np.inf)
        target[active] = lam_at(start[active]) + rng.gamma(order, scale, int(active.sum()))
        active &= target < total
    if not times:
        return [np.empty(0) for _ in range(n_trials)]
    stacked = np.stack(times)  # (n_spikes_max, n_trials), NaN where a trial had ended
    return [col[~np.isnan(col)] for col in stacked.T]
