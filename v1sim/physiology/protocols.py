"""The lecture's mapping protocols (centre-surround, sweeps, reverse correlation), spike trains, the registry."""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg
import scipy.ndimage

from .. import spikes as _spikes
from .. import stimuli, tuning
from .._core.validate import (
    as_float_array,
    check_allocation,
    check_choice,
    check_in_range,
    check_nonnegative_int,
    check_positive_float,
    check_positive_int,
    check_rng,
)
from ..errors import InputError
from .common import (
    check_cell,
    float_values,
    orientation,
    preferred_cpp,
    setup,
    spike_counts,
)
from .gratings import (
    area_summation,
    grating_response,
    length_tuning,
    orientation_tuning,
    phase_tuning,
    spatial_frequency_tuning,
)
from .results import CenterSurround, Recording, ReverseCorrelation, Sweep

__all__ = [
    "PROTOCOLS",
    "SWEEP_STIMULI",
    "center_surround",
    "record",
    "record_spikes",
    "reverse_correlation",
    "run_protocol",
    "sweep",
]


# ------------------------------------------------------------------ spike trains to a movie


def record_spikes(cell, stimulus, dt, *, n_trials=10, spike_model="poisson", order=2.0, refractory=0.002, rng=None):
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

    See Also
    --------
    v1sim.physiology.recording.write_recording : a named protocol on a named model cell, drawn to a figure file
        (the back end of ``v1sim record``).
    """
    check_cell(cell)
    movie = as_float_array(stimulus, "stimulus", ndim=3)
    dt = check_positive_float(dt, "dt")
    rate = cell.response(movie)
    n_trials = check_positive_int(n_trials, "n_trials")
    counts = spike_counts(rate, dt, n_trials, spike_model, check_rng(rng), order, refractory)
    return Recording(np.arange(rate.size) * dt, rate, counts, dt)


#: the name :mod:`v1sim.physiology` has always given :func:`record_spikes`
record = record_spikes


# ------------------------------------------------------------------ the lecture's stimulus conditions


def center_surround(
    cell,
    shape,
    *,
    polarity="light",
    contrast=1.0,
    spot_radius=None,
    annulus=None,
    duration=0.5,
    onset=0.1,
    offset=0.4,
    dt=0.002,
    n_trials=0,
    spike_model="poisson",
    rng=None,
):
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
    cell, shape, u, (cx, cy) = setup(cell, shape)
    r0 = cell.rf_radius if spot_radius is None else float(u.px(check_positive_float(spot_radius, "spot_radius")))
    if annulus is None:
        inner, outer = r0, min(cx + 0.5, shape[1] - 0.5 - cx, cy + 0.5, shape[0] - 0.5 - cy)
    else:
        inner, outer = (float(u.px(v)) for v in annulus)
    if outer <= inner:
        raise InputError(
            f"annulus must satisfy inner < outer, got inner={inner:.4g} px, outer={outer:.4g} px", argument="annulus"
        )
    kw = dict(contrast=contrast, polarity=polarity, background=cell.background)
    sign = 1.0 if polarity == "light" else -1.0
    images = np.stack(
        [
            stimuli.spot(shape, r0, center=(cx, cy), **kw),
            stimuli.spot(shape, r0 / 2.0, center=(cx + 1.75 * r0, cy), **kw),
            stimuli.annulus(shape, inner, outer, center=(cx, cy), **kw),
            np.full(shape, cell.background * (1.0 + sign * contrast), np.float32),
        ]
    )
    rates = cell.response(images)
    n_trials = check_nonnegative_int(n_trials, "n_trials")
    duration, dt = check_positive_float(duration, "duration"), check_positive_float(dt, "dt")
    time, counts = np.empty(0), np.zeros((4, 0, 0), np.int64)
    if n_trials:
        rng = check_rng(rng)
        movies = [
            stimuli.present(im, duration, onset=onset, offset=offset, dt=dt, background=cell.background)
            for im in images
        ]
        traces = np.stack([cell.response(m) for m in movies])
        counts = spike_counts(traces, dt, n_trials, spike_model, rng, 2.0, 0.002)
        time = np.arange(traces.shape[1]) * dt
    conds = ("center", "surround", "annulus", "full field")
    return CenterSurround(conds, images, rates, cell.spontaneous_rate, time, counts)


# ------------------------------------------------------------------ bars and edges swept across the field


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
    cell, shape, u, (cx, cy) = setup(cell, shape)
    stimulus = check_choice(stimulus, "stimulus", SWEEP_STIMULI)
    reach = 2.0 * cell.rf_radius
    pos = u.px(float_values(positions, "positions", u.user(np.linspace(-reach, reach, 33))))
    th = orientation(cell, theta)
    c, s = math.cos(th), math.sin(th)
    frames = []
    if stimulus.endswith("bar"):
        ln = 2.0 * max(shape) if length is None else float(u.px(check_positive_float(length, "length")))
        wd = 0.5 / preferred_cpp(cell) if width is None else float(u.px(check_positive_float(width, "width")))
        pol = stimulus.split()[0]
        for p in pos:
            frames.append(
                stimuli.bar(
                    shape,
                    ln,
                    wd,
                    theta=th,
                    center=(cx + p * c, cy + p * s),
                    polarity=pol,
                    contrast=contrast,
                    background=cell.background,
                )
            )
    else:
        proj = (cx - (shape[1] - 1) / 2.0) * c + (cy - (shape[0] - 1) / 2.0) * s
        kind = stimulus.rsplit(" ", 1)[0]
        for p in pos:
            frames.append(
                stimuli.edge(
                    shape, theta=th, position=p + proj, kind=kind, contrast=contrast, background=cell.background
                )
            )
    rates = cell.response(np.stack(frames))
    return Sweep(stimulus, u.user(pos), rates, th, math.degrees(th), cell.spontaneous_rate)


# ------------------------------------------------------------------ reverse correlation

# Streamed noise is bounded by time, not memory: 3e7 pixel-frames/s measured on 2 cores (9x9 and 32x32 frames),
# so 1e13 is about 4 days, and a mistyped 10**12 frames (a month) is refused instead of hanging.
_MAX_NOISE_PIXELS = 10**13


def reverse_correlation(
    cell,
    shape,
    *,
    n_frames=10000,
    dt=0.05,
    contrast=1.0,
    kind="binary",
    n_trials=1,
    rng=None,
    chunk=4096,
    grain=0.0,
    estimate="auto",
    ridge=1.0,
):
    """Map the receptive field with noise and Poisson spikes (STA, ridge-whitened STA or STC).

    The STA's error is Poisson noise spread over every pixel: its correlation with the field is about
    ``sqrt(S / (S + P / N))`` for ``P`` pixels and ``N`` spikes (``S`` ~ 0.6 for the default simple cell,
    whose rate white pixels barely move from the spontaneous 1 spike/s: 1000 spikes, r 0.61 on 32 x 32;
    16000 spikes, r 0.95; the STA is unbiased). Noise correlated at the field's scale (``grain``) drives the
    cell harder and puts the error where the field is (r 0.93 with 1700 spikes), as physiologists match
    their checks to the field [1]_.

    Parameters
    ----------
    n_frames : int
        Noise frames, each shown for ``dt`` seconds.
    dt : float
        Seconds per frame.
    contrast : float in [0, 1]
    kind : {"binary", "gaussian"}
        As :func:`v1sim.stimuli.white_noise`; correlated binary noise is the sign of smoothed Gaussian noise.
    n_trials : int
        Repeats of the noise sequence (spikes pooled).
    rng : None, int or numpy.random.Generator
    chunk : int
        Frames generated at a time (memory bound); the result depends on it
        through the random stream only.
    grain : float >= 0 or "auto"
        Standard deviation in pixels of the Gaussian that correlates the noise (0: white pixels);
        "auto": ``1 / (8 f)`` for the cell's preferred frequency ``f`` (cycles/pixel), 1 px at 0.125.
    estimate : {"auto", "sta", "whitened", "stc"}
        "whitened": :func:`v1sim.tuning.spike_triggered_average` with ``ridge``; "stc": the two leading
        spike-triggered covariance axes; "auto": "stc" for cells without a linear field (energy complex
        cells, whose STA is noise), else "sta".
    ridge : float >= 0
        The whitened estimate's ridge, relative to the mean pixel variance.

    Returns
    -------
    ReverseCorrelation
        ``correlation``: with the true field, or for "stc" the smallest cosine of the principal angles
        between the STC pair and the cell's subunits (1: same plane).

    Raises
    ------
    InputError
        For a bad argument, or ``n_frames * H * W`` beyond 1e13 noise pixels (days of computing; the noise is
        streamed in chunks, so memory alone would not stop it), or kept frames ("whitened", "stc") beyond memory.

    References
    ----------
    .. [1] Schwartz O, Pillow JW, Rust NC, Simoncelli EP (2006). Spike-triggered neural characterization.
       J Vis 6:484-507.
    """
    cell, shape, u, _ = setup(cell, shape)
    n_frames = check_positive_int(n_frames, "n_frames")
    if n_frames * shape[0] * shape[1] > _MAX_NOISE_PIXELS:
        raise InputError(
            f"n_frames={n_frames} noise frames of {shape[0]} x {shape[1]} pixels are "
            f"{n_frames * shape[0] * shape[1]:.3g} pixel-frames, more than the {_MAX_NOISE_PIXELS:.0e} "
            f"a call may draw (about 4 days here); map with fewer frames or pixels",
            argument="n_frames",
        )
    dt = check_positive_float(dt, "dt")
    n_trials = check_positive_int(n_trials, "n_trials")
    chunk = check_positive_int(chunk, "chunk")
    grain = 1.0 / (8.0 * preferred_cpp(cell)) if grain == "auto" else check_in_range(grain, "grain", 0.0, 64.0)
    rf_fn = getattr(cell, "receptive_field", None)
    estimate = check_choice(estimate, "estimate", ("auto", "sta", "whitened", "stc"))
    estimate = ("sta" if rf_fn is not None else "stc") if estimate == "auto" else estimate
    ridge = check_in_range(ridge, "ridge", 0.0, math.inf, inclusive=(True, False))
    contrast = check_in_range(contrast, "contrast", 0.0, 1.0)
    if estimate != "sta":  # these keep every frame (float64 in the estimate)
        check_allocation((n_frames, shape[0] * shape[1]), np.float64, "n_frames", copies=3, what="kept noise")
    rng = check_rng(rng)
    bg = cell.background
    weighted, total_c, n_spikes, kept = np.zeros(shape[0] * shape[1]), np.zeros(shape[0] * shape[1]), 0, []
    done = 0
    while done < n_frames:
        m = min(chunk, n_frames - done)
        frames = noise_frames(shape, m, contrast, kind, bg, grain, rng)
        counts = _spikes.poisson_counts(cell.response(frames), dt, n_trials=n_trials, rng=rng).sum(axis=0)
        c = (frames.reshape(m, -1).astype(np.float64) - bg) / bg
        weighted += counts.astype(np.float64) @ c
        total_c += c.sum(axis=0)
        n_spikes += int(counts.sum())
        kept += [(frames, counts)] if estimate != "sta" else []
        done += m
    if n_spikes == 0:
        raise InputError("the cell fired no spike to the noise; raise n_frames, dt or contrast", argument="n_frames")
    sta, stc = (weighted / n_spikes - total_c / n_frames).reshape(shape), None
    if kept:
        frames, counts = np.concatenate([f for f, _ in kept]), np.concatenate([n for _, n in kept])
        if estimate == "whitened":
            sta = tuning.spike_triggered_average(frames, counts, background=bg, ridge=ridge)
        else:
            stc = tuning.spike_triggered_covariance(frames, counts, background=bg, n_components=2)[1]
    rf = rf_fn(shape) if rf_fn is not None else np.full(shape, np.nan)
    if stc is not None:  # the STC plane against the subunits' plane: cosines of the principal angles
        angles = scipy.linalg.subspace_angles(stc.reshape(2, -1).T, cell.subunits(shape).reshape(-1, stc[0].size).T)
        corr = float(np.cos(angles).min())
    else:
        corr = tuning.rf_correlation(sta, rf) if rf_fn is not None else float("nan")
    return ReverseCorrelation(sta, rf, corr, n_spikes, n_frames, dt, estimate, stc)


def noise_frames(shape, m, contrast, kind, bg, grain, rng):
    """``m`` noise frames: white (``grain`` 0) or Gaussian noise smoothed by ``grain`` px (binary: its sign)."""
    if grain == 0:
        return stimuli.white_noise(shape, n_frames=m, contrast=contrast, kind=kind, background=bg, rng=rng)
    kind = check_choice(kind, "kind", ("gaussian", "binary"))
    pad = math.ceil(3 * grain)  # smoothed beyond the frame, so its edges are as correlated as its middle
    z = scipy.ndimage.gaussian_filter(
        rng.standard_normal((m, shape[0] + 2 * pad, shape[1] + 2 * pad)), (0, grain, grain)
    )
    z = z[:, pad : pad + shape[0], pad : pad + shape[1]]
    c = np.sign(z) if kind == "binary" else z / (3 * z.std())  # std contrast / 3, as white_noise's gaussian
    return np.clip(bg * (1 + contrast * c), 0.0, 1.0).astype(np.float32)


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
