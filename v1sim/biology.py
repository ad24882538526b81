"""Macaque V1 reference data shipped with v1sim, and statistics to compare models with it.

Data
----
:func:`ringach2002_f1f0`
    The modulation ratio F1/F0 of 308 macaque V1 neurons (Ringach, Shapley &
    Hawken 2002): simple cells above 1, complex cells below, with a dip
    between them (Skottun et al. 1991).
:func:`ringach2002_nxny`
    The shapes of 79 simple-cell receptive fields (Ringach 2002, J
    Neurophysiol): the Gabor envelope's width ``nx`` and length ``ny`` in
    carrier periods, as a 5 x 5 histogram.
:func:`devalois1982_orientation`
    Preferred orientations of 246 macaque V1 cells in four 45-degree bins
    (De Valois, Yund & Hepler 1982): more cells prefer the cardinal
    orientations (the oblique effect).

Receptive fields
----------------
:func:`fit_gabor`
    Fit Ringach's Gabor to receptive fields or learned filters, giving the
    same ``nx``, ``ny``, orientation and frequency that describe V1 cells.

Statistics
----------
:func:`bimodality_coefficient`
    Sarle's coefficient ``(g^2 + 1) / (kurtosis + 3 (n-1)^2 / ((n-2)(n-3)))``;
    above 5/9 (the value of a uniform distribution) suggests two modes.
:func:`ks_distance`
    Two-sample Kolmogorov-Smirnov distance between model and data.

Provenance
----------
``v1sim/data/ringach2002_nxny.npz`` (under 1 KB) holds the 5 x 5 counts and the
log10 bin edges of ``vonenet_ringach2002_nx_ny_joint_hist.csv`` (SHA-256 in
:data:`RINGACH2002_NXNY`): Ringach's (2002) nx/ny joint histogram as
tabulated in VOneNet (GitHub ``dicarlolab/vonenet``, ``vonenet/params.py``,
``n_joint_dist``; Dapello, Marques et al. 2020). The per-cell values were
never published.

``v1sim/data/devalois1982_orientation.npz`` holds the four counts and bin
centres of ``vonenet_devalois1982a_orientation_hist.csv`` (same VOneNet file;
SHA-256 in :data:`DEVALOIS1982`).

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
.. [5] Ringach DL (2002). Spatial structure and symmetry of simple-cell
   receptive fields in macaque primary visual cortex. J Neurophysiol
   88:455-463.
.. [7] De Valois RL, Yund EW, Hepler N (1982). The orientation and direction
   selectivity of cells in macaque visual cortex. Vision Res 22:531-544.
.. [6] Dapello J, Marques T, Schrimpf M, Geiger F, Cox DD, DiCarlo JJ (2020).
   Simulating a primary visual cortex at the front of CNNs improves
   robustness to image perturbations. NeurIPS 33 (VOneNet).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ._gabor_fit import GaborFit, fit_many, gabor_model
from ._core.validate import as_float_array, check_finite_float, check_positive_int, check_rng
from .errors import InputError

__all__ = [
    "DEVALOIS1982", "RINGACH2002", "RINGACH2002_NXNY", "GaborFit", "OrientationCounts", "RingachF1F0",
    "RingachNxNy", "bimodality_coefficient", "devalois1982_orientation", "fit_gabor", "gabor_model", "ks_distance",
    "ringach2002_f1f0", "ringach2002_nxny",
]  # fmt: skip

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


@lru_cache(maxsize=None)
def _shipped(file: str, sha256: str) -> dict:
    """The read-only arrays of ``v1sim/data/<file>``, after checking the source SHA-256 recorded inside it."""
    with resources.files(__package__).joinpath(f"data/{file}").open("rb") as fh:
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
    d = _shipped("ringach2002_f1f0.npz", RINGACH2002["source_sha256"])
    keep = np.ones(d["neuron"].size, bool)
    if min_evoked is not None:
        thr = check_finite_float(min_evoked, "min_evoked")  # any real number of spikes/s; negative keeps all
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
            raise ValueError(f"nx and ny must have the same length, got {x.size} and {y.size}")
        if np.any(x <= 0) or np.any(y <= 0):
            raise ValueError("nx and ny must be > 0 (envelope SD times carrier frequency)")
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
            raise ValueError("nx and ny must hold at least one cell")
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
    and along the subregions, in carrier periods (see :func:`fit_gabor`). Most
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
    d = _shipped("ringach2002_nxny.npz", RINGACH2002_NXNY["source_sha256"])
    return RingachNxNy(10.0 ** d["log10_edges"], d["counts"].astype(np.int64))


def fit_gabor(fields) -> GaborFit:
    """Fit Ringach's (2002) Gabor to receptive fields or filters by least squares.

    ``h(x, y) = A exp(-x'^2/(2 sigma_x^2) - y'^2/(2 sigma_y^2)) cos(2 pi f x' + phi)``
    with ``x'`` across the subregions (along ``theta``) and ``y'`` along them,
    centred at ``(x0, y0)``: the model of the V1 data in :func:`ringach2002_nxny`,
    so ``fit.nx`` and ``fit.ny`` of a learned filter bank fall on the same plane.
    Starts from the spectral peak (carrier) and the energy's moments (envelope),
    tries four carrier frequencies and keeps the best fit (scipy's
    ``least_squares``, bounded: ``f`` in [0, 0.5] cycles/pixel, SDs in
    [0.25, 2 x size] pixels, centre inside the field), with the analytic Jacobian.
    Scale-free: each field is fitted divided by its largest absolute value and
    the amplitude scaled back, so ``fields * c`` (any ``c`` float64 holds, e.g.
    1e-200 to 1e200) gives the same shape parameters and ``r2`` and ``c`` times
    the amplitude. About 40 ms per 16 x 16 field.

    Parameters
    ----------
    fields : (H, W) or (N, H, W) or (N, C, H, W) array_like
        Receptive fields (e.g. spike-triggered averages) or filters; for
        ``C`` channels (a conv layer's weights ``(C_out, C_in, kh, kw)``) the
        channel mean is fitted, the luminance field of an RGB filter.
        At least 3 x 3 pixels; finite; no field may be all zero (it has no
        shape to fit: :class:`~v1sim.errors.InputError`, a ``ValueError``).

    Returns
    -------
    GaborFit
        (N,) arrays (N = 1 for one field): parameters, ``r2`` (variance
        explained) and the properties ``nx``, ``ny``. Low ``r2`` (< 0.5 or so)
        means the field is not Gabor-like and its nx, ny say little.

    See Also
    --------
    gabor_model : evaluate a fit, ``gabor_model(fit.params(i), shape)``.
    v1sim.filters.gabor_kernel : Gabor filters for building cells.

    References
    ----------
    .. [1] Ringach DL (2002). J Neurophysiol 88:455-463.
    .. [2] Jones JP, Palmer LA (1987). The two-dimensional spatial structure of
       simple receptive fields in cat striate cortex. J Neurophysiol 58:1187-1211.
    """
    a = as_float_array(fields, "fields", ndim=(2, 3, 4), dtype=np.float64)
    if a.ndim == 4:
        a = a.mean(axis=1)
    elif a.ndim == 2:
        a = a[None]
    if a.shape[-1] < 3 or a.shape[-2] < 3:
        raise ValueError(f"fields must be at least 3 x 3 pixels, got {a.shape[-2]} x {a.shape[-1]}")
    flat = np.abs(a).reshape(a.shape[0], -1).max(axis=1)
    if np.any(flat == 0):
        raise InputError(f"fields must not be all zero; field(s) {np.flatnonzero(flat == 0).tolist()} are",
                         argument="fields")
    return fit_many(a)


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
    d = _shipped("devalois1982_orientation.npz", DEVALOIS1982["source_sha256"])
    return OrientationCounts(d["centres_deg"].astype(np.float64), d["counts"].astype(np.int64))
