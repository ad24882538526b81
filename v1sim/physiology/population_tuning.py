"""Marques et al.'s (2021) tuning-curve estimators, vectorised over a population's units.

Each function takes curves as (n_units, n) arrays and returns a dict of (n_units,) arrays, NaN where a
unit's curve does not define the property. The smoothing windows and thresholds are those of Brain-Score's
``benchmark_helpers/properties_common.py`` (Marques et al.'s code), so that model units are measured as the
macaque data they are compared with; each function says where it departs.

References
----------
.. [1] Marques T, Schrimpf M, DiCarlo JJ (2021). Multi-scale hierarchical neural network models that bridge
   from single neurons in the primate primary visual cortex to object recognition behavior. bioRxiv.
.. [2] Ringach DL, Shapley RM, Hawken MJ (2002). Orientation selectivity in macaque V1: diversity and laminar
   dependence. J Neurosci 22:5639-5651.
.. [3] De Valois RL, Yund EW, Hepler N (1982). The orientation and direction selectivity of cells in macaque
   visual cortex. Vision Res 22:531-544.
.. [4] De Valois RL, Albrecht DG, Thorell LG (1982). Spatial frequency selectivity of cells in macaque visual
   cortex. Vision Res 22:545-559.
.. [5] Schiller PH, Finlay BL, Volman SF (1976). Quantitative studies of single-cell properties in monkey
   striate cortex. III. Spatial frequency. J Neurophysiol 39:1334-1351.
.. [6] Cavanaugh JR, Bair W, Movshon JA (2002). Nature and interaction of signals from the receptive field
   center and surround in macaque V1 neurons. J Neurophysiol 88:2530-2546.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline

__all__ = ["orientation_properties", "size_properties", "spatial_frequency_properties"]

#: Marques's 5-tap windows (zero end taps dropped): "smooth" for peaks, "hanning" for the orientation bandwidth
SMOOTH = np.array([0.2, 1.0, 0.2]) / 1.4
HANNING = np.array([0.4, 1.0, 0.4]) / 1.8
#: the 1/sqrt(2) height at which Ringach's orientation and Schiller's SF bandwidths are read (Marques: 0.707)
HALF_POWER = 1.0 / np.sqrt(2.0)
#: Marques: a unit is surround suppressed when SSI > 0.1 (GSF and surround are defined only then), "strongly" at >= 0.1
SUPPRESSION_THRESHOLD = 0.1
ORIENTATION_STEP = 0.25  # degrees between points of the interpolated orientation curve
SF_POINTS = 200  # points of the interpolated log2-SF curve (Marques: 100)


def _periodic_spline(curves, ori, window):
    """Circularly smoothed curves through a periodic cubic spline, on a fine grid over [0, 180) degrees."""
    smooth = sum(w * np.roll(curves, k, axis=1) for k, w in zip((1, 0, -1), window, strict=True))
    x = np.append(ori, 180.0)
    spline = CubicSpline(x, np.concatenate([smooth, smooth[:, :1]], axis=1), axis=1, bc_type="periodic")
    fine = np.arange(0.0, 180.0, ORIENTATION_STEP)
    return fine, spline(fine)


def _first_below(values, start, threshold, step):
    """Distance (grid units times ``step``) from ``start`` to where ``values`` (n_units, m) first falls to
    ``threshold``, walking right along axis 1 from column ``start``; the crossing is linearly interpolated.
    NaN where it never does."""
    m = values.shape[1]
    rows = np.arange(values.shape[0])[:, None]
    ahead = values[rows, np.minimum(start[:, None] + np.arange(m), m - 1)]
    inside = start[:, None] + np.arange(m) < m
    below = (ahead <= threshold[:, None]) & inside
    below[:, 0] = False
    found = below.any(axis=1)
    k = np.where(found, below.argmax(axis=1), 1)
    hi, lo = ahead[rows[:, 0], k - 1], ahead[rows[:, 0], k]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(hi > lo, (hi - threshold) / (hi - lo), 1.0)
    return np.where(found, (k - 1 + frac) * step, np.nan)


def orientation_properties(curves, ori) -> dict:
    """Preferred orientation, circular variance, orientation bandwidth and orthogonal/preferred ratio.

    Parameters
    ----------
    curves : (n_units, n_ori) ndarray
        Mean (F0) firing rates at the preferred spatial frequency, >= 0.
    ori : (n_ori,) ndarray
        Orientations in degrees, evenly spaced over [0, 180), an even number of them.

    Returns
    -------
    dict of (n_units,) float64 arrays
        ``preferred_orientation`` (degrees in [0, 180): the peak of the "smooth"-filtered periodic spline,
        as De Valois et al. 1982 via Marques), ``circular_variance`` (1 - |sum r exp(2i theta)| / sum r, on
        the raw curve, Ringach 2002), ``orientation_bandwidth`` (half width at 1/sqrt(2) of the peak of the
        "hanning"-filtered spline, degrees; NaN when the full width exceeds 180, Ringach 2002 via Marques),
        ``orthogonal_preferred_ratio`` (raw rate 90 degrees from the best sampled orientation over the rate
        there). Marques tile three periods under a not-a-knot spline; a periodic spline is the same curve
        without edge effects, and the crossings are interpolated rather than read off a 1-degree grid.
    """
    n_units, n = curves.shape
    rows = np.arange(n_units)
    fine, pref_curve = _periodic_spline(curves, ori, SMOOTH)
    preferred = fine[pref_curve.argmax(axis=1)]

    _, bw_curve = _periodic_spline(curves, ori, HANNING)
    peak = bw_curve.argmax(axis=1)
    threshold = HALF_POWER * bw_curve[rows, peak]
    m = fine.size
    doubled = np.concatenate([bw_curve, bw_curve], axis=1)  # the walk may wrap once around the period
    right = _first_below(doubled, peak, threshold, ORIENTATION_STEP)
    left = _first_below(doubled[:, ::-1], (2 * m - 1) - (peak + m), threshold, ORIENTATION_STEP)
    full = right + left
    bandwidth = np.where(full <= 180.0, full / 2.0, np.nan)

    with np.errstate(invalid="ignore", divide="ignore"):
        total = curves.sum(axis=1)
        cv = 1.0 - np.abs(curves @ np.exp(2j * np.deg2rad(ori))) / total
        best = curves.argmax(axis=1)
        opr = curves[rows, (best + n // 2) % n] / curves[rows, best]
    return {
        "preferred_orientation": preferred,
        "circular_variance": np.where(total > 0, cv, np.nan),
        "orientation_bandwidth": bandwidth,
        "orthogonal_preferred_ratio": opr,
    }


def spatial_frequency_properties(curves, sf) -> dict:
    """Peak spatial frequency and bandwidth in octaves from SF tuning curves (Marques after Schiller 1976).

    The curves are smoothed by the "smooth" window over log2 SF (ends padded by repetition) and
    interpolated by a not-a-knot cubic spline on a fine log2 grid between the lowest and highest SF tested.

    Parameters
    ----------
    curves : (n_units, n_sf) ndarray
        Responses at the preferred orientation.
    sf : (n_sf,) ndarray
        Cycles/degree, increasing.

    Returns
    -------
    dict of (n_units,) float64 arrays
        ``peak_spatial_frequency`` (cpd, the spline's peak), ``spatial_frequency_bandwidth`` (octaves,
        log2 of the ratio of the frequencies where the spline falls to 1/sqrt(2) of its peak on either
        side; NaN when it does not fall that far within the tested range on both sides) and
        ``spatial_frequency_selective`` (1 where the bandwidth is defined, else 0: Marques's rule).
        Marques give the bandwidth on Schiller's scale, 100 * f_low / f_high; it is
        ``100 * 2**-octaves``.
    """
    logf = np.log2(sf)
    padded = np.concatenate([curves[:, :1], curves, curves[:, -1:]], axis=1)
    smooth = sum(w * padded[:, k : k + sf.size] for k, w in enumerate(SMOOTH))
    fine = np.linspace(logf[0], logf[-1], SF_POINTS)
    values = CubicSpline(logf, smooth, axis=1)(fine)
    peak = values.argmax(axis=1)
    threshold = HALF_POWER * values[np.arange(values.shape[0]), peak]
    step = fine[1] - fine[0]
    right = _first_below(values, peak, threshold, step)
    left = _first_below(values[:, ::-1], SF_POINTS - 1 - peak, threshold, step)
    octaves = right + left
    return {
        "peak_spatial_frequency": 2.0 ** fine[peak],
        "spatial_frequency_bandwidth": octaves,
        "spatial_frequency_selective": np.isfinite(octaves).astype(np.float64),
    }


def size_properties(curves, diameters) -> dict:
    """Area-summation properties (Cavanaugh et al. 2002 as Marques et al. measure them).

    Parameters
    ----------
    curves : (n_units, n_diameters) ndarray
        Evoked responses to centred patches of growing diameter (may be negative below baseline).
    diameters : (n_diameters,) ndarray
        Degrees, increasing.

    Returns
    -------
    dict of (n_units,) float64 arrays
        ``surround_suppression_index`` ((peak - response at the largest patch) / peak),
        ``strongly_suppressed`` (1 where SSI >= 0.1, Marques's threshold), and, only for units with
        SSI > 0.1 (else NaN, as Marques): ``grating_summation_field`` (the smallest diameter reaching 95%
        of the peak), ``surround_diameter`` (the smallest diameter beyond the peak whose response is
        within 5% of the plateau, the response at the largest patch) and their ratio
        ``surround_grating_summation_field_ratio``. Sizes are read off the tested diameters, not
        interpolated, as Marques.
    """
    n = diameters.size
    peak = curves.max(axis=1)
    pref = curves.argmax(axis=1)
    plateau = curves[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        ssi = np.where(peak > 0, (peak - plateau) / peak, np.nan)
    suppressed = (peak > 0) & (ssi > SUPPRESSION_THRESHOLD)
    gsf = diameters[(curves >= 0.95 * peak[:, None]).argmax(axis=1)]
    beyond = (curves <= (plateau + 0.05 * np.abs(plateau))[:, None]) & (np.arange(n) > pref[:, None])
    surround = diameters[np.where(beyond.any(axis=1), beyond.argmax(axis=1), n - 1)]
    return {
        "grating_summation_field": np.where(suppressed, gsf, np.nan),
        "surround_diameter": np.where(suppressed, surround, np.nan),
        "surround_grating_summation_field_ratio": np.where(suppressed, surround / gsf, np.nan),
        "surround_suppression_index": ssi,
        "strongly_suppressed": np.where(np.isfinite(ssi), (ssi >= SUPPRESSION_THRESHOLD).astype(np.float64), np.nan),
    }
