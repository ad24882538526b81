"""Virtual electrophysiology on one model cell: the science behind ``v1sim record``.

:func:`write_recording` builds a model neuron (:mod:`v1sim.cells`), runs one of the
lecture's recording protocols on it (:mod:`v1sim.physiology`), writes a
figure (the cell's field next to rasters, PSTHs or a tuning curve) and
returns the protocol's classic metrics. The command line only parses flags
and prints what this module returns.
"""

from __future__ import annotations

import math

import numpy as np

from .._core.validate import (
    check_finite_float,
    check_in_range,
    check_nonnegative_int,
    check_positive_int,
)
from ..errors import InputError
from .catalog import CELLS, PROTOCOLS, listing
from .common import spike_counts
from .protocols import run_protocol

__all__ = ["CELLS", "PROTOCOLS", "json_safe", "listing", "make_cell", "write_recording"]

_MIN_SIZE = 16  # pixels: the smallest screen the protocols' stimuli fit on
_MAX_SIZE = 512  # pixels: spot-annulus holds 1000 frames of the screen, ~1.5 GB here (0.5 GB measured at 256)
#: a protocol function's argument -> the write_recording() argument that sets it (errors name what the caller wrote)
_ARGUMENTS = {
    "shape": "size",
    "size": "size",
    "frequency": "frequency",
    "theta": "theta_deg",
    "n_frames": "frames",
    "n_trials": "trials",
}
_STA_SHAPE = (32, 32)  # pixels: reverse correlation's noise frames (the STA's cost grows with their area)


def _check_name(value, name, known):
    if value not in known:
        raise InputError(f"unknown {name} {value!r}; known: {', '.join(known)}", argument=name)
    return value


def make_cell(name, theta_deg=0.0, frequency=0.125):
    """The model neuron called ``name`` in :data:`CELLS`.

    Parameters
    ----------
    name : str
        A key of :data:`CELLS`.
    theta_deg : float
        Preferred orientation of V1 cells, degrees clockwise from vertical
        (ignored by ganglion cells).
    frequency : float
        Carrier frequency of V1 cells, cycles/pixel (ignored by ganglion cells).

    Returns
    -------
    v1sim.cells.GanglionCell, SimpleCell, ComplexCell or HypercomplexCell
    """
    from .. import cells

    _check_name(name, "cell", CELLS)
    if name in ("on-center", "off-center"):
        return cells.GanglionCell(polarity=name.split("-")[0], center_radius=1.5)
    kind = {"simple": cells.SimpleCell, "complex": cells.ComplexCell, "hypercomplex": cells.HypercomplexCell}[name]
    return kind(theta=math.radians(check_finite_float(theta_deg, "theta_deg")), frequency=frequency)


def write_recording(
    cell, protocol, *, out_dir="recordings", seed=0, theta_deg=0.0, frequency=0.125, size=64, trials=10, frames=20000
) -> dict:
    """Record from a model cell with one protocol: write its figure and return its metrics.

    Rates are the linear-nonlinear model's expected rates (spikes/s); rasters
    draw Poisson spikes. OFF cells get dark bars and spots where a protocol
    has a polarity (sweep, area, length); hypercomplex cells, silent to long
    bars and full-field gratings, get bars two RF radii long (sweep,
    orientation) and a grating patch of one RF radius (drifting-grating).

    Parameters
    ----------
    cell : str
        A key of :data:`CELLS`: "on-center", "off-center", "simple",
        "complex" or "hypercomplex".
    protocol : str
        A key of :data:`PROTOCOLS`, e.g. "orientation" or "drifting-grating".
    out_dir : str or Path
        Folder for the figure ``CELL_PROTOCOL.png`` (created if absent).
    seed : int
        Seeds the Poisson spikes and the white noise.
    theta_deg : float
        V1 cells' preferred orientation, degrees clockwise from vertical.
    frequency : float
        V1 cells' carrier frequency, cycles/pixel, in (0, 0.5].
    size : int
        Side of the square screen in pixels, 16 to 512; the field is at its centre.
    trials : int
        Spike-train repeats drawn for rasters (>= 1).
    frames : int
        White-noise frames of reverse correlation (>= 1; 32x32 pixels each).

    Returns
    -------
    dict
        JSON-ready (plain floats, lists; ``None`` where a value is undefined,
        e.g. no preferred orientation for a flat curve): ``cell``,
        ``protocol``, ``seed``, ``size_px``, ``figure`` (the PNG's path), the
        metrics the protocol measures (``preferred_orientation_deg``,
        ``bandwidth_deg``, ``circular_variance``, ``f1_f0``,
        ``suppression_index``, ``end_stopping_index``, ``sta_correlation``,
        ..., and ``spontaneous_rate``), and the measured curve under ``data``.

    Raises
    ------
    v1sim.errors.InputError
        For an unknown ``cell`` or ``protocol`` (the message lists the known
        ones), an out-of-range number, or an ``out_dir`` that is a file or
        cannot be written; ``.argument`` names the argument of this function
        at fault. Nothing is written then.

    Examples
    --------
    A complex cell's rate does not follow the drifting grating's phase:

    >>> r = write_recording("complex", "drifting-grating", out_dir="/tmp/rec")  # doctest: +SKIP
    >>> r["f1_f0"] < 1, r["figure"]  # doctest: +SKIP
    (True, '/tmp/rec/complex_drifting-grating.png')
    """
    from ..plotting import check_out_dir

    _check_name(cell, "cell", CELLS)
    _check_name(protocol, "protocol", PROTOCOLS)
    size = check_positive_int(size, "size")
    if not _MIN_SIZE <= size <= _MAX_SIZE:
        raise InputError(f"size must be {_MIN_SIZE} to {_MAX_SIZE} pixels, got {size}", argument="size")
    trials = check_positive_int(trials, "trials")
    frames = check_positive_int(frames, "frames")
    seed = check_nonnegative_int(seed, "seed")
    frequency = check_in_range(frequency, "frequency", 0.0, 0.5, inclusive=(False, True))  # up to Nyquist
    out = check_out_dir(out_dir, "out_dir")
    model = make_cell(cell, theta_deg, frequency)
    rng = np.random.default_rng(seed)
    try:
        metrics, data, res, extra = _measure(cell, model, protocol, size, trials, frames, rng)
    except InputError as exc:  # a protocol's own argument name -> the one the caller of write_recording() set
        if exc.argument not in _ARGUMENTS:
            raise
        raise InputError(str(exc), argument=_ARGUMENTS[exc.argument]) from exc
    out.mkdir(parents=True, exist_ok=True)
    path = _figure(model, cell, protocol, res, extra, size, out / f"{cell}_{protocol}.png")
    return json_safe(
        {
            "cell": cell,
            "protocol": protocol,
            "seed": seed,
            "size_px": size,
            "figure": str(path),
            **metrics,
            "data": data,
        }
    )


def json_safe(value):
    """``value`` with arrays as lists, NumPy scalars as Python numbers and NaN/inf as ``None`` (standard JSON)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


# ----------------------------------------------------------------------------- measuring

#: write_recording() builds pixel cells: a unit-dependent metric or curve is named with its unit in the JSON result
_PIXEL_NAMES = {
    "peak_position": "peak_position_px",
    "positions": "positions_px",
    "frequencies": "frequencies_cpp",
    "preferred_frequency": "preferred_frequency_cpp",
    "frequency": "frequency_cpp",
    "time": "time_s",
    "optimal_radius": "optimal_radius_px",
    "radii": "radii_px",
    "optimal_length": "optimal_length_px",
    "lengths": "lengths_px",
}
#: physiology protocol -> the fields of its result returned as the measured curve (``data``)
_CURVES = {
    "center_surround": ("conditions", "rates"),
    "sweep": ("positions", "rates"),
    "orientation_tuning": ("orientations_deg", "rates", "f1"),
    "grating_response": ("time", "rates"),
    "spatial_frequency_tuning": ("frequencies", "rates", "f1"),
    "area_summation": ("radii", "rates"),
    "length_tuning": ("lengths", "rates"),
    "reverse_correlation": (),
}
_GRATING_DT = 0.005  # seconds per frame of the drifting grating, and per bin of its spike counts


def _arguments(runs, name, cell, trials, frames, rng) -> dict:
    """The keywords write_recording() gives the physiology protocol ``runs`` for the cell called ``name``.

    OFF cells get dark stimuli, ganglion cells bars as wide as their centre and
    spots, hypercomplex cells short bars and a grating patch of one RF radius.
    """
    dark, ganglion = name == "off-center", name.endswith("center")
    short = 2.0 * cell.rf_radius if name == "hypercomplex" else None
    polarity = "dark" if dark else "light"
    if runs == "center_surround":
        return {"n_trials": trials, "rng": rng}
    if runs == "sweep":
        return {"stimulus": f"{polarity} bar", "length": short, "width": cell.rf_radius if ganglion else None}
    if runs == "orientation_tuning":
        return {"stimulus": "bar" if short else "grating", "length": short}
    if runs == "grating_response":
        return {
            "duration": 1.0,
            "dt": _GRATING_DT,
            **({"mask": "circle", "mask_radius": cell.rf_radius} if short else {}),
        }
    if runs == "area_summation":
        return {"stimulus": "spot", "polarity": polarity} if ganglion else {"stimulus": "grating"}
    if runs == "length_tuning":
        return {"polarity": polarity}
    if runs == "reverse_correlation":
        return {"n_frames": frames, "rng": rng}
    return {}


def _measure(name, cell, protocol, size, trials, frames, rng):
    """(metrics, data, result, extra) of one protocol run; rates in spikes/s, sizes in pixels."""
    runs = PROTOCOLS[protocol].runs
    shape = _STA_SHAPE if runs == "reverse_correlation" else (size, size)
    res = run_protocol(runs, cell, shape, **_arguments(runs, name, cell, trials, frames, rng))
    extra = {}
    if runs == "grating_response":
        extra["counts"] = spike_counts(res.rates, _GRATING_DT, trials, "poisson", rng, 2.0, 0.002)
    metrics = {_PIXEL_NAMES.get(k, k): v for k, v in res.metrics().items()}
    metrics["spontaneous_rate"] = float(cell.spontaneous_rate)
    data = {_PIXEL_NAMES.get(k, k): getattr(res, k) for k in _CURVES[runs]}
    return metrics, data, res, extra


# ----------------------------------------------------------------------------- the figure


def _rf_map(cell, shape):
    """A signed map of the cell's field: the linear RF, or the subunits' energy envelopes."""
    if hasattr(cell, "receptive_field"):
        return cell.receptive_field(shape), "receptive field"
    k = cell.subunits(shape)
    env = [np.hypot(k[i], k[i + 1]) for i in range(0, k.shape[0], 2)]
    if len(env) == 3:
        return env[0] - cell.end_weight * (env[1] + env[2]), "energy map: centre − end zones"
    return env[0], "energy envelope of the quadrature pair"


def _figure(cell, name, protocol, res, extra, size, path):
    """Draw the cell's field (left) and the protocol's recordings or tuning curve (right); save to ``path``."""
    import matplotlib.pyplot as plt

    from ..plotting import paper_style, save_figure

    with paper_style():
        if protocol == "spot-annulus":
            fig = plt.figure(figsize=(10.5, 4.6))  # fixed margins: constrained layout costs seconds here
            grid = fig.add_gridspec(
                3,
                5,
                height_ratios=[1.0, 1.1, 0.9],
                left=0.02,
                right=0.99,
                bottom=0.1,
                top=0.86,
                wspace=0.3,
                hspace=0.25,
            )
        else:
            fig = plt.figure(figsize=(5.6 if protocol == "reverse-correlation" else 8.4, 3.3), constrained_layout=True)
            ratios = [1, 1, 0.01] if protocol == "reverse-correlation" else [1, 1.4, 0.05]
            grid = fig.add_gridspec(1, 3, width_ratios=ratios)
        ax = fig.add_subplot(grid[:, 0] if protocol == "spot-annulus" else grid[0, 0])
        _field_panel(
            ax,
            cell,
            name,
            _STA_SHAPE if protocol == "reverse-correlation" else (size, size),
            whole=protocol == "reverse-correlation",
        )
        if protocol == "spot-annulus":
            _spot_annulus_panels(fig, grid, name, res)
        elif protocol == "reverse-correlation":
            _sta_panel(fig.add_subplot(grid[0, 1]), res)
        elif protocol == "orientation":
            _polar_panel(fig.add_subplot(grid[0, 1], projection="polar"), res)
        elif protocol == "drifting-grating":
            _grating_panels(fig, grid[0, 1:], name, res, extra["counts"])
        else:
            _curve_panel(fig.add_subplot(grid[0, 1:]), protocol, res)
        return save_figure(fig, path)


def _field_panel(ax, cell, name, rf_shape, whole):
    """The field, cropped to where it is non-zero (``whole``: the full frame, the STA's)."""
    import matplotlib.colors

    from ..plotting import set_frame, show_image

    rf, what = _rf_map(cell, rf_shape)
    ys, xs = np.nonzero(np.abs(rf) > 0.002 * np.abs(rf).max())  # crop to the field, square, centred
    half = int(max(np.abs(xs - (rf_shape[1] - 1) / 2).max(), np.abs(ys - (rf_shape[0] - 1) / 2).max())) + 2
    half = max(rf_shape) if whole else half
    cy, cx = rf_shape[0] // 2, rf_shape[1] // 2
    crop = rf[max(cy - half, 0) : cy + half + 1, max(cx - half, 0) : cx + half + 1]
    lo, hi = float(crop.min()), float(crop.max())
    norm = matplotlib.colors.TwoSlopeNorm(0.0, lo, hi) if lo < 0 < hi else None  # weak surrounds visible
    show_image(ax, crop, symmetric=norm is None, cmap="RdBu_r", norm=norm, title=f"{name} cell\n{what}")
    set_frame(ax)
    ax.set_xlabel(
        f"{'central ' if crop.shape != rf.shape else ''}{crop.shape[1]} × {crop.shape[0]} px"
        "\n(red +, blue −,\neach to its peak)"
        if norm
        else "\n(red +, blue −)"
    )


def _spot_annulus_panels(fig, grid, name, res):
    """Per condition: the stimulus, the rasters and the PSTH (20 ms bins), stimulus on in gold."""
    from ..plotting import set_frame, show_image, spike_raster
    from ..spikes import count_psth

    t, dt = res.time, res.time[1] - res.time[0]
    edges, psth = count_psth(res.counts, dt, 0.02)
    for j, cond in enumerate(res.conditions):
        a = fig.add_subplot(grid[0, j + 1])
        show_image(a, res.stimuli[j], vmin=0, vmax=1, title=f"{cond}\n{res.rates[j]:.0f} spikes/s")
        set_frame(a)
        a = fig.add_subplot(grid[1, j + 1])
        spike_raster(a, t, res.counts[j])
        a.axvspan(0.1, 0.4, color="gold", alpha=0.3, lw=0, zorder=0)
        a.set_xlim(0, t[-1] + dt)
        a.set_xticklabels([])
        a.set_ylabel("trial" if j == 0 else "")
        a = fig.add_subplot(grid[2, j + 1])
        a.axvspan(0.1, 0.4, color="gold", alpha=0.3, lw=0, zorder=0)
        a.stairs(psth[j], edges, fill=True, color="0.25", zorder=2)
        a.set_xlim(0, t[-1] + dt)
        a.set_ylim(0, 1.1 * max(psth.max(), 1.0))
        a.set_xlabel("time (s)")
        a.set_ylabel("rate (spikes/s)" if j == 0 else "")
    fig.suptitle(f"{name} cell, flashed stimuli (gold: stimulus on), {res.counts.shape[1]} Poisson trials")


def _sta_panel(a, res):
    from ..plotting import set_frame, show_image

    r = f"r = {res.correlation:.2f} with the field" if np.isfinite(res.correlation) else "no linear field"
    show_image(
        a,
        res.sta,
        symmetric=True,
        title=f"spike-triggered average, {r}\n{res.n_spikes} spikes, {res.n_frames} noise frames",
    )
    set_frame(a)
    a.set_xlabel(f"{res.sta.shape[1]} × {res.sta.shape[0]} px")


def _polar_panel(a, res):
    """Orientation tuning on a polar plot (both directions of each axis), the spontaneous rate dotted."""
    th = np.concatenate([res.orientations, res.orientations + np.pi, res.orientations[:1]])
    r = np.concatenate([res.rates, res.rates, res.rates[:1]])
    a.plot(th, r, "k.-", lw=1.2, ms=4)
    a.plot(np.linspace(0, 2 * np.pi, 100), np.full(100, res.spontaneous), color="0.6", ls=":", lw=0.8)
    a.set_theta_direction(-1)  # theta turns clockwise on screen, as the stimuli
    a.set_rlabel_position(112.5)
    what = "bar orientation θ" if res.stimulus == "bar" else "grating θ (0°: vertical, drifting right)"
    tuned = (
        "untuned"
        if res.preferred_deg is None
        else (f"preferred {res.preferred_deg:.0f}°, half-width {res.bandwidth_deg:.0f}°")
    )
    a.set_title(f"F0 (spikes/s) vs {what}\n{tuned}, CV {res.circular_variance:.2f}", pad=10)


def _grating_panels(fig, spec, name, res, counts):
    """Raster over the PSTH (25 ms bins) and the model rate of the optimal drifting grating."""
    from ..plotting import spike_raster
    from ..spikes import count_psth

    sub = spec.subgridspec(2, 1, height_ratios=[1, 1])
    a = fig.add_subplot(sub[0])
    t, dt = res.time, res.time[1] - res.time[0]
    spike_raster(a, t, counts)
    a.set_ylabel("trial")
    a.set_xlim(0, t[-1] + t[1])
    a.set_xticklabels([])
    patch = " (patch of one RF radius)" if name == "hypercomplex" else ""
    a.set_title(
        f"optimal grating{patch} drifting at {res.temporal_frequency:g} Hz:\nF0 {res.f0:.1f}, "
        f"F1 {res.f1:.1f} spikes/s, F1/F0 = {res.f1_f0:.2f}"
    )
    a = fig.add_subplot(sub[1])
    edges, psth = count_psth(counts, dt, 0.025)
    a.stairs(psth, edges, color="0.45", fill=True, alpha=0.5, label=f"PSTH, {counts.shape[0]} trials (25 ms bins)")
    a.plot(t, res.rates, color="tab:red", lw=1.2, label="model rate")
    a.set_xlim(0, t[-1] + t[1])
    a.set_xlabel("time (s)")
    a.set_ylabel("rate (spikes/s)")
    a.set_ylim(0, 1.35 * max(psth.max(), res.rates.max(), 1.0))
    a.legend(frameon=False, loc="upper center", ncol=2, fontsize=7)


def _curve_panel(a, protocol, res):
    """Rate (F0) against the swept parameter: bar position, spatial frequency, radius or length."""
    import matplotlib.ticker

    if protocol == "sweep":
        x, xlabel = res.positions, "bar position across the field (px)"
        title = f"{res.stimulus} swept across the field"
    elif protocol == "spatial-frequency":
        x, xlabel = res.frequencies, "spatial frequency (cycles/pixel)"
        title = "drifting gratings: " + (
            "untuned" if res.preferred is None else f"preferred {res.preferred:.3f} cycles/pixel"
        )
    elif protocol == "area":
        x, xlabel = res.radii, f"{res.stimulus} radius (px)"
        title = f"area summation: suppression index {res.suppression_index:.2f}"
    else:
        x, xlabel = res.lengths, "bar length (px)"
        title = f"length tuning: end-stopping index {res.end_stopping_index:.2f}"
    a.plot(x, res.rates, "k.-", lw=1.2, ms=4, label="mean rate (F0)")
    if protocol == "spatial-frequency":
        a.plot(x, res.f1, color="tab:red", lw=1, label="F1")
        a.set_xscale("log")
        a.set_xticks([t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5) if x.min() <= t <= x.max()])
        a.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        a.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        a.legend(frameon=False, fontsize=7)
    a.axhline(res.spontaneous, color="0.6", ls=":", lw=0.8)
    a.set_xlabel(xlabel)
    a.set_ylabel("rate (spikes/s)")
    a.set_title(title)
    a.set_ylim(bottom=0)
