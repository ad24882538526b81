"""Macaque V1 reference data shipped with v1sim, and statistics to compare models with it.

Data
----
:func:`ringach2002_f1f0`
    The modulation ratio F1/F0 of 308 macaque V1 neurons (Ringach, Shapley &
    Hawken 2002): simple cells above 1, complex cells below, with a dip
    between them (Skottun et al. 1991).

Statistics
----------
:func:`bimodality_coefficient`
    Sarle's coefficient ``(g^2 + 1) / (kurtosis + 3 (n-1)^2 / ((n-2)(n-3)))``;
    above 5/9 (the value of a uniform distribution) suggests two modes.
:func:`ks_distance`
    Two-sample Kolmogorov-Smirnov distance between model and data.

Provenance
----------
``v1sim/data/ringach2002_f1f0.npz`` (about 7 KB, arrays loadable with
``allow_pickle=False``) holds four columns of
``ringach2002_jneurosci_orientation_db.csv`` as distributed in the project's
``shared/data/v1/`` folder (SHA-256 recorded in the file and in
:data:`RINGACH2002`), copied row by row at full precision: ``neuron``
(0-based row index), ``spont`` (spontaneous rate, spikes/s), ``maxdc``
(mean rate F0 at the preferred orientation, spikes/s) and ``maxfirst``
(first-harmonic amplitude F1 there, spikes/s). That CSV is the struct ``db``
of the original MATLAB file ``ringach_2002_db.mat`` from the Ringach lab
website, as kept in GitHub ``neuroailab/TDANN``
(``spacetorch/datasets/ringach_2002_db.mat``, blob
``b6916376298e46ecb449e8ab198cfe4cf1617469``). No license is stated; the
numbers are reproduced here for scientific comparison with attribution.
The package never reads ``shared/`` at run time.

References
----------
.. [1] Ringach DL, Shapley RM, Hawken MJ (2002). Orientation selectivity in
   macaque V1: diversity and laminar dependence. J Neurosci 22:5639-5651.
.. [2] Skottun BC, De Valois RL, Grosof DH, Movshon JA, Albrecht DG, Bonds AB
   (1991). Classifying simple and complex cells on the basis of response
   modulation. Vision Res 31:1079-1086.
.. [3] Mechler F, Ringach DL (2002). On the classification of simple and
   complex cells. Vision Res 42:1017-1033 (bimodality of F1/F0 from a
   rectifying nonlinearity).
.. [4] Sarle WS, as given by SAS Institute (1990); see Pfister R et al. (2013)
   Good things peak in pairs. Front Psychol 4:700 (bimodality coefficient).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ._validate import as_float_array

__all__ = ["RINGACH2002", "RingachF1F0", "bimodality_coefficient", "ks_distance", "ringach2002_f1f0"]

RINGACH2002 = {
    "citation": (
        "Ringach DL, Shapley RM, Hawken MJ (2002). Orientation selectivity in macaque V1: diversity and "
        "laminar dependence. J Neurosci 22(13):5639-5651."
    ),
    "file": "v1sim/data/ringach2002_f1f0.npz",
    "source": "shared/data/v1/ringach2002_jneurosci_orientation_db.csv (struct db of ringach_2002_db.mat)",
    "source_sha256": "6ba7448d522707a3dc0519fecd338955aedbd07895422a05055165a9d4691805",
    "origin": "Ringach lab website, via GitHub neuroailab/TDANN spacetorch/datasets/ringach_2002_db.mat "
    "(blob b6916376298e46ecb449e8ab198cfe4cf1617469)",
    "columns": {
        "neuron": "0-based row index of the source table",
        "spont": "spontaneous rate, spikes/s",
        "maxdc": "mean rate F0 at the preferred orientation, spikes/s",
        "maxfirst": "first-harmonic amplitude F1 at the preferred orientation, spikes/s",
    },
    "n_neurons": 308,
    "license": "none stated; reproduced for scientific comparison with attribution",
}


@dataclass(frozen=True)
class RingachF1F0:
    """F1 and F0 of macaque V1 neurons at their preferred orientation (drifting gratings).

    Attributes
    ----------
    neuron : (n,) ndarray of int
        Row of the source table.
    f1, f0, spontaneous : (n,) ndarray of float64
        ``maxfirst``, ``maxdc`` and ``spont``, spikes/s.
    """

    neuron: np.ndarray
    f1: np.ndarray
    f0: np.ndarray
    spontaneous: np.ndarray

    @property
    def ratio(self) -> np.ndarray:
        """F1/F0 (``maxfirst / maxdc``, spontaneous not subtracted, as in the source)."""
        return self.f1 / self.f0

    @property
    def n(self) -> int:
        return int(self.neuron.size)

    @property
    def fraction_simple(self) -> float:
        """Fraction with F1/F0 > 1 (Skottun et al. 1991's criterion)."""
        return float(np.mean(self.ratio > 1.0))


@lru_cache(maxsize=1)
def _ringach_arrays():
    with resources.files(__package__).joinpath("data/ringach2002_f1f0.npz").open("rb") as fh:
        with np.load(fh, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in ("neuron", "spont", "maxdc", "maxfirst", "source_sha256")}
    for value in arrays.values():
        value.setflags(write=False)
    return arrays


def ringach2002_f1f0(*, min_evoked=None) -> RingachF1F0:
    """The F1/F0 data of Ringach, Shapley & Hawken (2002): 308 macaque V1 neurons.

    Parameters
    ----------
    min_evoked : float, optional
        Keep only neurons with ``f0 > spontaneous + min_evoked`` spikes/s
        (Brain-Score uses 5, which keeps 304); default all 308.

    Returns
    -------
    RingachF1F0
        Fresh arrays (the caller may modify them). ``.ratio`` is F1/F0.

    See Also
    --------
    RINGACH2002 : citation and provenance.
    """
    d = _ringach_arrays()
    keep = np.ones(d["neuron"].size, bool)
    if min_evoked is not None:
        thr = float(min_evoked)
        if not math.isfinite(thr):
            raise ValueError(f"min_evoked must be finite spikes/s, got {min_evoked!r}")
        keep = d["maxdc"] > d["spont"] + thr
    return RingachF1F0(d["neuron"][keep].astype(np.int64), d["maxfirst"][keep].copy(), d["maxdc"][keep].copy(),
                       d["spont"][keep].copy())  # fmt: skip


def bimodality_coefficient(values) -> float:
    """Sarle's bimodality coefficient of a sample (> 5/9 suggests bimodality).

    ``BC = (g^2 + 1) / (k + 3 (n - 1)^2 / ((n - 2)(n - 3)))`` with ``g`` the
    sample skewness and ``k`` the excess kurtosis (both bias-corrected).

    Parameters
    ----------
    values : (n,) array_like
        At least 4 finite values, not all equal.
    """
    from scipy import stats

    x = as_float_array(values, "values", ndim=1, dtype=np.float64)
    n = x.size
    if n < 4 or np.ptp(x) == 0:
        raise ValueError(f"values must hold at least 4 values that are not all equal, got {n}")
    g = stats.skew(x, bias=False)
    k = stats.kurtosis(x, bias=False)
    return float((g * g + 1.0) / (k + 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3))))


def ks_distance(a, b) -> float:
    """Two-sample Kolmogorov-Smirnov distance: the largest gap between the empirical CDFs, in [0, 1]."""
    xa = np.sort(as_float_array(a, "a", ndim=1, dtype=np.float64))
    xb = np.sort(as_float_array(b, "b", ndim=1, dtype=np.float64))
    grid = np.concatenate([xa, xb])
    cdf_a = np.searchsorted(xa, grid, side="right") / xa.size
    cdf_b = np.searchsorted(xb, grid, side="right") / xb.size
    return float(np.abs(cdf_a - cdf_b).max())
