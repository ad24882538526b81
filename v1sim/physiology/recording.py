"""Virtual electrophysiology on one model cell: the science behind ``v1sim record``.

:func:`write_recording` builds a model neuron (:mod:`v1sim.cells`), runs one of the
lecture's recording protocols on it (:mod:`v1sim.physiology`), writes a
figure (:mod:`v1sim.physiology.figures`: the cell's field next to rasters,
PSTHs or a tuning curve) and returns the protocol's classic metrics. The command line only parses flags
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
from .figures import recording_figure
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
    shape = _STA_SHAPE if PROTOCOLS[protocol].runs == "reverse_correlation" else (size, size)  # the field's frame too
    try:
        metrics, data, res, extra = _measure(cell, model, protocol, shape, trials, frames, rng)
    except InputError as exc:  # a protocol's own argument name -> the one the caller of write_recording() set
        if exc.argument not in _ARGUMENTS:
            raise
        raise InputError(str(exc), argument=_ARGUMENTS[exc.argument]) from exc
    out.mkdir(parents=True, exist_ok=True)
    path = recording_figure(model, cell, protocol, res, extra, shape, out / f"{cell}_{protocol}.png")
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
        # V1: noise at the field's scale (simple cell's STA r 0.61 -> 0.93); a ganglion centre is ~1 px: white
        return {"n_frames": frames, "rng": rng, "grain": 0.0 if ganglion else "auto"}
    return {}


def _measure(name, cell, protocol, shape, trials, frames, rng):
    """(metrics, data, result, extra) of one protocol run on a ``shape`` screen; rates in spikes/s, sizes in pixels."""
    runs = PROTOCOLS[protocol].runs
    res = run_protocol(runs, cell, shape, **_arguments(runs, name, cell, trials, frames, rng))
    extra = {}
    if runs == "grating_response":
        extra["counts"] = spike_counts(res.rates, _GRATING_DT, trials, "poisson", rng, 2.0, 0.002)
    metrics = {_PIXEL_NAMES.get(k, k): v for k, v in res.metrics().items()}
    metrics["spontaneous_rate"] = float(cell.spontaneous_rate)
    data = {_PIXEL_NAMES.get(k, k): getattr(res, k) for k in _CURVES[runs]}
    return metrics, data, res, extra
