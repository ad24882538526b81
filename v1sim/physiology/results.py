"""The results of :mod:`v1sim.physiology`'s protocols: frozen dataclasses of arrays.

Each result holds what its protocol measured (arrays of rates, the stimulus
values, the cell's spontaneous rate) and offers two views of it:
``metrics()``, the protocol's classic numbers by name (plain floats, None
where undefined), and ``to_dict()``, every field as a plain array for
``np.savez`` (load with ``allow_pickle=False``). Units follow the cell
(pixels or degrees); ``*_deg`` fields are degrees, rates spikes/s.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .. import spikes as _spikes

__all__ = [
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
]


class _Result:
    """What every result offers: its fields as plain arrays, and its metrics."""

    def to_dict(self) -> dict:
        """Fields as plain numpy arrays (for ``np.savez``; load with ``allow_pickle=False``); ``None`` as NaN."""
        return {f.name: np.asarray(_nan_if_none(getattr(self, f.name))) for f in fields(self)}

    def metrics(self) -> dict:
        """The protocol's classic numbers by name (plain floats or None; a result's own docstring lists them)."""
        raise NotImplementedError


def _nan_if_none(value):
    return np.nan if value is None else value  # an object array would need pickle to load


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

    def metrics(self) -> dict:
        """``mean_rate``: the measured rate over trials and time, spikes/s."""
        return {"mean_rate": self.mean_rate}


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

    def metrics(self) -> dict:
        """``rate_<condition>`` (spaces as underscores) for each condition, spikes/s."""
        return {f"rate_{c.replace(' ', '_')}": float(r) for c, r in zip(self.conditions, self.rates)}


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

    def metrics(self) -> dict:
        """``peak_rate`` (spikes/s) and the ``peak_position`` where the sweep found it."""
        i = int(np.argmax(self.rates))
        return {"peak_rate": float(self.rates[i]), "peak_position": float(self.positions[i])}


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
        The estimate's quality: Pearson correlation of ``sta`` and the field (NaN without a true field), or
        for "stc" the smallest cosine of the principal angles between ``stc`` and the cell's subunits.
    n_spikes, n_frames : int
    dt : float
        Seconds per noise frame.
    estimate : {"sta", "whitened", "stc"}
        Which estimate ``correlation`` scores ("whitened": ``sta`` is the ridge-whitened STA).
    stc : (2, H, W) ndarray or None
        The spike-triggered covariance's two leading eigenvectors ("stc" only).
    """

    sta: np.ndarray
    receptive_field: np.ndarray
    correlation: float
    n_spikes: int
    n_frames: int
    dt: float
    estimate: str = "sta"
    stc: np.ndarray | None = None

    def metrics(self) -> dict:
        """``sta_correlation`` or ``stc_correlation`` (the other None), ``n_spikes`` and ``n_frames``."""
        stc = self.estimate == "stc"
        return {
            "sta_correlation": None if stc else self.correlation,
            "stc_correlation": self.correlation if stc else None,
            "n_spikes": self.n_spikes,
            "n_frames": self.n_frames,
        }


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

    def metrics(self) -> dict:
        """Preferred orientation, half-width and circular variance, and at the peak its rate and F1/F0.

        ``f1_f0`` is None for bars (stationary: no F1) and for a silent peak.
        """
        i = int(np.argmax(self.rates))
        f1_f0 = float(self.f1[i] / self.rates[i]) if self.stimulus == "grating" and self.rates[i] > 0 else None
        return {
            "preferred_orientation_deg": self.preferred_deg,
            "bandwidth_deg": self.bandwidth_deg,
            "circular_variance": self.circular_variance,
            "peak_rate": float(self.rates[i]),
            "f1_f0": f1_f0,
            "stimulus": self.stimulus,
        }


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

    def metrics(self) -> dict:
        """``preferred_frequency`` (None for a flat curve) and ``peak_rate``."""
        return {"preferred_frequency": self.preferred, "peak_rate": float(self.rates.max())}


@dataclass(frozen=True)
class PhaseTuning(_Result):
    """Responses to stationary gratings over spatial ``phases`` (radians, and ``phases_deg``)."""

    phases: np.ndarray
    phases_deg: np.ndarray
    rates: np.ndarray
    spontaneous: float

    def metrics(self) -> dict:
        """``peak_rate`` and the ``peak_phase_deg`` where it was found."""
        i = int(np.argmax(self.rates))
        return {"peak_rate": float(self.rates[i]), "peak_phase_deg": float(self.phases_deg[i])}


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

    def metrics(self) -> dict:
        """F0, F1, F1/F0, the grating's spatial ``frequency`` and ``temporal_frequency_hz``."""
        return {
            "f0": self.f0,
            "f1": self.f1,
            "f1_f0": self.f1_f0,
            "frequency": self.frequency,
            "temporal_frequency_hz": self.temporal_frequency,
        }


@dataclass(frozen=True)
class LengthTuning(_Result):
    """Rates to bars of increasing ``lengths``; ``end_stopping_index`` (spontaneous
    subtracted in the denominator) and ``optimal_length``."""

    lengths: np.ndarray
    rates: np.ndarray
    spontaneous: float
    end_stopping_index: float
    optimal_length: float

    def metrics(self) -> dict:
        """``end_stopping_index`` and ``optimal_length``."""
        return {"end_stopping_index": self.end_stopping_index, "optimal_length": self.optimal_length}


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

    def metrics(self) -> dict:
        """``suppression_index``, ``optimal_radius`` and the ``stimulus`` ("grating" or "spot")."""
        return {
            "suppression_index": self.suppression_index,
            "optimal_radius": self.optimal_radius,
            "stimulus": self.stimulus,
        }
