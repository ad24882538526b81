"""The grating and size protocols: orientation, spatial frequency, phase, F1/F0, length and area summation."""

from __future__ import annotations

import math

import numpy as np

from .. import stimuli, tuning
from .._core.validate import check_choice, check_positive_float
from .common import (
    drifting_response,
    float_values,
    grating_frequency,
    orientation,
    preferred_cpp,
    setup,
    timing,
)
from .results import (
    AreaSummation,
    FrequencyTuning,
    GratingResponse,
    LengthTuning,
    OrientationTuning,
    PhaseTuning,
)

__all__ = [
    "area_summation",
    "grating_response",
    "length_tuning",
    "orientation_tuning",
    "phase_tuning",
    "spatial_frequency_tuning",
]


# ------------------------------------------------------------------ gratings


def orientation_tuning(
    cell,
    shape,
    *,
    orientations=None,
    stimulus="grating",
    frequency=None,
    temporal_frequency=4.0,
    duration=0.5,
    dt=0.01,
    contrast=1.0,
    length=None,
    width=None,
    polarity="light",
):
    """Responses to drifting gratings (or stationary bars) over orientation.

    Parameters
    ----------
    cell : a v1sim.cells cell
    shape : int or (H, W)
    orientations : (n,) array_like, optional
        Radians; default 16 evenly over [0, pi).
    stimulus : {"grating", "bar"}
    frequency : float, optional
        Grating spatial frequency; default the cell's preferred one.
    temporal_frequency, duration, dt : float
        Hz and seconds (gratings drift along their normal).
    contrast : float in [0, 1]
    length, width : float, optional
        Bar size; default four rf radii long and half a preferred period wide.
    polarity : {"light", "dark"}
        Bar polarity.

    Returns
    -------
    OrientationTuning
    """
    cell, shape, u, center = setup(cell, shape)
    stimulus = check_choice(stimulus, "stimulus", ("grating", "bar"))
    th = float_values(orientations, "orientations", np.arange(16) * math.pi / 16)
    rates, f1 = np.empty(th.size), np.zeros(th.size)
    tf, duration, dt = timing(temporal_frequency, duration, dt)
    if stimulus == "grating":
        f = grating_frequency(cell, u, frequency)
        for i, t in enumerate(th):
            r = drifting_response(cell, shape, center, f, t, tf, duration, dt, contrast)
            rates[i], f1[i] = tuning.fourier_components(r, dt, tf)
    else:
        ln = 4.0 * cell.rf_radius if length is None else float(u.px(check_positive_float(length, "length")))
        wd = 0.5 / preferred_cpp(cell) if width is None else float(u.px(check_positive_float(width, "width")))
        bars = [
            stimuli.bar(
                shape, ln, wd, theta=t, center=center, polarity=polarity, contrast=contrast, background=cell.background
            )
            for t in th
        ]
        rates = cell.response(np.stack(bars))
    cv = tuning.circular_variance(th, rates) if rates.sum() > 0 else 1.0
    if not tuning.is_tuned(rates):  # the vector average of a flat curve is noise, its half-width undefined
        return OrientationTuning(
            stimulus, th, np.degrees(th), rates, f1, cell.spontaneous_rate, None, None, cv, None, None
        )
    pref = tuning.preferred_orientation(th, rates)
    bw = tuning.orientation_bandwidth(th, rates)
    return OrientationTuning(
        stimulus,
        th,
        np.degrees(th),
        rates,
        f1,
        cell.spontaneous_rate,
        pref,
        math.degrees(pref),
        cv,
        bw,
        math.degrees(bw),
    )


def spatial_frequency_tuning(
    cell, shape, *, frequencies=None, theta=None, temporal_frequency=4.0, duration=0.5, dt=0.01, contrast=1.0
):
    """Responses to drifting gratings over spatial frequency at the preferred orientation.

    Parameters
    ----------
    frequencies : (n,) array_like, optional
        Cycles/pixel (cycles/degree with the cell's ``ppd``); default 15
        log-spaced from 1/8 to 4 times the preferred frequency (at most 0.5 c/px).
    theta, temporal_frequency, duration, dt, contrast
        As :func:`orientation_tuning`.

    Returns
    -------
    FrequencyTuning
    """
    cell, shape, u, center = setup(cell, shape)
    f0 = preferred_cpp(cell)
    default = u.user_f(np.geomspace(f0 / 8.0, min(4.0 * f0, 0.5), 15))
    fs = float_values(frequencies, "frequencies", default, positive=True)
    th = orientation(cell, theta)
    tf, duration, dt = timing(temporal_frequency, duration, dt)
    rates, f1 = np.empty(fs.size), np.empty(fs.size)
    for i, f in enumerate(fs):
        r = drifting_response(cell, shape, center, grating_frequency(cell, u, f), th, tf, duration, dt, contrast)
        rates[i], f1[i] = tuning.fourier_components(r, dt, tf)
    if not tuning.is_tuned(rates):
        pref = None
    elif np.all(np.diff(fs) > 0):
        pref = tuning.preferred_frequency(fs, rates)
    else:
        pref = float(fs[np.argmax(rates)])
    return FrequencyTuning(fs, rates, f1, cell.spontaneous_rate, pref)


def phase_tuning(cell, shape, *, phases=None, frequency=None, theta=None, contrast=1.0):
    """Stationary gratings at the preferred orientation and frequency, over spatial phase.

    Simple cells respond to some phases only; complex cells to all alike.
    Phase 0 puts a bright crest on the receptive-field centre.

    Returns
    -------
    PhaseTuning
    """
    cell, shape, u, center = setup(cell, shape)
    ph = float_values(phases, "phases", np.arange(16) * 2 * math.pi / 16)
    f, th = grating_frequency(cell, u, frequency), orientation(cell, theta)
    frames = [
        stimuli.grating(shape, f, theta=th, phase=p, contrast=contrast, center=center, background=cell.background)
        for p in ph
    ]
    return PhaseTuning(ph, np.degrees(ph), cell.response(np.stack(frames)), cell.spontaneous_rate)


def grating_response(
    cell,
    shape,
    *,
    frequency=None,
    theta=None,
    temporal_frequency=4.0,
    duration=1.0,
    dt=0.01,
    contrast=1.0,
    mask=None,
    mask_radius=None,
):
    """Response to a drifting grating at (by default) the preferred orientation and frequency.

    Parameters
    ----------
    frequency, theta : float, optional
        Default the cell's preferred values.
    temporal_frequency, duration, dt : float
        Hz, seconds, seconds.
    contrast : float in [0, 1]
    mask, mask_radius
        Aperture, as :func:`v1sim.stimuli.drifting_grating` (radius in the cell's units).

    Returns
    -------
    GratingResponse
    """
    cell, shape, u, center = setup(cell, shape)
    f, th = grating_frequency(cell, u, frequency), orientation(cell, theta)
    tf, duration, dt = timing(temporal_frequency, duration, dt)
    radius = None if mask_radius is None else float(u.px(check_positive_float(mask_radius, "mask_radius")))
    r = drifting_response(cell, shape, center, f, th, tf, duration, dt, contrast, mask=mask, mask_radius=radius)
    f0, f1 = tuning.fourier_components(r, dt, tf)
    ratio = f1 / f0 if f0 > 0 else math.inf
    return GratingResponse(np.arange(r.size) * dt, r, f0, f1, ratio, float(u.user_f(f)), th, tf)


# ------------------------------------------------------------------ size: length and area summation


def length_tuning(cell, shape, *, lengths=None, width=None, theta=None, polarity="light", contrast=1.0):
    """Bars of growing length at the preferred orientation, centred on the field.

    Parameters
    ----------
    lengths : (n,) array_like, optional
        Increasing; default 24 from 1 px to the image diagonal.
    width : float, optional
        Default half a preferred period.
    theta : float, optional
        Default the preferred orientation.
    polarity : {"light", "dark"}
    contrast : float in [0, 1]

    Returns
    -------
    LengthTuning
    """
    cell, shape, u, center = setup(cell, shape)
    default = u.user(np.geomspace(1.0, math.hypot(*shape), 24))
    ls = u.px(float_values(lengths, "lengths", default, positive=True))
    wd = 0.5 / preferred_cpp(cell) if width is None else float(u.px(check_positive_float(width, "width")))
    th = orientation(cell, theta)
    bars = [
        stimuli.bar(
            shape, ln, wd, theta=th, center=center, polarity=polarity, contrast=contrast, background=cell.background
        )
        for ln in ls
    ]
    rates = cell.response(np.stack(bars))
    spont = cell.spontaneous_rate
    esi = tuning.end_stopping_index(rates, spontaneous=spont) if rates.max() > spont else 0.0
    return LengthTuning(u.user(ls), rates, spont, esi, float(u.user(tuning.optimal_size(ls, rates))))


def area_summation(
    cell,
    shape,
    *,
    radii=None,
    stimulus="grating",
    polarity="light",
    contrast=1.0,
    frequency=None,
    theta=None,
    temporal_frequency=4.0,
    duration=0.25,
    dt=0.01,
):
    """Drifting grating patches ("grating", as Cavanaugh et al. 2002) or spots ("spot") of growing radius.

    Gratings are the default: a large uniform spot gives any DC-free (Gabor)
    field no drive at all, so spots would report a suppression index of 1.0
    for every simple or complex cell, surround or not. Spots suit ganglion
    cells (Kuffler's centre-surround measurements).

    Parameters
    ----------
    radii : (n,) array_like, optional
        Increasing; default 32 from 0.5 px to half the image's smaller side.
    stimulus : {"grating", "spot"}
        Grating patches drift at the preferred orientation and frequency
        (mean rate over the movie); spots are stationary (``polarity``).
    polarity, contrast, frequency, theta, temporal_frequency, duration, dt
        As the other protocols.

    Returns
    -------
    AreaSummation

    References
    ----------
    .. [1] Cavanaugh JR, Bair W, Movshon JA (2002). Nature and interaction of
       signals from the receptive field center and surround in macaque V1
       neurons. J Neurophysiol 88:2530-2546.
    """
    cell, shape, u, center = setup(cell, shape)
    stimulus = check_choice(stimulus, "stimulus", ("grating", "spot"))
    rs = u.px(float_values(radii, "radii", u.user(np.linspace(0.5, min(shape) / 2.0, 32)), positive=True))
    tf, duration, dt = timing(temporal_frequency, duration, dt)
    if stimulus == "spot":
        spots = [
            stimuli.spot(shape, r, center=center, polarity=polarity, contrast=contrast, background=cell.background)
            for r in rs
        ]
        rates = cell.response(np.stack(spots))
    else:
        f, th = grating_frequency(cell, u, frequency), orientation(cell, theta)
        rates = np.array(
            [
                drifting_response(
                    cell, shape, center, f, th, tf, duration, dt, contrast, mask="circle", mask_radius=r
                ).mean()
                for r in rs
            ]
        )
    spont = cell.spontaneous_rate
    si = tuning.surround_suppression_index(rates, spontaneous=spont) if rates.max() > spont else 0.0
    return AreaSummation(stimulus, u.user(rs), rates, spont, si, float(u.user(tuning.optimal_size(rs, rates))))
