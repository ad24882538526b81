"""Spike-train analysis: counts in bins, rasters and back, PSTHs, mean rates.

Spike trains as :mod:`v1sim.spikes` describes them (lists of spike-time arrays,
one per trial, or boolean rasters); times and durations in seconds, rates in
spikes/s. Bin ``j`` covers ``[j dt, (j + 1) dt)``.
"""

from __future__ import annotations

import numpy as np

from .._core.validate import as_array, as_float_array, check_allocation, check_positive_float
from ..errors import InputError, InputTypeError

__all__ = ["bin_counts", "count_psth", "mean_rate", "psth", "raster", "spike_times"]


def _as_trials(spikes, name="spikes"):
    """A list of 1-D spike-time arrays (one trial each), validated."""
    if isinstance(spikes, np.ndarray) and spikes.dtype != object:
        raise InputTypeError(
            f"{name} must be a list of spike-time arrays (one per trial); for a raster use spike_times()", argument=name
        )
    try:
        trials = [
            as_float_array(s, f"{name}[{i}]", ndim=1, allow_empty=True, dtype=np.float64) for i, s in enumerate(spikes)
        ]
    except TypeError:
        raise InputTypeError(
            f"{name} must be a list of spike-time arrays (one per trial), got {type(spikes).__name__}", argument=name
        ) from None
    if not trials:
        raise InputError(f"{name} must hold at least one trial", argument=name)
    return trials


def _n_bins(duration, dt, name="dt"):
    duration = check_positive_float(duration, "duration")
    dt = check_positive_float(dt, name)
    bins = duration / dt  # inf for 1e300 s in 1e-10 s bins: refused before int() sees it
    if not bins < 2**62:
        raise InputError(
            f"duration ({duration} s) in bins of {name}={dt} s is {bins:.3g} bins; that many would need "
            f"more memory than any machine has",
            argument="duration",
        )
    n = int(round(bins))
    if n < 1:
        raise InputError(f"duration ({duration} s) must hold at least one bin of {name}={dt} s", argument="duration")
    check_allocation(n, np.int64, "duration", copies=4, what=f"duration={duration} s in bins of {dt} s ({n} bins)")
    return duration, dt, n


def bin_counts(spikes, duration, bin_width) -> np.ndarray:
    """Spike counts in consecutive bins.

    Parameters
    ----------
    spikes : list of ndarray
        Spike times in seconds, one array per trial.
    duration : float
        Seconds covered, from 0; ``round(duration / bin_width)`` bins.
    bin_width : float
        Seconds.

    Returns
    -------
    (trials, n_bins) ndarray of int64
        Spikes at or after ``n_bins * bin_width`` are ignored.
    """
    trials = _as_trials(spikes)
    duration, width, n = _n_bins(duration, bin_width, "bin_width")
    out = np.zeros((len(trials), n), dtype=np.int64)
    for i, t in enumerate(trials):
        idx = np.floor(t / width).astype(np.int64)
        idx = idx[(idx >= 0) & (idx < n)]
        out[i] = np.bincount(idx, minlength=n)
    return out


def count_psth(counts, dt, bin_width):
    """Peri-stimulus time histogram of binned spike counts, averaged over trials.

    Parameters
    ----------
    counts : (..., trials, T) array_like
        Spikes per time step, e.g. ``Recording.counts``.
    dt : float
        Seconds per time step.
    bin_width : float
        Seconds per PSTH bin, rounded to a whole number of steps (at least one);
        steps after the last whole bin are dropped.

    Returns
    -------
    edges : (n_bins + 1,) ndarray
        Bin edges in seconds (for ``Axes.stairs``).
    rate : (..., n_bins) ndarray of float64
        Spikes per trial per bin divided by the bin's width, spikes/s.

    Raises
    ------
    InputError
        For counts that are not finite non-negative whole numbers (integers or integral floats) of shape
        (..., trials, T), or a ``bin_width`` longer than the recording.
    InputTypeError
        For counts that are not real numbers.
    """
    c = as_float_array(counts, "counts", dtype=np.float64)  # exact for counts below 2**53
    if c.ndim < 2:
        raise InputError(f"counts must have shape (..., trials, T), got {c.shape}", argument="counts")
    if c.min() < 0 or not np.array_equal(c, np.round(c)):
        raise InputError(
            f"counts must be non-negative whole numbers of spikes, got values in [{c.min():g}, "
            f"{c.max():g}]{'' if np.array_equal(c, np.round(c)) else ', not all integral'}",
            argument="counts",
        )
    dt = check_positive_float(dt, "dt")
    k = max(int(round(check_positive_float(bin_width, "bin_width") / dt)), 1)
    n = c.shape[-1] // k
    if n < 1:
        raise InputError(
            f"bin_width ({bin_width} s) is longer than the recording ({c.shape[-1] * dt} s)", argument="bin_width"
        )
    rate = c[..., : n * k].reshape(*c.shape[:-1], n, k).sum(-1).mean(-2) / (k * dt)
    return np.arange(n + 1) * k * dt, rate


def raster(spikes, duration, dt) -> np.ndarray:
    """Boolean raster: ``True`` where a bin of width ``dt`` holds a spike.

    Parameters
    ----------
    spikes : list of ndarray
        Spike times in seconds, one array per trial.
    duration, dt : float
        Seconds; ``round(duration / dt)`` bins.

    Returns
    -------
    (trials, T) ndarray of bool
        Bins with two or more spikes show one (use :func:`bin_counts` to count).
    """
    return bin_counts(spikes, duration, dt) > 0


def spike_times(raster_, dt):
    """Spike times from a raster or count array: one spike at the start of each occupied bin.

    Parameters
    ----------
    raster_ : (trials, T) array_like of bool or int
        Raster (or counts; a count of n gives n spikes at the same time).
    dt : float
        Bin width in seconds.

    Returns
    -------
    list of ndarray
        One float64 array of spike times (s) per trial.
    """
    arr = as_array(raster_, "raster", "biu")
    if arr.ndim != 2:
        raise InputError(
            f"raster must be 2-D (trials, T), got a {arr.ndim}-D array of shape {arr.shape}", argument="raster"
        )
    if arr.dtype.kind not in "biu":
        raise InputTypeError(f"raster must be boolean or integer counts, got dtype {arr.dtype}", argument="raster")
    if arr.dtype.kind != "b" and arr.min() < 0:
        raise InputError("raster counts must be non-negative", argument="raster")
    dt = check_positive_float(dt, "dt")
    check_allocation(int(arr.sum(dtype=np.float64)), np.float64, "raster", what="the spike times of these counts")
    starts = np.arange(arr.shape[1]) * dt
    return [np.repeat(starts, row.astype(np.int64)) for row in arr]


def mean_rate(spikes, duration) -> float:
    """Mean firing rate in spikes/s over trials: total spikes / (trials * duration)."""
    trials = _as_trials(spikes)
    duration = check_positive_float(duration, "duration")
    n = sum(int(np.count_nonzero((t >= 0) & (t < duration))) for t in trials)
    return n / (len(trials) * duration)


def psth(spikes, duration, bin_width):
    """Peri-stimulus time histogram: the trial-averaged rate in spikes/s.

    Parameters
    ----------
    spikes : list of ndarray
        Spike times in seconds, one array per trial (time 0 = the start of
        the trial, e.g. of a movie from :func:`v1sim.stimuli.present`).
    duration : float
        Seconds covered.
    bin_width : float
        Seconds per bin.

    Returns
    -------
    centers : (n_bins,) ndarray
        Bin centres in seconds.
    rate : (n_bins,) ndarray
        Spikes per trial per bin divided by ``bin_width``.
    """
    counts = bin_counts(spikes, duration, bin_width)
    width = float(bin_width)
    centers = (np.arange(counts.shape[1]) + 0.5) * width
    return centers, counts.mean(axis=0) / width
