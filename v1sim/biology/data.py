"""Macaque V1 reference data shipped with v1sim (``v1sim/data/``), each with its provenance.

See :mod:`v1sim.biology` for the data sets, where they come from and the references.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from .._core.validate import (
    as_float_array,
    check_finite_float,
    check_positive_int,
    check_rng,
)
from ..errors import InputError

__all__ = [
    "DEVALOIS1982",
    "RINGACH2002",
    "RINGACH2002_NXNY",
    "OrientationCounts",
    "RingachF1F0",
    "RingachNxNy",
    "devalois1982_orientation",
    "ringach2002_f1f0",
    "ringach2002_nxny",
]

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


@cache
def load_shipped(file: str, sha256: str) -> dict:
    """The read-only arrays of ``v1sim/data/<file>``, after checking the source SHA-256 recorded inside it."""
    with resources.files("v1sim").joinpath(f"data/{file}").open("rb") as fh:
        with np.load(fh, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    if str(arrays.pop("source_sha256")) != sha256:
        raise RuntimeError(f"v1sim/data/{file} does not match its recorded source; reinstall v1sim")
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

    Raises
    ------
    InputError
        For a ``min_evoked`` that is not a finite real number (InputTypeError for a non-number).

    See Also
    --------
    RINGACH2002 : citation and provenance.
    """
    d = load_shipped("ringach2002_f1f0.npz", RINGACH2002["source_sha256"])
    keep = np.ones(d["neuron"].size, bool)
    if min_evoked is not None:
        thr = check_finite_float(min_evoked, "min_evoked")  # any real number of spikes/s; negative keeps all
        keep = d["maxdc"] > d["spont"] + thr
    return RingachF1F0(
        d["neuron"][keep].astype(np.int64), d["maxfirst"][keep].copy(), d["maxdc"][keep].copy(), d["spont"][keep].copy()
    )


RINGACH2002_NXNY = {
    "citation": (
        "Ringach DL (2002). Spatial structure and symmetry of simple-cell receptive fields in macaque primary "
        "visual cortex. J Neurophysiol 88:455-463."
    ),
    "file": "v1sim/data/ringach2002_nxny.npz",
    "source": "shared/data/v1/vonenet_ringach2002_nx_ny_joint_hist.csv (VOneNet params.py n_joint_dist)",
    "source_sha256": "64294e107ba6d2f19d7f53626c708a32292e6e8deb721247ba130b2e7603e1b5",
    "origin": "GitHub dicarlolab/vonenet, vonenet/params.py at commit 3c3a0b24a4996dc9339e384bad7b97545c570cbb",
    "n_cells": 79,
    "license": "numbers from a GPL-3.0 repository's data table (no code); reproduced with attribution",
}


@dataclass(frozen=True)
class RingachNxNy:
    """Joint histogram of simple-cell receptive-field shapes in macaque V1 (Ringach 2002).

    Attributes
    ----------
    edges : (6,) ndarray of float64
        Bin edges shared by nx and ny, equal steps in log10 from 0.1 to 10^0.2 ~ 1.58.
    counts : (5, 5) ndarray of int64
        ``counts[i, j]``: cells with nx in bin ``i`` and ny in bin ``j``.
    """

    edges: np.ndarray
    counts: np.ndarray

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def histogram(self, nx, ny) -> np.ndarray:
        """Count model cells into the data's bins: (5, 5) int64, nx along rows.

        Values outside [0.1, 1.58] are counted in the outermost bins, so every
        cell counts (a filter with nx = 2 is "many subregions", as in the last bin).
        """
        x = as_float_array(nx, "nx", ndim=1, dtype=np.float64)
        y = as_float_array(ny, "ny", ndim=1, dtype=np.float64)
        if x.shape != y.shape:
            raise InputError(f"nx and ny must have the same length, got {x.size} and {y.size}", argument="ny")
        if np.any(x <= 0) or np.any(y <= 0):
            raise InputError(
                "nx and ny must be > 0 (envelope SD times carrier frequency)", argument="nx" if np.any(x <= 0) else "ny"
            )
        inner = self.edges[1:-1]
        i, j = np.searchsorted(inner, x, side="right"), np.searchsorted(inner, y, side="right")
        out = np.zeros_like(self.counts)
        np.add.at(out, (i, j), 1)
        return out

    def distance(self, nx, ny) -> float:
        """Total-variation distance between the model's and the data's joint histograms, in [0, 1].

        Half the summed absolute difference of the two normalised histograms:
        0 when the model fills the bins in the data's proportions, 1 when they share no bin.
        """
        model = self.histogram(nx, ny).astype(np.float64)
        if model.sum() == 0:
            raise InputError("nx and ny must hold at least one cell", argument="nx")
        return float(0.5 * np.abs(model / model.sum() - self.counts / self.counts.sum()).sum())

    def sample(self, n, *, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` (nx, ny) pairs: a bin by its count, then log-uniformly inside it (as VOneNet does)."""
        n = check_positive_int(n, "n")
        rng = check_rng(rng)
        p = (self.counts / self.counts.sum()).ravel()
        flat = rng.choice(p.size, size=n, p=p)
        i, j = np.divmod(flat, self.counts.shape[1])
        log_edges = np.log10(self.edges)
        width = np.diff(log_edges)
        nx = 10.0 ** (log_edges[i] + width[i] * rng.random(n))
        ny = 10.0 ** (log_edges[j] + width[j] * rng.random(n))
        return nx, ny


def ringach2002_nxny() -> RingachNxNy:
    """Simple-cell receptive-field shapes in macaque V1: Ringach's (2002) nx/ny joint histogram.

    ``nx = sigma_x f`` and ``ny = sigma_y f`` are the Gabor envelope's SDs across
    and along the subregions, in carrier periods (see :func:`v1sim.biology.fit_gabor`). Most
    of the 79 cells lie near the diagonal with nx < 0.5: few subregions, and
    a fifth are blob-like (both below 0.3), which a bank of one-octave Gabors
    (nx = 0.56) does not produce.

    Returns
    -------
    RingachNxNy
        Fresh arrays; ``.histogram(nx, ny)`` and ``.distance(nx, ny)`` compare a model.

    See Also
    --------
    RINGACH2002_NXNY : citation and provenance.
    """
    d = load_shipped("ringach2002_nxny.npz", RINGACH2002_NXNY["source_sha256"])
    return RingachNxNy(10.0 ** d["log10_edges"], d["counts"].astype(np.int64))


DEVALOIS1982 = {
    "citation": (
        "De Valois RL, Yund EW, Hepler N (1982). The orientation and direction selectivity of cells in macaque "
        "visual cortex. Vision Res 22:531-544."
    ),
    "file": "v1sim/data/devalois1982_orientation.npz",
    "source": "shared/data/v1/vonenet_devalois1982a_orientation_hist.csv (VOneNet params.py)",
    "source_sha256": "41c8c35d8373d5a37f35c201b3c859048aafd1d173d5d3c0e9f73877be7cbdfc",
    "origin": "GitHub dicarlolab/vonenet, vonenet/params.py at commit 3c3a0b24a4996dc9339e384bad7b97545c570cbb",
    "n_cells": 246,
    "license": "numbers from a GPL-3.0 repository's data table (no code); reproduced with attribution",
}


@dataclass(frozen=True)
class OrientationCounts:
    """Preferred orientations of V1 cells in four 45-degree bins centred on 0, 45, 90 and 135 degrees.

    Attributes
    ----------
    centres_deg : (4,) ndarray of float64
    counts : (4,) ndarray of int64

    Notes
    -----
    Which of the two cardinal bins is horizontal differs between the
    packagings of these data (VOneNet's 66, 49, 77, 54 here; Brain-Score's
    earlier table swaps 0 and 90 degrees), so compare the cardinal share,
    which both agree on, rather than the single bins.
    """

    centres_deg: np.ndarray
    counts: np.ndarray

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def cardinal_fraction(self) -> float:
        """Share of cells in the 0- and 90-degree bins (0.5 if orientations were uniform)."""
        return float((self.counts[0] + self.counts[2]) / self.counts.sum())

    def histogram(self, theta) -> np.ndarray:
        """Count orientations ``theta`` (radians, any period-pi convention) into the same four bins: (4,) int64."""
        t = as_float_array(theta, "theta", ndim=1, dtype=np.float64)
        deg = np.mod(np.degrees(t) + 22.5, 180.0)
        return np.bincount(np.minimum((deg // 45.0).astype(np.int64), 3), minlength=4).astype(np.int64)


def devalois1982_orientation() -> OrientationCounts:
    """Preferred orientations of 246 macaque V1 cells (De Valois, Yund & Hepler 1982), as VOneNet tabulates them.

    58% of the cells fall in the two cardinal bins (the oblique effect);
    ``.histogram(fit.theta)`` bins a model population the same way.

    See Also
    --------
    DEVALOIS1982 : citation and provenance.
    """
    d = load_shipped("devalois1982_orientation.npz", DEVALOIS1982["source_sha256"])
    return OrientationCounts(d["centres_deg"].astype(np.float64), d["counts"].astype(np.int64))
