"""Macaque V1 property distributions of Marques, Schrimpf & DiCarlo's (2021) V1 benchmark, with provenance.

Thirteen single-neuron properties, each a histogram over the bins the benchmark scores on (and, for
Ringach et al.'s 2002 database, the per-cell values): :func:`v1_property` loads one, :data:`V1_PROPERTIES`
names them all. The two shipped files are made by :func:`build_shipped` from the CSVs described in
``shared/data/README.md`` (sections 2b and 2c); the package never reads those CSVs at run time.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._core.io import write_reproducible_npz
from .._core.validate import check_choice
from ..errors import InputError, InputTypeError
from ..physiology.population import PROPERTY_NAMES
from .data import load_shipped

__all__ = [
    "MARQUES2020_PROPERTIES",
    "RINGACH2002_ORIENTATION",
    "V1_PROPERTIES",
    "PropertyData",
    "build_shipped",
    "v1_property",
]

#: the 13 properties, in Marques et al.'s order: one list, the one the measurements use
V1_PROPERTIES = PROPERTY_NAMES

_CITATIONS = {
    "DeValois1982a": "De Valois RL, Yund EW, Hepler N (1982). The orientation and direction selectivity of cells "
    "in macaque visual cortex. Vision Res 22:531-544.",
    "DeValois1982b": "De Valois RL, Albrecht DG, Thorell LG (1982). Spatial frequency selectivity of cells in "
    "macaque visual cortex. Vision Res 22:545-559.",
    "Schiller1976c": "Schiller PH, Finlay BL, Volman SF (1976). Quantitative studies of single-cell properties in "
    "monkey striate cortex. III. Spatial frequency. J Neurophysiol 39:1334-1351.",
    "Cavanaugh2002a": "Cavanaugh JR, Bair W, Movshon JA (2002). Nature and interaction of signals from the receptive "
    "field center and surround in macaque V1 neurons. J Neurophysiol 88:2530-2546.",
    "Ringach2002": "Ringach DL, Shapley RM, Hawken MJ (2002). Orientation selectivity in macaque V1: diversity and "
    "laminar dependence. J Neurosci 22(13):5639-5651.",
}

MARQUES2020_PROPERTIES = {
    "citation": "Marques T, Schrimpf M, DiCarlo JJ (2021). Multi-scale hierarchical neural network models that "
    "bridge from single neurons in the primate primary visual cortex to object recognition behavior. "
    "bioRxiv 10.1101/2021.03.01.433495.",
    "file": "v1sim/data/marques2020_properties.npz",
    "source": "shared/data/v1/marques2020_v1_property_histograms.csv",
    "source_sha256": "00155e07e87760efc590466a64d19f4852018e21af4d4b112ef556bba4e870c7",
    "origin": "GitHub tiagogmarques/brainio_contrib, mkgu_packaging/dicarlo/marques/marques_*.py at commit "
    "ce88bec72a8412cef2e9de3f4c69fba22d23cef9 (the histograms behind Brain-Score's Marques2020 benchmarks)",
    "license": "none stated; numbers reproduced for scientific comparison with attribution",
}

RINGACH2002_ORIENTATION = {
    "citation": _CITATIONS["Ringach2002"],
    "file": "v1sim/data/ringach2002_orientation.npz",
    "source": "shared/data/v1/ringach2002_jneurosci_orientation_db.csv (struct db of ringach_2002_db.mat)",
    "source_sha256": "6ba7448d522707a3dc0519fecd338955aedbd07895422a05055165a9d4691805",
    "columns": ("neuron", "spont", "maxdc", "maxfirst", "orivar", "po", "bw"),
    "selection": "responsive cells only: maxdc > spont + 5 spikes/s (304 of 308); orientation_bandwidth also "
    "drops bw > 90 deg (not orientation selective), as Brain-Score's Ringach2002 packaging does",
    "license": "none stated; reproduced for scientific comparison with attribution",
}

_MIN_EVOKED = 5.0  # spikes/s above spontaneous: Brain-Score's RESPONSE_THRESHOLD, for the data and for models
_MAX_BANDWIDTH = 90.0  # deg; a wider half-bandwidth marks a cell that is not orientation selective

# Ringach property -> (column expression, unit, bin edges): Brain-Score's bins for these data.
_RINGACH = {
    "circular_variance": ("orivar", "1 (0 sharp, 1 flat)", np.linspace(0.0, 1.0, 14)),
    "orientation_bandwidth": ("bw", "deg (half-width at 1/sqrt(2) of the peak)", np.linspace(0.0, 90.0, 18)),
    "orthogonal_preferred_ratio": ("po", "ratio", np.linspace(0.0, 1.0, 14)),
    "f1_f0": ("maxfirst/maxdc", "ratio", np.linspace(0.0, 2.0, 11)),
}

# Marques property -> (source paper, unit). Cell groups of one paper are summed, as Marques et al. did.
_MARQUES = {
    "preferred_orientation": ("DeValois1982a", "deg (period 180)"),
    "peak_spatial_frequency": ("DeValois1982b", "cycles/deg"),
    "spatial_frequency_selective": ("Schiller1976c", "0/1 (1: selective)"),
    "spatial_frequency_bandwidth": ("Schiller1976c", "octaves (full width at 1/sqrt(2) of the peak)"),
    "surround_suppression_index": ("Cavanaugh2002a", "index"),
    "strongly_suppressed": ("Cavanaugh2002a", "0/1 (1: suppression > 10%)"),
    "grating_summation_field": ("Cavanaugh2002a", "deg of visual angle (diameter)"),
    "surround_diameter": ("Cavanaugh2002a", "deg of visual angle"),
    "surround_grating_summation_field_ratio": ("Cavanaugh2002a", "ratio"),
}
# The later (ce88bec) DeValois1982a table, "all cells with eccentricity < 5 deg" (n = 385), is the one the
# published benchmark used; the earlier central ~1 deg table (n = 246) is not shipped.
_DEVALOIS1982A_COMMIT = "ce88bec72a84"
# Schiller's 0-100 bandwidth scale is ``100 f_low / f_high``; its first bin [0, 10) is empty and would reach
# infinite octaves, so its open end is put at s = 1 (6.64 octaves). Wider model bandwidths count in it anyway.
_SCHILLER_FLOOR = 1.0


@dataclass(frozen=True)
class PropertyData:
    """The macaque distribution of one V1 property.

    Attributes
    ----------
    name : str
        One of :data:`V1_PROPERTIES`.
    unit : str
        Unit of ``bins`` and ``values``.
    bins : (k + 1,) ndarray of float64
        Increasing, finite bin edges the benchmark scores on.
    counts : (k,) ndarray of int64
        Cells per bin; values outside the edges are counted in the outermost bins.
    values : (n,) ndarray of float64 or None
        Per-cell values where they were published (Ringach et al. 2002), else None.
    source : str
        Citation of the paper the cells come from.
    period : float or None
        180 for orientations (values are wrapped into ``[bins[0], bins[0] + period)``), else None.
    """

    name: str
    unit: str
    bins: np.ndarray
    counts: np.ndarray
    values: np.ndarray | None
    source: str
    period: float | None = None

    @property
    def n(self) -> int:
        """Number of cells."""
        return int(self.counts.sum())

    def wrap(self, values: np.ndarray) -> np.ndarray:
        """``values`` wrapped into ``[bins[0], bins[0] + period)`` for a periodic property, else unchanged."""
        return values if self.period is None else self.bins[0] + np.mod(values - self.bins[0], self.period)

    def median(self) -> float:
        """Median of the cells: of ``values`` when present, else interpolated linearly inside the bin holding it."""
        if self.values is not None:
            return float(np.median(self.values))
        cum = np.concatenate([[0], np.cumsum(self.counts)])
        k = int(np.searchsorted(cum, cum[-1] / 2.0, side="left")) - 1
        k = min(max(k, 0), self.counts.size - 1)
        lo, hi = self.bins[k], self.bins[k + 1]
        frac = (cum[-1] / 2.0 - cum[k]) / self.counts[k] if self.counts[k] else 0.0
        return float(lo + frac * (hi - lo))


def v1_property(name) -> PropertyData:
    """The macaque V1 distribution of property ``name``, as Marques et al. (2021) score models on it.

    Parameters
    ----------
    name : str
        One of :data:`V1_PROPERTIES`.

    Returns
    -------
    PropertyData
        Read-only arrays: ``bins``, ``counts`` and, for the Ringach et al. (2002) properties, ``values``.

    Notes
    -----
    Sources and the choices made in packaging them:

    - ``preferred_orientation``: De Valois, Yund & Hepler (1982a), the later Brain-Score table of all cells
      with eccentricity < 5 deg (110, 83, 100, 92 cells in 45-deg bins centred on 0, 45, 90, 135 deg;
      n = 385), the one the published benchmark used. VOneNet's packaging of the earlier table puts the larger
      cardinal count at 90 deg instead of 0 (see :class:`~v1sim.biology.OrientationCounts`); the cardinal share
      (55% here) is the robust part.
    - ``peak_spatial_frequency``: De Valois, Albrecht & Thorell (1982b), the four groups (simple and complex,
      foveal and parafoveal) summed as Marques et al. did (n = 363), 12 half-octave bins 0.35-22.4 cyc/deg.
    - ``spatial_frequency_selective`` (n = 87) and ``spatial_frequency_bandwidth`` (simple and complex summed,
      n = 73): Schiller, Finlay & Volman (1976). Schiller's bandwidth ``s`` is the ratio of the low to the high
      cut-off frequency (at 1/sqrt(2) of the peak) in percent, so it becomes octaves as ``log2(100 / s)``:
      the 10-wide bins of 0-100 become edges 0, 0.15, ..., 3.32 octaves and 6.64 (the empty s < 10 bin, whose
      open end is put at s = 1; wider bandwidths count in it).
    - the five size properties: Cavanaugh, Bair & Movshon (2002); n = 190 for the suppression index and
      ``strongly_suppressed``, n = 148 (cells suppressed by more than 10%) for the three sizes.
    - ``circular_variance``, ``orientation_bandwidth``, ``orthogonal_preferred_ratio``, ``f1_f0``: Ringach,
      Shapley & Hawken (2002), per cell (``orivar``, ``bw``, ``po``, ``maxfirst / maxdc``), keeping the 304
      responsive cells (``maxdc > spont + 5`` spikes/s); ``orientation_bandwidth`` also drops the cells with
      ``bw > 90`` deg (not orientation selective), leaving 298. Bins are Brain-Score's.

    References
    ----------
    .. [1] Marques T, Schrimpf M, DiCarlo JJ (2021). Multi-scale hierarchical neural network models that bridge
       from single neurons in the primate primary visual cortex to object recognition behavior. bioRxiv.
    .. [2] Ringach DL, Shapley RM, Hawken MJ (2002). J Neurosci 22:5639-5651.
    .. [3] De Valois RL, Yund EW, Hepler N (1982). Vision Res 22:531-544.
    .. [4] De Valois RL, Albrecht DG, Thorell LG (1982). Vision Res 22:545-559.
    .. [5] Schiller PH, Finlay BL, Volman SF (1976). J Neurophysiol 39:1334-1351.
    .. [6] Cavanaugh JR, Bair W, Movshon JA (2002). J Neurophysiol 88:2530-2546.
    """
    name = check_choice(name, "name", V1_PROPERTIES)
    if name in _RINGACH:
        return _ringach_property(name)
    d = load_shipped("marques2020_properties.npz", MARQUES2020_PROPERTIES["source_sha256"])
    paper, unit = _MARQUES[name]
    period = 180.0 if name == "preferred_orientation" else None
    return PropertyData(name, unit, d[f"{name}__bins"], d[f"{name}__counts"], None, _CITATIONS[paper], period)


def _ringach_property(name: str) -> PropertyData:
    d = load_shipped("ringach2002_orientation.npz", RINGACH2002_ORIENTATION["source_sha256"])
    keep = d["maxdc"] > d["spont"] + _MIN_EVOKED
    column, unit, bins = _RINGACH[name]
    values = d["maxfirst"] / d["maxdc"] if name == "f1_f0" else d[column]
    if name == "orientation_bandwidth":
        keep &= d["bw"] <= _MAX_BANDWIDTH
    values = np.array(values[keep], dtype=np.float64)
    bins = bins.copy()  # the module's edges stay writable only here
    counts = np.bincount(bin_index(values, bins), minlength=bins.size - 1).astype(np.int64)
    for arr in (values, counts, bins):
        arr.setflags(write=False)
    return PropertyData(name, unit, bins, counts, values, _CITATIONS["Ringach2002"])


def bin_index(values: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Bin of each value (int64), values beyond the edges in the outermost bins, as Brain-Score clips them.

    Bins are half-open ``[lo, hi)`` except the last, which includes its upper edge (``np.histogram``'s rule).
    """
    return np.clip(np.searchsorted(bins, values, side="right") - 1, 0, bins.size - 2).astype(np.int64)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _marques_arrays(rows: list[dict]) -> dict:
    """Bins and counts per property from the CSV rows, cell groups summed, Schiller's scale in octaves."""
    out = {}
    for name, (paper, _) in _MARQUES.items():
        sel = [r for r in rows if r["source_paper"] == paper and r["property"] == name]
        if name == "preferred_orientation":
            sel = [r for r in sel if r["source_commit"] == _DEVALOIS1982A_COMMIT]
        edges = sorted({float(r["bin_lo"]) for r in sel} | {float(r["bin_hi"]) for r in sel})
        counts = np.zeros(len(edges) - 1, np.int64)
        for r in sel:  # groups share the edges; their counts add
            counts[edges.index(float(r["bin_lo"]))] += int(r["count"])
        bins = np.array(edges, np.float64)
        if name == "spatial_frequency_bandwidth":  # low/high cut-off in percent -> octaves, increasing
            bins[0] = _SCHILLER_FLOOR  # s = 0 would be an infinite edge; that bin is empty in the data
            bins = np.log2(100.0 / bins[::-1])
            counts = counts[::-1]
        out[f"{name}__bins"], out[f"{name}__counts"] = bins, counts
    return out


def build_shipped(src_dir, out_dir=None) -> tuple[Path, Path]:
    """Build ``marques2020_properties.npz`` and ``ringach2002_orientation.npz`` from the shared CSVs.

    Parameters
    ----------
    src_dir : str or os.PathLike
        Folder with ``marques2020_v1_property_histograms.csv`` and ``ringach2002_jneurosci_orientation_db.csv``
        (checked against the SHA-256 in :data:`MARQUES2020_PROPERTIES` and :data:`RINGACH2002_ORIENTATION`).
    out_dir : str or os.PathLike, optional
        Where to write; the package's ``v1sim/data/`` by default.

    Returns
    -------
    (Path, Path)
        The two files, byte-reproducible, each recording its source's SHA-256.
    """
    if not isinstance(src_dir, (str, Path)):
        raise InputTypeError(f"src_dir must be a path, got {type(src_dir).__name__}", argument="src_dir")
    src = Path(src_dir)
    out = Path(__file__).resolve().parent.parent / "data" if out_dir is None else Path(out_dir)
    written = []
    for info in (MARQUES2020_PROPERTIES, RINGACH2002_ORIENTATION):
        path = src / Path(info["source"].split(" ")[0]).name
        if not path.is_file() or _sha256(path) != info["source_sha256"]:
            raise InputError(f"src_dir: {path} is missing or not the recorded source file", argument="src_dir")
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if info is MARQUES2020_PROPERTIES:
            arrays = _marques_arrays(rows)
        else:
            arrays = {c: np.array([float(r[c]) for r in rows]) for c in info["columns"]}
            arrays["neuron"] = arrays["neuron"].astype(np.int64)
        arrays["source_sha256"] = np.array(info["source_sha256"])
        target = out / Path(info["file"]).name
        write_reproducible_npz(target, arrays)
        written.append(target)
    return written[0], written[1]
