"""What the protocols of :mod:`v1sim.physiology` share: checked setup, units, gratings and spike counts."""

from __future__ import annotations

import numpy as np

from .. import spikes as _spikes
from .. import stimuli
from .._core.validate import (
    as_float_array,
    check_allocation,
    check_choice,
    check_finite_float,
    check_int_pair,
    check_positive_float,
)
from ..cells.base import Cell
from ..errors import InputError, InputTypeError

SPIKE_MODELS = ("poisson", "gamma")


def preferred_cpp(cell) -> float:
    """The cell's preferred spatial frequency in cycles/pixel, whatever its units (the protocols' default)."""
    return cell._tuning[1]  # the cached optimum itself: preferred_frequency / ppd would round differently


def check_cell(cell):
    if not isinstance(cell, Cell):
        raise InputTypeError(
            f"cell must be a v1sim.cells cell (GanglionCell, SimpleCell, ...), got {type(cell).__name__}",
            argument="cell",
        )
    return cell


class Units:
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


def float_values(values, name, default, positive=False):
    v = default if values is None else as_float_array(values, name, ndim=(0, 1), dtype=np.float64).ravel()
    if positive and np.any(v <= 0):
        raise InputError(f"{name} must all be positive (> 0), got a minimum of {v.min():.4g}", argument=name)
    return np.asarray(v, np.float64)


def setup(cell, shape):
    cell = check_cell(cell)
    shape = check_int_pair(shape, "shape")
    # every protocol draws (H, W) float64 frames and the cell's working copies of them
    check_allocation(
        shape, np.float64, "shape", copies=8, what=f"shape={shape!r} asks for {shape[0]} x {shape[1]} frames"
    )
    return cell, shape, Units(cell), cell.center_in(shape)


def grating_frequency(cell, u, frequency):
    if frequency is None:
        return min(preferred_cpp(cell), 0.5)
    f = float(u.cpp(check_positive_float(frequency, "frequency")))
    if f > 0.5:
        raise InputError(
            f"frequency must be at most the Nyquist limit 0.5 cycles/pixel, got {f:.4g} cycles/pixel",
            argument="frequency",
        )
    return f


def orientation(cell, theta):
    return cell.preferred_orientation if theta is None else check_finite_float(theta, "theta")


def timing(temporal_frequency, duration, dt):
    """Validated (tf Hz, duration s, dt s) of a drifting-grating protocol."""
    return (
        check_positive_float(temporal_frequency, "temporal_frequency"),
        check_positive_float(duration, "duration"),
        check_positive_float(dt, "dt"),
    )


def drifting_response(cell, shape, center, f, theta, tf, duration, dt, contrast, **mask):
    movie = stimuli.drifting_grating(
        shape, f, tf, duration, dt=dt, theta=theta, contrast=contrast, center=center, background=cell.background, **mask
    )
    return cell.response(movie)


def spike_counts(rates, dt, n_trials, spike_model, rng, order, refractory):
    model = check_choice(spike_model, "spike_model", SPIKE_MODELS)
    if model == "poisson":
        return _spikes.poisson_counts(rates, dt, n_trials=n_trials, rng=rng)
    trains = _spikes.gamma_spikes(rates, dt, order=order, refractory=refractory, n_trials=n_trials, rng=rng)
    return _spikes.bin_counts(trains, rates.shape[-1] * dt, dt)
