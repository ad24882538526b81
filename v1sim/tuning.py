"""Tuning metrics of the classic single-unit literature, on plain arrays.

Angles in radians (orientation is axial: period pi), spatial frequency in
whatever unit the caller's array holds, rates in spikes/s, time in seconds.
Each function takes the independent variable and the responses (as stored in
:mod:`v1sim.physiology` results) and returns a float or an array.

References
----------
.. [1] Ringach DL, Shapley RM, Hawken MJ (2002). Orientation selectivity in
   macaque V1: diversity and laminar dependence. J Neurosci 22:5639-5651
   (circular variance, bandwidth).
.. [2] Skottun BC, De Valois RL, Grosof DH, Movshon JA, Albrecht DG, Bonds AB
   (1991). Classifying simple and complex cells on the basis of response
   modulation. Vision Res 31:1079-1086 (F1/F0).
.. [3] Cavanaugh JR, Bair W, Movshon JA (2002). Nature and interaction of
   signals from the receptive field center and surround in macaque V1
   neurons. J Neurophysiol 88:2530-2546 (area summation, suppression index).
.. [4] Hubel DH, Wiesel TN (1965). Receptive fields and functional
   architecture in two nonstriate visual areas (18 and 19) of the cat.
   J Neurophysiol 28:229-289 (hypercomplex / end-stopped cells).
.. [5] Chichilnisky EJ (2001). A simple white noise analysis of neuronal light
   responses. Network 12:199-213 (spike-triggered average).
.. [6] Schwartz O, Pillow JW, Rust NC, Simoncelli EP (2006). Spike-triggered
   neural characterization. J Vis 6:484-507 (ridge-whitened STA, STC).
"""

from __future__ import annotations

import math

import numpy as np

from ._core.validate import (
    as_array,
    as_float_array,
    check_choice,
    check_finite_float,
    check_in_range,
    check_positive_float,
    check_positive_int,
)
from .errors import InputError

__all__ = [
    "circular_variance",
    "end_stopping_index",
    "f1_f0",
    "fourier_components",
    "is_tuned",
    "optimal_size",
    "orientation_bandwidth",
    "preferred_frequency",
    "preferred_orientation",
    "rf_correlation",
    "spike_triggered_average",
    "spike_triggered_covariance",
    "surround_suppression_index",
]


def _curve(x, y, xname, yname):
    xs = as_float_array(x, xname, ndim=1, dtype=np.float64)
    ys = as_float_array(y, yname, ndim=1, dtype=np.float64)
    if xs.shape != ys.shape:
        raise InputError(f"{xname} and {yname} must have the same length, got {xs.size} and {ys.size}", argument=yname)
    return xs, ys


def is_tuned(rates, *, modulation=0.05) -> bool:
    """Whether a tuning curve is modulated at all: ``max - min > modulation * max``.

    A flat (or all-zero) curve prefers no stimulus: the physiology results
    report ``None`` for its preferred value and bandwidth rather than the
    argmax of noise or an angle of a zero vector.

    Parameters
    ----------
    rates : (n,) array_like
        Responses (spikes/s), >= 0.
    modulation : float in [0, 1)
        Smallest peak-to-trough range, as a fraction of the peak, that counts
        as tuned (default 5%).

    Returns
    -------
    bool
    """
    r = as_float_array(rates, "rates", ndim=1, dtype=np.float64)
    m = check_in_range(modulation, "modulation", 0.0, 1.0, inclusive=(True, False))
    return bool(r.max() - r.min() > m * r.max())


def preferred_orientation(orientations, rates, *, method="vector") -> float:
    """Preferred orientation in [0, pi) radians.

    Parameters
    ----------
    orientations : (n,) array_like
        Stimulus orientations, radians (axial: theta and theta + pi are the same).
    rates : (n,) array_like
        Responses (spikes/s), >= 0 for ``method="vector"``.
    method : {"vector", "peak"}
        ``"vector"``: half the angle of ``sum r exp(2 i theta)`` (the vector
        average on doubled angles; exact for evenly spaced samples of a smooth
        curve). ``"peak"``: the sample with the largest response, refined by a
        parabola through it and its neighbours (evenly spaced samples).

    Returns
    -------
    float
    """
    th, r = _curve(orientations, rates, "orientations", "rates")
    method = check_choice(method, "method", ("vector", "peak"))
    if method == "vector":
        return _axial(np.angle(np.sum(r * np.exp(2j * th))) / 2.0)
    i = int(np.argmax(r))
    n = r.size
    if n < 3:
        return _axial(th[i])
    a, b, c = r[i - 1], r[i], r[(i + 1) % n]
    step = float(np.median(np.diff(np.sort(th % math.pi)))) if n > 1 else 0.0
    den = a - 2 * b + c
    shift = 0.5 * (a - c) / den if den < 0 else 0.0
    return _axial(th[i] + shift * step)


def _axial(angle):
    """An orientation folded into [0, pi) (rounding error just below pi counts as 0)."""
    a = float(angle) % math.pi
    return 0.0 if a > math.pi - 1e-9 else a


def circular_variance(orientations, rates, *, spontaneous=None) -> float:
    """``1 - |sum r exp(2 i theta)| / sum r`` (Ringach et al. 2002): 0 sharp, 1 untuned.

    A global measure: a flat baseline (spontaneous firing) raises it, so a
    narrower peak on the same baseline can give a *larger* value; pass
    ``spontaneous`` to measure the evoked part ``max(r - spontaneous, 0)``.

    Parameters
    ----------
    orientations : (n,) array_like
        Radians, evenly covering [0, pi) for a meaningful value.
    rates : (n,) array_like
        Responses, >= 0, not all zero.
    spontaneous : float, optional
        Baseline subtracted (and the result clipped at 0) first.
    """
    th, r = _curve(orientations, rates, "orientations", "rates")
    if spontaneous is not None:
        r = np.maximum(r - check_finite_float(spontaneous, "spontaneous"), 0.0)
    if r.min() < 0 or r.sum() <= 0:
        raise InputError("rates must be non-negative and not all zero", argument="rates")
    return float(1.0 - np.abs(np.sum(r * np.exp(2j * th))) / r.sum())


def orientation_bandwidth(orientations, rates, *, level=0.5, baseline=None) -> float:
    """Half-width at ``level`` height of the orientation tuning curve, radians.

    The curve (periodic in pi) is followed from its peak sample both ways to
    the first crossing of ``baseline + level * (peak - baseline)``, located by
    linear interpolation; the result is the mean of the two half-widths.

    Parameters
    ----------
    orientations : (n,) array_like
        Radians, evenly spaced over [0, pi) (sorted internally).
    rates : (n,) array_like
    level : float in (0, 1)
        0.5: half-width at half-height (``1/sqrt(2)`` as Ringach et al. 2002).
    baseline : float, optional
        Response counted as zero height; default the curve's minimum.

    Returns
    -------
    float
        Radians; NaN if the curve never falls to that level (untuned).
    """
    th, r = _curve(orientations, rates, "orientations", "rates")
    level = check_in_range(level, "level", 0.0, 1.0, inclusive=(False, False))
    order = np.argsort(th % math.pi)
    th, r = th[order] % math.pi, r[order]
    n = r.size
    base = float(r.min()) if baseline is None else check_finite_float(baseline, "baseline")
    i = int(np.argmax(r))
    target = base + level * (r[i] - base)
    if not r[i] > target:
        return float("nan")
    step = math.pi / n
    widths = []
    for direction in (1, -1):
        for m in range(1, n):
            j = (i + direction * m) % n
            if r[j] <= target:
                prev = r[(i + direction * (m - 1)) % n]
                frac = (prev - target) / (prev - r[j]) if prev != r[j] else 0.0
                widths.append((m - 1 + frac) * step)
                break
        else:
            return float("nan")
    return float(np.mean(widths))


def preferred_frequency(frequencies, rates) -> float:
    """Spatial frequency of the peak, refined by a parabola in log frequency.

    Parameters
    ----------
    frequencies : (n,) array_like
        > 0, increasing (e.g. log-spaced), any unit.
    rates : (n,) array_like

    Returns
    -------
    float
        Same unit as ``frequencies``.
    """
    f, r = _curve(frequencies, rates, "frequencies", "rates")
    if f.min() <= 0 or np.any(np.diff(f) <= 0):
        raise InputError("frequencies must be positive and increasing", argument="frequencies")
    return float(math.exp(_parabolic_peak(np.log(f), r)))


def _parabolic_peak(x, y):
    i = int(np.argmax(y))
    if i == 0 or i == y.size - 1:
        return float(x[i])
    (x0, x1, x2), (y0, y1, y2) = x[i - 1 : i + 2], y[i - 1 : i + 2]
    den = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / den
    b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / den
    return float(-b / (2 * a)) if a < 0 else float(x1)


def fourier_components(rates, dt, temporal_frequency) -> tuple[float, float]:
    """Mean (F0) and amplitude at the stimulus frequency (F1) of a response.

    Computed over the largest whole number of stimulus cycles from the start
    (the rest is ignored), so a response sampled over any duration is not
    biased by a partial cycle: ``F1 = 2 |mean(r exp(-2 pi i tf t))|``.

    Parameters
    ----------
    rates : (T,) array_like
        Rate (or PSTH) in spikes/s, sample ``k`` at ``t = k dt``.
    dt : float
        Sampling interval in seconds.
    temporal_frequency : float
        Hz, > 0; at least one full cycle must fit.

    Returns
    -------
    f0, f1 : float
        spikes/s.
    """
    r = as_float_array(rates, "rates", ndim=1, dtype=np.float64)
    dt = check_positive_float(dt, "dt")
    tf = check_positive_float(temporal_frequency, "temporal_frequency")
    per_cycle = 1.0 / (tf * dt)
    n_cycles = int(math.floor(r.size / per_cycle + 1e-6))
    if n_cycles < 1:
        raise InputError(
            f"rates must span at least one stimulus cycle ({per_cycle:.4g} samples at dt={dt}), got {r.size}",
            argument="rates",
        )
    n = int(round(n_cycles * per_cycle))
    r = r[:n]
    t = np.arange(n) * dt
    return float(r.mean()), float(2.0 * np.abs(np.mean(r * np.exp(-2j * math.pi * tf * t))))


def f1_f0(rates, dt, temporal_frequency, *, spontaneous=0.0) -> float:
    """Modulation ratio F1/F0 of the response to a drifting grating (Skottun et al. 1991).

    Simple cells (half-wave rectified, phase-sensitive) give F1/F0 > 1 (pi/2
    for a rectified sinusoid), complex cells < 1.

    Parameters
    ----------
    rates : (T,) array_like
        Rate in spikes/s sampled every ``dt``.
    dt : float
        Seconds.
    temporal_frequency : float
        The grating's temporal frequency, Hz.
    spontaneous : float
        Subtracted from F0 (the convention of many studies); default 0.

    Returns
    -------
    float
        ``inf`` if the (baseline-subtracted) F0 is not positive.
    """
    f0, f1 = fourier_components(rates, dt, temporal_frequency)
    f0 -= check_finite_float(spontaneous, "spontaneous")
    return float(f1 / f0) if f0 > 0 else math.inf


def optimal_size(sizes, rates) -> float:
    """Stimulus size (radius or length) of the largest response, parabola-refined."""
    s, r = _curve(sizes, rates, "sizes", "rates")
    return _parabolic_peak(s, r)


def surround_suppression_index(rates, *, spontaneous=0.0) -> float:
    """``(R_peak - R_largest) / (R_peak - spontaneous)`` of an area-summation curve.

    Parameters
    ----------
    rates : (n,) array_like
        Responses to stimuli of increasing size (last = largest).
    spontaneous : float
        Baseline subtracted from the peak in the denominator.

    Returns
    -------
    float
        0: no suppression; 1: the largest stimulus is back at baseline.
    """
    r = as_float_array(rates, "rates", ndim=1, dtype=np.float64)
    peak = float(r.max()) - check_finite_float(spontaneous, "spontaneous")
    if peak <= 0:
        raise InputError("rates must rise above spontaneous somewhere", argument="rates")
    return float((r.max() - r[-1]) / peak)


def end_stopping_index(rates, *, spontaneous=0.0) -> float:
    """``(R_max - R_longest) / (R_max - spontaneous)`` of a length-tuning curve.

    Parameters
    ----------
    rates : (n,) array_like
        Responses to bars of increasing length (last = longest).
    spontaneous : float
        Baseline subtracted from the peak in the denominator.

    Returns
    -------
    float
        About 0 for complex cells (length summation saturates), near 1 for
        strongly end-stopped (hypercomplex) cells.
    """
    return surround_suppression_index(rates, spontaneous=spontaneous)


def _spike_contrast(stimulus, counts, background):
    s = as_float_array(stimulus, "stimulus", ndim=3)
    n = as_array(counts, "counts", "biuf")
    n = n.sum(axis=0) if n.ndim == 2 else n
    if n.ndim != 1 or n.size != s.shape[0]:
        msg = f"counts must have shape ({s.shape[0]},) or (trials, {s.shape[0]}), got {np.shape(counts)}"
        raise InputError(msg, argument="counts")
    total = float(n.sum())
    if total <= 0:
        raise InputError("counts hold no spikes: the spike-triggered average is undefined", argument="counts")
    bg = check_in_range(background, "background", 0.0, 1.0, inclusive=(False, True))
    return (s.reshape(s.shape[0], -1).astype(np.float64) - bg) / bg, n.astype(np.float64), total


def spike_triggered_average(stimulus, counts, *, background=0.5, ridge=None) -> np.ndarray:
    """Spike-triggered average of the stimulus contrast (reverse correlation), optionally whitened.

    ``STA = sum_t n_t (C_t - mean C) / sum_t n_t`` with ``C = (L - background) / background``: for an LN(P)
    cell driven by white noise it is proportional to the linear receptive field [5]_. Correlated noise gives
    ``Sigma k`` (the field blurred by the noise covariance ``Sigma``); ``ridge`` undoes it:
    ``(Sigma + ridge * mean(diag Sigma) I)^-1 STA``, the ridge regression ``(S^T S + lambda I)^-1 S^T n``
    up to scale [6]_. Zero-lag: the model cells have no temporal filter.

    Parameters
    ----------
    stimulus : (T, H, W) array_like
        Noise frames (luminance).
    counts : (T,) or (trials, T) array_like
        Spike counts per frame (trials summed).
    background : float in (0, 1]
    ridge : float >= 0, optional (None: the plain STA; else relative to the mean pixel variance)

    Returns
    -------
    (H, W) ndarray of float64
    """
    c, n, total = _spike_contrast(stimulus, counts, background)
    sta = (n @ c) / total - c.mean(axis=0)
    if ridge is not None:
        lam = check_in_range(ridge, "ridge", 0.0, math.inf, inclusive=(True, False))
        cov = np.cov(c, rowvar=False).reshape(c.shape[1], c.shape[1])
        cov[np.diag_indices_from(cov)] += lam * float(np.trace(cov)) / c.shape[1] + 1e-12  # 1e-12: constant pixels
        sta = np.linalg.solve(cov, sta)
    return sta.reshape(np.shape(stimulus)[1:])


def spike_triggered_covariance(stimulus, counts, *, background=0.5, n_components=2):
    """Leading excitatory axes of the spike-triggered covariance (STC).

    ``dC = sum_t n_t (C_t - STA - m)(...)^T / sum_t n_t - Cov(C)`` (``m``: mean contrast); for an energy-model
    complex cell (STA ~ 0) the two leading eigenvectors span its quadrature pair of subunits [6]_.

    Parameters: ``stimulus``, ``counts``, ``background`` as :func:`spike_triggered_average`; ``n_components``
    (int >= 1). Returns ``(eigenvalues (k,), eigenvectors (k, H, W))`` float64, largest first, unit norm,
    arbitrary sign.
    """
    c, n, total = _spike_contrast(stimulus, counts, background)
    k = min(check_positive_int(n_components, "n_components"), c.shape[1])
    d = c - c.mean(axis=0)
    centred = d - (n @ d) / total  # about the spike-triggered mean
    dc = (centred * n[:, None]).T @ centred / total - d.T @ d / max(c.shape[0] - 1, 1)
    vals, vecs = np.linalg.eigh(dc)  # ascending
    return vals[::-1][:k], vecs[:, ::-1][:, :k].T.reshape((k,) + np.shape(stimulus)[1:])


def rf_correlation(a, b) -> float:
    """Pearson correlation of two receptive-field maps over their pixels."""
    x = as_float_array(a, "a", dtype=np.float64).ravel()
    y = as_float_array(b, "b", dtype=np.float64).ravel()
    if x.size != y.size:
        raise InputError(f"a and b must have the same size, got {x.size} and {y.size}", argument="b")
    x, y = x - x.mean(), y - y.mean()
    den = math.sqrt(float(x @ x) * float(y @ y))
    return float(x @ y / den) if den > 0 else float("nan")
