"""Virtual electrophysiology: the classic protocols, run on a model cell.

Each protocol takes a cell from :mod:`v1sim.cells` and the image ``shape``
(pixels), builds its stimuli with :mod:`v1sim.stimuli` centred on the cell's
receptive field, and returns a frozen dataclass of arrays (and the metrics of
:mod:`v1sim.tuning` computed from them). Rates are the LN model's expected
firing rates in spikes/s; :func:`record` and the ``n_trials`` options add
Poisson or gamma spike trains (:mod:`v1sim.spikes`).

Units follow the cell: pixels and cycles/pixel, or degrees and cycles/degree
when the cell was built with ``ppd``. Angles in radians (``*_deg`` fields in
degrees), time in seconds, rates in spikes/s.

=============================  ===========================================
protocol                       what it measures
=============================  ===========================================
:func:`center_surround`        spot on the centre, spot on the surround,
                               annulus, full field (the lecture's slides)
:func:`sweep`                  light/dark bars and edges across the field
:func:`orientation_tuning`     drifting gratings or bars over orientation
:func:`spatial_frequency_tuning`  drifting gratings over spatial frequency
:func:`phase_tuning`           stationary gratings over spatial phase
:func:`grating_response`       one drifting grating: F0, F1, F1/F0
:func:`length_tuning`          bars of growing length: end-stopping
:func:`area_summation`         grating patches (default) or spots of growing
                               radius: surround suppression
:func:`reverse_correlation`    white noise: spike-triggered average
=============================  ===========================================

``PROTOCOLS`` maps these names to the functions; :func:`run_protocol` runs one
by name (for the command line).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import spikes as _spikes
from . import stimuli, tuning
from ._protocols import (
    SPIKE_MODELS,
    AreaSummation,
    FrequencyTuning,
    GratingResponse,
    LengthTuning,
    OrientationTuning,
    PhaseTuning,
    _check_cell,
    _counts,
    _Result,
    _setup,
    _theta,
    _values,
    area_summation,
    grating_response,
    length_tuning,
    orientation_tuning,
    phase_tuning,
    spatial_frequency_tuning,
)
from ._core.validate import (
    as_float_array,
    check_choice,
    check_nonnegative_int,
    check_positive_float,
    check_positive_int,
    check_rng,
)
from .errors import InputError

__all__ = [
    "PROTOCOLS",
    "SPIKE_MODELS",
    "AreaSummation",
    "CenterSurround",
    "FrequencyTuning",
    "GratingResponse",
    "LengthTuning",
    "OrientationTuning",
    "PhaseTuning",
    "Recording",
    "ReverseCorrelation",
    "Sweep",
    "area_summation",
    "center_surround",
    "grating_response",
    "length_tuning",
    "orientation_tuning",
    "phase_tuning",
    "record",
    "reverse_correlation",
    "run_protocol",
    "spatial_frequency_tuning",
    "sweep",
]

# ------------------------------------------------------------------ recording


@dataclass(frozen=True)
class Recording(_Result):
    """Spike trains recorded from a cell during a movie.

    Attributes
    ----------
    time : (T,) ndarray
        Frame times, seconds (bin ``k`` covers ``[k dt, (k + 1) dt)``).
    rate : (T,) ndarray
        The model's rate in spikes/s.
    counts : (n_trials, T) ndarray of int64
        Spikes per bin and trial.
    dt : float
        Seconds.
    """

    time: np.ndarray
    rate: np.ndarray
    counts: np.ndarray
    dt: float

    @property
    def raster(self) -> np.ndarray:
        """Boolean (n_trials, T) raster (bins with >= 1 spike)."""
        return self.counts > 0

    @property
    def mean_rate(self) -> float:
        """Measured mean rate over trials and time, spikes/s."""
        return float(self.counts.sum() / (self.counts.shape[0] * self.counts.shape[1] * self.dt))

    def psth(self, bin_width):
        """(centres, rate) of the peri-stimulus time histogram, bin_width seconds (a multiple of dt)."""
        edges, rate = _spikes.count_psth(self.counts, self.dt, bin_width)
        return 0.5 * (edges[:-1] + edges[1:]), rate


def record(cell, stimulus, dt, *, n_trials=10, spike_model="poisson", order=2.0, refractory=0.002, rng=None):
    """Record a cell's spikes to a movie (linear-nonlinear-Poisson or -gamma).

    Parameters
    ----------
    cell : a v1sim.cells cell
    stimulus : (T, H, W) array_like
        Movie, frame ``k`` shown during ``[k dt, (k + 1) dt)`` (e.g. from
        :func:`v1sim.stimuli.present` or :func:`v1sim.stimuli.drifting_grating`).
    dt : float
        Frame duration in seconds.
    n_trials : int
        Repeats.
    spike_model : {"poisson", "gamma"}
    order, refractory : float
        Gamma shape and absolute refractory period (s), for ``"gamma"``.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    Recording
    """
    _check_cell(cell)
    movie = as_float_array(stimulus, "stimulus", ndim=3)
    dt = check_positive_float(dt, "dt")
    rate = cell.response(movie)
    counts = _counts(rate, dt, check_positive_int(n_trials, "n_trials"), spike_model, check_rng(rng), order, refractory)
    return Recording(np.arange(rate.size) * dt, rate, counts, dt)


# ------------------------------------------------------------------ the lecture's stimulus conditions


@dataclass(frozen=True)
class CenterSurround(_Result):
    """Responses to the four classic stimulus conditions.

    Attributes
    ----------
    conditions : tuple of str
        ``("center", "surround", "annulus", "full field")``.
    stimuli : (4, H, W) ndarray
        The images.
    rates : (4,) ndarray
        Rate during each stimulus, spikes/s.
    spontaneous : float
        Rate to the blank background.
    time : (T,) ndarray
        Seconds, for the flashed presentations (empty without trials).
    counts : (4, n_trials, T) ndarray of int64
        Spike counts per bin (stimulus on from ``onset`` to ``offset``).
    """

    conditions: tuple
    stimuli: np.ndarray
    rates: np.ndarray
    spontaneous: float
    time: np.ndarray
    counts: np.ndarray


def center_surround(cell, shape, *, polarity="light", contrast=1.0, spot_radius=None, annulus=None, duration=0.5,
                    onset=0.1, offset=0.4, dt=0.002, n_trials=0, spike_model="poisson", rng=None):
    """Spot on the centre, spot on the surround, annulus and full field (Kuffler 1953).

    Parameters
    ----------
    cell : a v1sim.cells cell
    shape : int or (H, W)
        Image size, pixels.
    polarity : {"light", "dark"}
    contrast : float in [0, 1]
    spot_radius : float, optional
        Centre spot radius; default the cell's ``rf_radius`` (for a ganglion
        cell the radius where its profile changes sign). The surround spot
        has half this radius and sits at 1.75 times it from the centre (to
        the right).
    annulus : (inner, outer), optional
        Default: from ``spot_radius`` to the nearest image border.
    duration, onset, offset, dt : float
        Seconds, for the flashed presentations recorded with ``n_trials`` > 0.
    n_trials : int
        Spike-train repeats per condition (0: rates only).
    spike_model : {"poisson", "gamma"}
    rng : None, int or numpy.random.Generator

    Returns
    -------
    CenterSurround
    """
    cell, shape, u, (cx, cy) = _setup(cell, shape)
    r0 = cell.rf_radius if spot_radius is None else float(u.px(check_positive_float(spot_radius, "spot_radius")))
    if annulus is None:
        inner, outer = r0, min(cx + 0.5, shape[1] - 0.5 - cx, cy + 0.5, shape[0] - 0.5 - cy)
    else:
        inner, outer = (float(u.px(v)) for v in annulus)
    if outer <= inner:
        raise InputError(f"annulus must satisfy inner < outer, got inner={inner:.4g} px, outer={outer:.4g} px",
                         argument="annulus")
    kw = dict(contrast=contrast, polarity=polarity, background=cell.background)
    sign = 1.0 if polarity == "light" else -1.0
    images = np.stack([
        stimuli.spot(shape, r0, center=(cx, cy), **kw),
        stimuli.spot(shape, r0 / 2.0, center=(cx + 1.75 * r0, cy), **kw),
        stimuli.annulus(shape, inner, outer, center=(cx, cy), **kw),
        np.full(shape, cell.background * (1.0 + sign * contrast), np.float32),
    ])  # fmt: skip
    rates = cell.response(images)
    n_trials = check_nonnegative_int(n_trials, "n_trials")
    duration, dt = check_positive_float(duration, "duration"), check_positive_float(dt, "dt")
    time, counts = np.empty(0), np.zeros((4, 0, 0), np.int64)
    if n_trials:
        rng = check_rng(rng)
        movies = [stimuli.present(im, duration, onset=onset, offset=offset, dt=dt, background=cell.background)
                  for im in images]  # fmt: skip
        traces = np.stack([cell.response(m) for m in movies])
        counts = _counts(traces, dt, n_trials, spike_model, rng, 2.0, 0.002)
        time = np.arange(traces.shape[1]) * dt
    conds = ("center", "surround", "annulus", "full field")
    return CenterSurround(conds, images, rates, cell.spontaneous_rate, time, counts)


# ------------------------------------------------------------------ bars and edges swept across the field


@dataclass(frozen=True)
class Sweep(_Result):
    """Rate against the position of a bar or edge along the cell's ``x'`` axis.

    Attributes
    ----------
    stimulus : str
    positions : (n,) ndarray
        Offset from the receptive-field centre along ``(cos theta, sin theta)``
        (horizontal, rightwards, for theta = 0), pixels or degrees.
    rates : (n,) ndarray
    theta, theta_deg : float
        Orientation of the bar / edge.
    spontaneous : float
    """

    stimulus: str
    positions: np.ndarray
    rates: np.ndarray
    theta: float
    theta_deg: float
    spontaneous: float


SWEEP_STIMULI = ("light bar", "dark bar", "dark-to-light edge", "light-to-dark edge")


def sweep(cell, shape, *, stimulus="light bar", positions=None, theta=None, length=None, width=None, contrast=1.0):
    """Sweep a light or dark bar, or an edge, across the receptive field.

    Parameters
    ----------
    cell : a v1sim.cells cell
    shape : int or (H, W)
    stimulus : {"light bar", "dark bar", "dark-to-light edge", "light-to-dark edge"}
    positions : (n,) array_like, optional
        Offsets from the centre; default 33 from ``-2`` to ``+2`` rf radii.
    theta : float, optional
        Orientation (radians); default the cell's preferred one.
    length, width : float, optional
        Bar size; default a bar spanning the image, half a preferred period wide.
    contrast : float in [0, 1]

    Returns
    -------
    Sweep
    """
    cell, shape, u, (cx, cy) = _setup(cell, shape)
    stimulus = check_choice(stimulus, "stimulus", SWEEP_STIMULI)
    reach = 2.0 * cell.rf_radius
    pos = u.px(_values(positions, "positions", u.user(np.linspace(-reach, reach, 33))))
    th = _theta(cell, theta)
    c, s = math.cos(th), math.sin(th)
    frames = []
    if stimulus.endswith("bar"):
        ln = 2.0 * max(shape) if length is None else float(u.px(check_positive_float(length, "length")))
        wd = 0.5 / cell._tuning[1] if width is None else float(u.px(check_positive_float(width, "width")))
        pol = stimulus.split()[0]
        for p in pos:
            frames.append(stimuli.bar(shape, ln, wd, theta=th, center=(cx + p * c, cy + p * s), polarity=pol,
                                      contrast=contrast, background=cell.background))  # fmt: skip
    else:
        proj = (cx - (shape[1] - 1) / 2.0) * c + (cy - (shape[0] - 1) / 2.0) * s
        kind = stimulus.rsplit(" ", 1)[0]
        for p in pos:
            frames.append(stimuli.edge(shape, theta=th, position=p + proj, kind=kind, contrast=contrast,
                                       background=cell.background))  # fmt: skip
    rates = cell.response(np.stack(frames))
    return Sweep(stimulus, u.user(pos), rates, th, math.degrees(th), cell.spontaneous_rate)


# ------------------------------------------------------------------ reverse correlation

# Streamed noise is bounded by time, not memory: 3e7 pixel-frames/s measured on 2 cores (9x9 and 32x32 frames),
# so 1e13 is about 4 days, and a mistyped 10**12 frames (a month) is refused instead of hanging.
_MAX_NOISE_PIXELS = 10**13


@dataclass(frozen=True)
class ReverseCorrelation(_Result):
    """White-noise mapping.

    Attributes
    ----------
    sta : (H, W) ndarray
        Spike-triggered average of the contrast.
    receptive_field : (H, W) ndarray
        The cell's true linear field (NaN-filled for cells without one).
    correlation : float
        Pearson correlation of the two (NaN without a true field).
    n_spikes, n_frames : int
    dt : float
        Seconds per noise frame.
    """

    sta: np.ndarray
    receptive_field: np.ndarray
    correlation: float
    n_spikes: int
    n_frames: int
    dt: float


def reverse_correlation(cell, shape, *, n_frames=10000, dt=0.05, contrast=1.0, kind="binary", n_trials=1,
                        rng=None, chunk=4096):
    """Map the receptive field with white noise and Poisson spikes (the STA).

    Parameters
    ----------
    n_frames : int
        Noise frames, each shown for ``dt`` seconds.
    dt : float
        Seconds per frame.
    contrast : float in [0, 1]
    kind : {"binary", "gaussian"}
        As :func:`v1sim.stimuli.white_noise`.
    n_trials : int
        Repeats of the noise sequence (spikes pooled).
    rng : None, int or numpy.random.Generator
    chunk : int
        Frames generated at a time (memory bound); the result depends on it
        through the random stream only.

    Returns
    -------
    ReverseCorrelation

    Raises
    ------
    InputError
        For a bad argument, or ``n_frames * H * W`` beyond 1e13 noise pixels (days of computing; the noise is
        streamed in chunks, so memory alone would not stop it).
    """
    cell, shape, u, _ = _setup(cell, shape)
    n_frames = check_positive_int(n_frames, "n_frames")
    if n_frames * shape[0] * shape[1] > _MAX_NOISE_PIXELS:
        raise InputError(f"n_frames={n_frames} noise frames of {shape[0]} x {shape[1]} pixels are "
                         f"{n_frames * shape[0] * shape[1]:.3g} pixel-frames, more than the {_MAX_NOISE_PIXELS:.0e} "
                         f"a call may draw (about 4 days here); map with fewer frames or pixels",
                         argument="n_frames")  # fmt: skip
    dt = check_positive_float(dt, "dt")
    n_trials = check_positive_int(n_trials, "n_trials")
    chunk = check_positive_int(chunk, "chunk")
    rng = check_rng(rng)
    bg = cell.background
    weighted, total_c, n_spikes = np.zeros(shape[0] * shape[1]), np.zeros(shape[0] * shape[1]), 0
    done = 0
    while done < n_frames:
        m = min(chunk, n_frames - done)
        frames = stimuli.white_noise(shape, n_frames=m, contrast=contrast, kind=kind, background=bg, rng=rng)
        counts = _spikes.poisson_counts(cell.response(frames), dt, n_trials=n_trials, rng=rng).sum(axis=0)
        c = (frames.reshape(m, -1).astype(np.float64) - bg) / bg
        weighted += counts.astype(np.float64) @ c
        total_c += c.sum(axis=0)
        n_spikes += int(counts.sum())
        done += m
    if n_spikes == 0:
        raise InputError("the cell fired no spike to the noise; raise n_frames, dt or contrast", argument="n_frames")
    sta = (weighted / n_spikes - total_c / n_frames).reshape(shape)
    rf_fn = getattr(cell, "receptive_field", None)
    rf = rf_fn(shape) if rf_fn is not None else np.full(shape, np.nan)
    corr = tuning.rf_correlation(sta, rf) if rf_fn is not None else float("nan")
    return ReverseCorrelation(sta, rf, corr, n_spikes, n_frames, dt)


# ------------------------------------------------------------------ registry

PROTOCOLS = {
    "center_surround": center_surround,
    "sweep": sweep,
    "orientation_tuning": orientation_tuning,
    "spatial_frequency_tuning": spatial_frequency_tuning,
    "phase_tuning": phase_tuning,
    "grating_response": grating_response,
    "length_tuning": length_tuning,
    "area_summation": area_summation,
    "reverse_correlation": reverse_correlation,
}


def run_protocol(protocol, cell, shape, **kwargs):
    """Run a protocol by name: ``PROTOCOLS[protocol](cell, shape, **kwargs)``.

    Raises
    ------
    v1sim.errors.InputError
        If ``protocol`` is not one of ``PROTOCOLS`` (the message lists them).
    """
    name = check_choice(protocol, "protocol", tuple(PROTOCOLS))
    return PROTOCOLS[name](cell, shape, **kwargs)
