"""Reverse correlation of a whole unit population: every unit's field from one stream of noise.

:func:`population_reverse_correlation` shows noise frames to any unit population
(:class:`v1sim.physiology.UnitPopulation`: v1sim cells, ConvNet layers, Neocognitron/HMAX stages,
macaque Gabor samples) and returns each unit's response-weighted average of the frames, the
spike-triggered average of a rate model [1]_:

``STA_u = sum_t r_u(t) (C_t - mean C) / sum_t r_u(t)``,  ``C = (I - 0.5) / 0.5``

(images have background 0.5). For a linear-nonlinear unit driven by white (or Gaussian) noise it is
proportional to the unit's linear field; noise correlated over ``grain`` pixels gives ``Sigma k`` (the
field blurred by the noise covariance), which the optional ridge-whitened estimate undoes, as
:func:`v1sim.tuning.spike_triggered_average` does for one cell. Energy (complex) units have an STA of
noise; their fields need the covariance (:func:`v1sim.physiology.reverse_correlation`, "stc").

The noise is streamed ``batch`` frames at a time, so memory is bounded by the batch, the
(n_units, S*S) sums and, for the whitened estimate, one (S*S, S*S) covariance.

References
----------
.. [1] Schwartz O, Pillow JW, Rust NC, Simoncelli EP (2006). Spike-triggered neural characterization.
   J Vis 6:484-507.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._core.validate import check_allocation, check_choice, check_in_range, check_positive_int, check_rng
from ..errors import InputError
from .population_stimuli import check_population, record
from .protocols import noise_frames

__all__ = ["PopulationReverseCorrelation", "population_reverse_correlation"]

BACKGROUND = 0.5  # the grey of a unit population's images
MAX_NOISE_PIXELS = 10**13  # frames x pixels a call may draw (days of computing; memory alone would not stop it)


@dataclass(frozen=True)
class PopulationReverseCorrelation:
    """Every unit's response-weighted average of the noise (:func:`population_reverse_correlation`).

    Attributes
    ----------
    sta : (n_units, S, S) ndarray of float64
        ``sum_t r_u(t) (C_t - mean C) / sum_t r_u(t)`` in contrast units; NaN rows for the units
        ``responsive`` marks False (they never answered, so they have no average).
    whitened : (n_units, S, S) ndarray of float64 or None
        ``(Sigma + ridge * mean(diag Sigma) I)^-1 STA_u`` (``Sigma``: the noise covariance), when asked.
    totals : (n_units,) ndarray of float64
        ``sum_t r_u(t)``: each unit's summed response to the noise.
    responsive : (n_units,) ndarray of bool
        Units with ``totals > 0``.
    n_frames : int
        Noise frames shown.
    grain, contrast, ridge :
        The noise and estimate settings used (``ridge`` None: no whitened estimate).
    """

    sta: np.ndarray
    whitened: np.ndarray | None
    totals: np.ndarray
    responsive: np.ndarray
    n_frames: int
    grain: float
    contrast: float
    ridge: float | None

    @property
    def n_units(self) -> int:
        return int(self.totals.size)

    def fields(self) -> np.ndarray:
        """The best estimate: ``whitened`` if computed, else ``sta``."""
        return self.sta if self.whitened is None else self.whitened


def population_reverse_correlation(
    population, *, n_frames=4096, grain=0.0, contrast=1.0, kind="binary", ridge=None, rng=0, batch=256
) -> PopulationReverseCorrelation:
    """Map every unit's receptive field at once with noise frames (response-weighted averages).

    Parameters
    ----------
    population : UnitPopulation
        Any unit population (``ppd``, ``image_size``, ``n_units``, ``responses(images)``); its
        responses must be finite and non-negative.
    n_frames : int
        Noise frames (``n_frames * image_size**2`` at most 1e13).
    grain : float in [0, 64]
        Standard deviation in pixels of the Gaussian that correlates the noise (0: white pixels);
        match it to the fields' grain (about ``ppd / (8 f)`` for a preferred frequency ``f`` in
        cycles/degree) to drive units harder with fewer frames.
    contrast : float in (0, 1]
    kind : {"binary", "gaussian"}
        As :func:`v1sim.physiology.reverse_correlation`.
    ridge : float >= 0, optional
        Also return the ridge-whitened estimate, ``ridge`` relative to the mean pixel variance
        (holds one (S*S, S*S) float64 covariance).
    rng : None, int or numpy.random.Generator
        Seed of the noise: the same seed (and ``batch``) gives the same result.
    batch : int
        Frames shown per call of ``population.responses`` (memory bound); the result depends on it
        through the random stream only.

    Returns
    -------
    PopulationReverseCorrelation

    Raises
    ------
    InputError
        For a bad argument (named); naming ``population`` for a non-population, bad responses, or a
        population none of whose units answered the noise.
    """
    geometry = check_population(population)
    s, k = geometry.image_size, geometry.n_units
    n_frames = check_positive_int(n_frames, "n_frames")
    if n_frames * s * s > MAX_NOISE_PIXELS:
        raise InputError(
            f"n_frames={n_frames} frames of {s} x {s} pixels are {n_frames * s * s:.3g} pixel-frames, more than "
            f"the {MAX_NOISE_PIXELS:.0e} a call may draw; map with fewer frames",
            argument="n_frames",
        )
    grain = check_in_range(grain, "grain", 0.0, 64.0)
    contrast = check_in_range(contrast, "contrast", 0.0, 1.0, inclusive=(False, True))
    kind = check_choice(kind, "kind", ("binary", "gaussian"))
    if ridge is not None:
        ridge = check_in_range(ridge, "ridge", 0.0, math.inf, inclusive=(True, False))
        check_allocation((s * s, s * s), np.float64, "ridge", copies=3, what=f"the {s * s}-pixel noise covariance")
    batch = min(check_positive_int(batch, "batch"), n_frames)
    pad = 2 * math.ceil(3 * grain)
    check_allocation((batch, s + pad, s + pad), np.float64, "batch", copies=4, what=f"{batch} noise frames")
    check_allocation((k, s * s), np.float64, "population", copies=2, what=f"the sums of {k} units")
    gen = check_rng(rng)

    weighted, totals = np.zeros((k, s * s)), np.zeros(k)
    sum_c, gram = np.zeros(s * s), (np.zeros((s * s, s * s)) if ridge is not None else None)
    for start in range(0, n_frames, batch):
        m = min(batch, n_frames - start)
        frames = noise_frames((s, s), m, contrast, kind, BACKGROUND, grain, gen)
        r = record(population, frames, k)
        c = (frames.reshape(m, -1).astype(np.float64) - BACKGROUND) / BACKGROUND
        weighted += r.T @ c
        totals += r.sum(axis=0)
        sum_c += c.sum(axis=0)
        if gram is not None:
            gram += c.T @ c
    responsive = totals > 0
    if not responsive.any():
        raise InputError(
            f"no unit of population answered {n_frames} noise frames (every response was 0); "
            "raise contrast or n_frames, or check the population",
            argument="population",
        )
    mean_c = sum_c / n_frames
    sta = np.full((k, s * s), np.nan)
    sta[responsive] = weighted[responsive] / totals[responsive, None] - mean_c
    whitened = None
    if gram is not None:
        cov = (gram - n_frames * np.outer(mean_c, mean_c)) / max(n_frames - 1, 1)
        cov[np.diag_indices_from(cov)] += ridge * float(np.trace(cov)) / cov.shape[0] + 1e-12  # 1e-12: flat pixels
        whitened = np.full((k, s * s), np.nan)
        whitened[responsive] = np.linalg.solve(cov, sta[responsive].T).T
        whitened = whitened.reshape(k, s, s)
    return PopulationReverseCorrelation(
        sta.reshape(k, s, s), whitened, totals, responsive, n_frames, grain, contrast, ridge
    )
