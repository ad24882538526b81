"""Private: shared protocol helpers and the grating and size protocols of :mod:`v1sim.physiology`."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from . import spikes as _spikes
from . import stimuli, tuning
from ._cellbase import _Cell
from ._core.validate import (
    as_float_array,
    check_allocation,
    check_choice,
    check_finite_float,
    check_int_pair,
    check_positive_float,
)
from .errors import InputError, InputTypeError

SPIKE_MODELS = ("poisson", "gamma")


class _Result:
    def to_dict(self) -> dict:
        """Fields as plain numpy arrays (for ``np.savez``; load with ``allow_pickle=False``); ``None`` as NaN."""
        return {f.name: np.asarray(_nan_if_none(getattr(self, f.name))) for f in fields(self)}


def _nan_if_none(value):
    return np.nan if value is None else value  # an object array would need pickle to load


# ------------------------------------------------------------------ helpers


def _check_cell(cell):
    if not isinstance(cell, _Cell):
        raise InputTypeError(
            f"cell must be a v1sim.cells cell (GanglionCell, SimpleCell, ...), got {type(cell).__name__}",
            argument="cell",
        )
    return cell


class _Units:
    """Conversions between the cell's units (px or deg) and pixels."""

    def __init__(self, cell):
        self.ppd = cell.ppd

    def px(self, v):
        return np.asarray(v, np.float64) * (1.0 if self.ppd is None else self.ppd)

    def user(self, px):
        return np.asarray(px, np.float64) / (1.0 if self.ppd is None else self.ppd)

    def cpp(self, f):
        return np.asarray(f, np.float64) / (1.0 if self.ppd is None else self.ppd)

    def user_f(self, cpp):
        return np.asarray(cpp, np.float64) * (1.0 if self.ppd is None else self.ppd)


def _values(values, name, default, positive=False):
    v = default if values is None else as_float_array(values, name, ndim=(0, 1), dtype=np.float64).ravel()
    if positive and np.any(v <= 0):
        raise InputError(f"{name} must all be positive (> 0), got a minimum of {v.min():.4g}", argument=name)
    return np.asarray(v, np.float64)


def _setup(cell, shape):
    cell = _check_cell(cell)
    shape = check_int_pair(shape, "shape")
    # every protocol draws (H, W) float64 frames and the cell's working copies of them
    check_allocation(shape, np.float64, "shape", copies=8, what=f"shape={shape!r} asks for {shape[0]} x {shape[1]} "
                     "frames")  # fmt: skip
    return cell, shape, _Units(cell), cell.center_in(shape)


def _freq(cell, u, frequency):
    if frequency is None:
        return min(cell._tuning[1], 0.5)
    f = float(u.cpp(check_positive_float(frequency, "frequency")))
    if f > 0.5:
        raise InputError(f"frequency must be at most the Nyquist limit 0.5 cycles/pixel, got {f:.4g} cycles/pixel",
                         argument="frequency")
    return f


def _theta(cell, theta):
    return cell.preferred_orientation if theta is None else check_finite_float(theta, "theta")


def _timing(temporal_frequency, duration, dt):
    """Validated (tf Hz, duration s, dt s) of a drifting-grating protocol."""
    return (check_positive_float(temporal_frequency, "temporal_frequency"),
            check_positive_float(duration, "duration"), check_positive_float(dt, "dt"))  # fmt: skip


def _drifting(cell, shape, center, f, theta, tf, duration, dt, contrast, **mask):
    movie = stimuli.drifting_grating(shape, f, tf, duration, dt=dt, theta=theta, contrast=contrast, center=center,
                                     background=cell.background, **mask)  # fmt: skip
    return cell.response(movie)


def _counts(rates, dt, n_trials, spike_model, rng, order, refractory):
    model = check_choice(spike_model, "spike_model", SPIKE_MODELS)
    if model == "poisson":
        return _spikes.poisson_counts(rates, dt, n_trials=n_trials, rng=rng)
    trains = _spikes.gamma_spikes(rates, dt, order=order, refractory=refractory, n_trials=n_trials, rng=rng)
    return _spikes.bin_counts(trains, rates.shape[-1] * dt, dt)



# ------------------------------------------------------------------ gratings


@dataclass(frozen=True)
class OrientationTuning(_Result):
    """Orientation tuning curve and its metrics.

    Attributes
    ----------
    stimulus : str
        "grating" (drifting) or "bar" (stationary light/dark bar).
    orientations, orientations_deg : (n,) ndarray
    rates : (n,) ndarray
        Mean rate (F0) per orientation, spikes/s.
    f1 : (n,) ndarray
        Amplitude at the temporal frequency (zeros for bars).
    spontaneous : float
    preferred, preferred_deg : float or None
        Vector-average preferred orientation; None for a flat curve (see
        :func:`v1sim.tuning.is_tuned`), which prefers nothing.
    circular_variance : float
        1.0 for an all-zero curve.
    bandwidth, bandwidth_deg : float or None
        Half-width at half-height above the curve's minimum; None for a flat curve.
    """

    stimulus: str
    orientations: np.ndarray
    orientations_deg: np.ndarray
    rates: np.ndarray
    f1: np.ndarray
    spontaneous: float
    preferred: float | None
    preferred_deg: float | None
    circular_variance: float
    bandwidth: float | None
    bandwidth_deg: float | None


def orientation_tuning(cell, shape, *, orientations=None, stimulus="grating", frequency=None,
                       temporal_frequency=4.0, duration=0.5, dt=0.01, contrast=1.0, length=None, width=None,
                       polarity="light"):
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
    cell, shape, u, center = _setup(cell, shape)
    stimulus = check_choice(stimulus, "stimulus", ("grating", "bar"))
    th = _values(orientations, "orientations", np.arange(16) * math.pi / 16)
    rates, f1 = np.empty(th.size), np.zeros(th.size)
    tf, duration, dt = _timing(temporal_frequency, duration, dt)
    if stimulus == "grating":
        f = _freq(cell, u, frequency)
        for i, t in enumerate(th):
            r = _drifting(cell, shape, center, f, t, tf, duration, dt, contrast)
            rates[i], f1[i] = tuning.fourier_components(r, dt, tf)
    else:
        ln = 4.0 * cell.rf_radius if length is None else float(u.px(check_positive_float(length, "length")))
        wd = 0.5 / cell._tuning[1] if width is None else float(u.px(check_positive_float(width, "width")))
        bars = [stimuli.bar(shape, ln, wd, theta=t, center=center, polarity=polarity, contrast=contrast,
                            background=cell.background) for t in th]  # fmt: skip
        rates = cell.response(np.stack(bars))
    cv = tuning.circular_variance(th, rates) if rates.sum() > 0 else 1.0
    if not tuning.is_tuned(rates):  # the vector average of a flat curve is noise, its half-width undefined
        return OrientationTuning(stimulus, th, np.degrees(th), rates, f1, cell.spontaneous_rate, None, None, cv, None,
                                 None)  # fmt: skip
    pref = tuning.preferred_orientation(th, rates)
    bw = tuning.orientation_bandwidth(th, rates)
    return OrientationTuning(stimulus, th, np.degrees(th), rates, f1, cell.spontaneous_rate, pref, math.degrees(pref),
                             cv, bw, math.degrees(bw))  # fmt: skip


@dataclass(frozen=True)
class FrequencyTuning(_Result):
    """Spatial-frequency tuning: ``frequencies`` (cycles/pixel or cycles/degree), mean
    ``rates`` and ``f1`` (spikes/s), ``spontaneous`` and the ``preferred`` frequency
    (None for a flat curve, see :func:`v1sim.tuning.is_tuned`)."""

    frequencies: np.ndarray
    rates: np.ndarray
    f1: np.ndarray
    spontaneous: float
    preferred: float | None


def spatial_frequency_tuning(cell, shape, *, frequencies=None, theta=None, temporal_frequency=4.0, duration=0.5,
                             dt=0.01, contrast=1.0):
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
    cell, shape, u, center = _setup(cell, shape)
    f0 = cell._tuning[1]
    default = u.user_f(np.geomspace(f0 / 8.0, min(4.0 * f0, 0.5), 15))
    fs = _values(frequencies, "frequencies", default, positive=True)
    th = _theta(cell, theta)
    tf, duration, dt = _timing(temporal_frequency, duration, dt)
    rates, f1 = np.empty(fs.size), np.empty(fs.size)
    for i, f in enumerate(fs):
        r = _drifting(cell, shape, center, _freq(cell, u, f), th, tf, duration, dt, contrast)
        rates[i], f1[i] = tuning.fourier_components(r, dt, tf)
    if not tuning.is_tuned(rates):
        pref = None
    elif np.all(np.diff(fs) > 0):
        pref = tuning.preferred_frequency(fs, rates)
    else:
        pref = float(fs[np.argmax(rates)])
    return FrequencyTuning(fs, rates, f1, cell.spontaneous_rate, pref)


@dataclass(frozen=True)
class PhaseTuning(_Result):
    """Responses to stationary gratings over spatial ``phases`` (radians, and ``phases_deg``)."""

    phases: np.ndarray
    phases_deg: np.ndarray
    rates: np.ndarray
    spontaneous: float


def phase_tuning(cell, shape, *, phases=None, frequency=None, theta=None, contrast=1.0):
    """Stationary gratings at the preferred orientation and frequency, over spatial phase.

    Simple cells respond to some phases only; complex cells to all alike.
    Phase 0 puts a bright crest on the receptive-field centre.

    Returns
    -------
    PhaseTuning
    """
    cell, shape, u, center = _setup(cell, shape)
    ph = _values(phases, "phases", np.arange(16) * 2 * math.pi / 16)
    f, th = _freq(cell, u, frequency), _theta(cell, theta)
    frames = [stimuli.grating(shape, f, theta=th, phase=p, contrast=contrast, center=center,
                              background=cell.background) for p in ph]  # fmt: skip
    return PhaseTuning(ph, np.degrees(ph), cell.response(np.stack(frames)), cell.spontaneous_rate)


@dataclass(frozen=True)
class GratingResponse(_Result):
    """Response to one drifting grating.

    Attributes
    ----------
    time, rates : (T,) ndarray
        Seconds; spikes/s.
    f0, f1, f1_f0 : float
        Mean, amplitude at ``temporal_frequency`` and their ratio
        (spontaneous not subtracted).
    frequency, theta, temporal_frequency : float
    """

    time: np.ndarray
    rates: np.ndarray
    f0: float
    f1: float
    f1_f0: float
    frequency: float
    theta: float
    temporal_frequency: float


def grating_response(cell, shape, *, frequency=None, theta=None, temporal_frequency=4.0, duration=1.0, dt=0.01,
                     contrast=1.0, mask=None, mask_radius=None):
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
    cell, shape, u, center = _setup(cell, shape)
    f, th = _freq(cell, u, frequency), _theta(cell, theta)
    tf, duration, dt = _timing(temporal_frequency, duration, dt)
    radius = None if mask_radius is None else float(u.px(check_positive_float(mask_radius, "mask_radius")))
    r = _drifting(cell, shape, center, f, th, tf, duration, dt, contrast, mask=mask, mask_radius=radius)
    f0, f1 = tuning.fourier_components(r, dt, tf)
    ratio = f1 / f0 if f0 > 0 else math.inf
    return GratingResponse(np.arange(r.size) * dt, r, f0, f1, ratio, float(u.user_f(f)), th, tf)


# ------------------------------------------------------------------ size: length and area summation


@dataclass(frozen=True)
class LengthTuning(_Result):
    """Rates to bars of increasing ``lengths``; ``end_stopping_index`` (spontaneous
    subtracted in the denominator) and ``optimal_length``."""

    lengths: np.ndarray
    rates: np.ndarray
    spontaneous: float
    end_stopping_index: float
    optimal_length: float


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
    cell, shape, u, center = _setup(cell, shape)
    default = u.user(np.geomspace(1.0, math.hypot(*shape), 24))
    ls = u.px(_values(lengths, "lengths", default, positive=True))
    wd = 0.5 / cell._tuning[1] if width is None else float(u.px(check_positive_float(width, "width")))
    th = _theta(cell, theta)
    bars = [stimuli.bar(shape, ln, wd, theta=th, center=center, polarity=polarity, contrast=contrast,
                        background=cell.background) for ln in ls]  # fmt: skip
    rates = cell.response(np.stack(bars))
    spont = cell.spontaneous_rate
    esi = tuning.end_stopping_index(rates, spontaneous=spont) if rates.max() > spont else 0.0
    return LengthTuning(u.user(ls), rates, spont, esi, float(u.user(tuning.optimal_size(ls, rates))))


@dataclass(frozen=True)
class AreaSummation(_Result):
    """Rates to spots or grating patches of increasing ``radii``; ``suppression_index``
    (spontaneous subtracted in the denominator) and ``optimal_radius``."""

    stimulus: str
    radii: np.ndarray
    rates: np.ndarray
    spontaneous: float
    suppression_index: float
    optimal_radius: float


def area_summation(cell, shape, *, radii=None, stimulus="grating", polarity="light", contrast=1.0, frequency=None,
                   theta=None, temporal_frequency=4.0, duration=0.25, dt=0.01):
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
    cell, shape, u, center = _setup(cell, shape)
    stimulus = check_choice(stimulus, "stimulus", ("grating", "spot"))
    rs = u.px(_values(radii, "radii", u.user(np.linspace(0.5, min(shape) / 2.0, 32)), positive=True))
    tf, duration, dt = _timing(temporal_frequency, duration, dt)
    if stimulus == "spot":
        spots = [stimuli.spot(shape, r, center=center, polarity=polarity, contrast=contrast,
                              background=cell.background) for r in rs]  # fmt: skip
        rates = cell.response(np.stack(spots))
    else:
        f, th = _freq(cell, u, frequency), _theta(cell, theta)
        rates = np.array([_drifting(cell, shape, center, f, th, tf, duration, dt, contrast, mask="circle",
                                    mask_radius=r).mean() for r in rs])  # fmt: skip
    spont = cell.spontaneous_rate
    si = tuning.surround_suppression_index(rates, spontaneous=spont) if rates.max() > spont else 0.0
    return AreaSummation(stimulus, u.user(rs), rates, spont, si, float(u.user(tuning.optimal_size(rs, rates))))
