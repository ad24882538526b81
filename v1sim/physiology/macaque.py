"""A VOneNet-style population: Gabor simple and energy complex cells sampled from macaque V1 statistics.

:func:`macaque_population` draws each unit's receptive field from the data
v1sim ships, as VOneNet (Dapello, Marques et al. 2020) does:

* orientation from De Valois, Yund & Hepler (1982a)'s four 45-degree bins
  (:func:`v1sim.biology.devalois1982_orientation`), uniform inside a bin;
* peak spatial frequency from De Valois, Albrecht & Thorell (1982b)'s
  histogram (:func:`devalois1982b_peak_sf`, shipped here), log-uniform inside
  a bin;
* envelope shape ``nx = sigma_x f``, ``ny = sigma_y f`` from Ringach (2002)'s
  joint histogram (:meth:`v1sim.biology.RingachNxNy.sample`);
* spatial phase uniform in [0, 2 pi).

The orientation, frequency and shape draws are independent (VOneNet's
default ``sf_corr=0``). A simple unit half-wave rectifies one Gabor
(:func:`v1sim.filters.formulas.gabor`, DC-free); a complex unit is the energy
``sqrt(q0^2 + q1^2)`` of the Gabor and its quadrature twin (Adelson & Bergen
1985), as VOneNet's ``VOneBlock``. VOneNet's stochastic noise layer is left
out: the responses are the expected rates.

Provenance
----------
``v1sim/data/devalois1982b_peak_sf.npz`` (about 1 KB) holds the eight counts
(139 cells) and nine bin edges in cycles/degree of
``shared/data/v1/vonenet_devalois1982b_peak_sf_hist.csv`` (SHA-256 in
:data:`DEVALOIS1982B`), VOneNet's table (GitHub ``dicarlolab/vonenet``,
``vonenet/params.py``, ``sf_bins``/``sf_dist``) cut at 8 cycles/degree as
VOneNet's default ``sf_max=9`` cuts it (the table's last bin, 8-11.2
cycles/degree with 8 cells, is dropped).

References
----------
.. [1] Dapello J, Marques T, Schrimpf M, Geiger F, Cox DD, DiCarlo JJ (2020).
   Simulating a primary visual cortex at the front of CNNs improves
   robustness to image perturbations. NeurIPS 33 (VOneNet).
.. [2] De Valois RL, Yund EW, Hepler N (1982a). The orientation and direction
   selectivity of cells in macaque visual cortex. Vision Res 22:531-544.
.. [3] De Valois RL, Albrecht DG, Thorell LG (1982b). Spatial frequency
   selectivity of cells in macaque visual cortex. Vision Res 22:545-559.
.. [4] Ringach DL (2002). Spatial structure and symmetry of simple-cell
   receptive fields in macaque primary visual cortex. J Neurophysiol
   88:455-463.
.. [5] Adelson EH, Bergen JR (1985). Spatiotemporal energy models for the
   perception of motion. JOSA A 2:284-299.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._core.validate import (
    as_array,
    as_float_array,
    check_allocation,
    check_in_range,
    check_positive_float,
    check_positive_int,
    check_rng,
)
from ..errors import InputError, InputTypeError
from .population_gratings import grating_projections, kernel_device, project_images
from .units import check_images

__all__ = ["DEVALOIS1982B", "MacaquePopulation", "PeakFrequencyCounts", "devalois1982b_peak_sf", "macaque_population"]

DEVALOIS1982B = {
    "citation": (
        "De Valois RL, Albrecht DG, Thorell LG (1982). Spatial frequency selectivity of cells in macaque visual "
        "cortex. Vision Res 22:545-559."
    ),
    "file": "v1sim/data/devalois1982b_peak_sf.npz",
    "source": "shared/data/v1/vonenet_devalois1982b_peak_sf_hist.csv (VOneNet params.py sf_bins, sf_dist)",
    "source_sha256": "27ef91fad7fc9a9a034ae03fec01397218c0e410fd45b37d2b5dfe8f2d832a51",
    "origin": "GitHub dicarlolab/vonenet, vonenet/params.py, cut at sf_max=9 cycles/degree (VOneNet's default)",
    "n_cells": 139,
    "license": "numbers from a GPL-3.0 repository's data table (no code); reproduced with attribution",
}


@dataclass(frozen=True)
class PeakFrequencyCounts:
    """Peak spatial frequencies of macaque V1 cells in octave-spaced bins (De Valois et al. 1982b, via VOneNet).

    Attributes
    ----------
    edges_cpd : (9,) ndarray of float64
        Bin edges, cycles/degree (0.5 to 8, steps of about half an octave).
    counts : (8,) ndarray of int64
    """

    edges_cpd: np.ndarray
    counts: np.ndarray

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def histogram(self, frequency) -> np.ndarray:
        """Count peak frequencies (cycles/degree) into the same bins: (8,) int64; outside values go to the end bins."""
        f = as_float_array(frequency, "frequency", ndim=1, dtype=np.float64)
        i = np.searchsorted(self.edges_cpd[1:-1], f, side="right")
        return np.bincount(i, minlength=self.counts.size).astype(np.int64)


def devalois1982b_peak_sf() -> PeakFrequencyCounts:
    """Peak spatial frequencies of 139 macaque V1 cells (De Valois, Albrecht & Thorell 1982b), as VOneNet tabulates.

    The mode lies at 2-2.8 cycles/degree, the range spans four octaves.

    See Also
    --------
    DEVALOIS1982B : citation and provenance.
    """
    from ..biology.data import load_shipped  # biology's checksum-checked loader; lazy, biology imports physiology

    d = load_shipped("devalois1982b_peak_sf.npz", DEVALOIS1982B["source_sha256"])
    return PeakFrequencyCounts(d["edges_cpd"].astype(np.float64), d["counts"].astype(np.int64))


class MacaquePopulation:
    """Gabor simple units and energy complex units with given parameters, centred on the image.

    Build one with :func:`macaque_population`. Parameters are per unit,
    arrays of length ``n_units``: ``theta`` (radians; ``theta = 0`` is a
    carrier varying along x, i.e. vertical bars), ``frequency``
    (cycles/degree), ``phase`` (radians), ``nx`` and ``ny`` (envelope SDs
    across and along the bars, in carrier periods), ``simple`` (bool).

    Responses: the contrast image ``(I - 0.5) / 0.5`` is projected on each
    unit's Gabor; a simple unit's drive is that projection, a complex unit's
    the energy ``sqrt(q0^2 + q1^2)`` with the quadrature Gabor. Drives are in
    units of the response to the full-contrast grating at the unit's carrier
    frequency and orientation and its best phase, and ``nonlinearity`` maps
    them to rates (default: ``34 * max(drive, 0)`` spikes/s, VOneNet's ReLU).
    Receptive fields are cut by the image border.
    """

    def __init__(self, *, theta, frequency, phase, nx, ny, simple, ppd, image_size, nonlinearity=None):
        from ..cells import Nonlinearity
        from ..cells.base import pair_amplitude
        from ..filters import formulas

        self.ppd = check_positive_float(ppd, "ppd")
        self.image_size = check_positive_int(image_size, "image_size")
        self.theta, self.frequency, self.phase, self.nx, self.ny = (
            as_float_array(v, name, ndim=1, dtype=np.float64)
            for v, name in ((theta, "theta"), (frequency, "frequency"), (phase, "phase"), (nx, "nx"), (ny, "ny"))
        )
        self.simple = as_array(simple, "simple", "biu").astype(bool)
        self.n_units = self.theta.size
        for name in ("frequency", "phase", "nx", "ny", "simple"):
            if getattr(self, name).shape != (self.n_units,):
                raise InputError(f"{name} must have the length {self.n_units} of theta", argument=name)
        for name in ("frequency", "nx", "ny"):
            if np.any(getattr(self, name) <= 0):
                raise InputError(f"{name} must be > 0", argument=name)
        nyquist = self.ppd / 2.0
        if self.frequency.max() > nyquist:
            raise InputError(
                f"frequency reaches {self.frequency.max():.3g} cycles/degree, above the Nyquist limit "
                f"{nyquist:.3g} of ppd={self.ppd:g}",
                argument="frequency",
            )
        nl = Nonlinearity(threshold=0.0) if nonlinearity is None else nonlinearity
        if not isinstance(nl, Nonlinearity):
            raise InputTypeError(
                f"nonlinearity must be a v1sim.cells.Nonlinearity, got {type(nl).__name__}", argument="nonlinearity"
            )
        self.nonlinearity = nl
        s = self.image_size
        check_allocation((2 * self.n_units, s * s), np.float64, "n_units", what=f"{self.n_units} Gabor kernels")
        y, x = np.mgrid[:s, :s] - (s - 1) / 2.0  # pixels from the image centre, as a cell with center=None
        f = self.frequency / self.ppd  # cycles/pixel
        even, odd, unit = np.empty((self.n_units, s * s)), np.empty((self.n_units, s * s)), np.empty(self.n_units)
        for i in range(self.n_units):
            args = (f[i], self.theta[i])
            sig = (self.nx[i] / f[i], self.ny[i] / f[i])
            even[i] = formulas.gabor(x, y, *args, self.phase[i], *sig).ravel()
            odd[i] = formulas.gabor(x, y, *args, self.phase[i] + math.pi / 2, *sig).ravel()
            # complex projections on the carrier grating: |p| is the best-phase response of one Gabor; the
            # carrier exp(i k (x cos + y sin)) separates into a column and a row factor (2 S exponentials, not S^2)
            along_x = np.exp(2j * math.pi * f[i] * math.cos(self.theta[i]) * x[0])
            along_y = np.exp(2j * math.pi * f[i] * math.sin(self.theta[i]) * y[:, 0])
            p_even = along_y @ (even[i].reshape(s, s) @ along_x)
            p_odd = along_y @ (odd[i].reshape(s, s) @ along_x)
            unit[i] = abs(p_even) if self.simple[i] else pair_amplitude(p_even, p_odd)
        if not np.all(unit > 0):  # a field cut to nothing by the image border
            raise InputError("image_size is too small for the sampled receptive fields", argument="image_size")
        self._even, self._odd, self._unit = even, odd, unit
        # every unit's Gabor, then the complex units' quadrature twins, float32 (K, S, S): the GEMM's operand
        # (transposed view) and the aperture kernel's
        complex_units = np.flatnonzero(~self.simple)
        bank = np.concatenate([even, odd[complex_units]])
        # the envelope's far tails would be float32 subnormals, which slow the GEMM some 30-fold: dropped
        # (below 1e-12 of the row's peak, they change no drive beyond float32 rounding)
        bank[np.abs(bank) < 1e-12 * np.abs(bank).max(axis=1, keepdims=True)] = 0.0
        self._gabors = bank.astype(np.float32).reshape(-1, s, s)
        self._pair = np.full(self.n_units, -1, np.int64)
        self._pair[complex_units] = self.n_units + np.arange(complex_units.size)

    def __repr__(self) -> str:
        k = int(self.simple.sum())
        size = f"image_size={self.image_size}, ppd={self.ppd:g}"
        return f"MacaquePopulation({k} simple + {self.n_units - k} complex, {size})"

    def drives(self, images, units=None) -> np.ndarray:
        """Drives (N, n_units) float64 before the nonlinearity, 1 for the unit's carrier grating at best phase.

        One float32 GEMM of the contrast images against the stacked Gabors (:func:`v1sim.backend.matmul`),
        then the fused rectify/energy read-out (kernel ``gabor_energy``). ``units`` (int array, optional)
        restricts the work to those units: the result is then (N, len(units)).
        """
        x = check_images(images, self.image_size)
        columns, unit, pair = self._columns(units)
        return self._energy(project_images(self._gabors, x, columns), unit, pair)

    def grating_drives(self, theta_deg, cpd, phase, radius_deg, contrast=1.0, units=None) -> np.ndarray:
        """Drives (N, n_units) float64 to centred gratings, without drawing them.

        What ``drives(draw_gratings(...))`` returns for these per-image vectors, up to float32 rounding:
        :func:`~v1sim.physiology.population_gratings.grating_projections` projects two quadrature images per
        grating, whatever its phases, then the read-out of :meth:`drives` follows. Arguments as
        ``grating_projections``; ``units`` as in :meth:`drives`.
        """
        columns, unit, pair = self._columns(units)
        args = (theta_deg, cpd, phase, radius_deg, contrast)
        q = grating_projections(self._gabors, *args, ppd=self.ppd, rows=columns)
        return self._energy(q.astype(np.float32), unit, pair)

    def _columns(self, units):
        """The Gabors of ``units`` (rows of ``_gabors``; None for all), each unit's drive scale, and the read-out's
        column of each unit's quadrature Gabor among them (-1 for a simple unit)."""
        if units is None:
            return None, self._unit, self._pair
        units = np.asarray(units, dtype=np.int64).reshape(-1)
        if units.size and (units.min() < 0 or units.max() >= self.n_units):
            raise InputError(f"units must index the {self.n_units} units", argument="units")
        quad = self._pair[units]
        pair = np.where(quad >= 0, units.size + np.cumsum(quad >= 0) - 1, -1)
        return np.concatenate([units, quad[quad >= 0]]), self._unit[units], pair

    def _energy(self, q, unit, pair) -> np.ndarray:
        from .. import kernels

        out = np.empty((len(q), unit.size))
        kernels.get("gabor_energy", kernel_device(out.size * 64))(q, unit, pair, out)
        return out

    def responses(self, images, units=None) -> np.ndarray:
        """Rates (N, n_units) float64, spikes/s: ``nonlinearity(drives(images))``; (N, len(units)) with ``units``."""
        return self.nonlinearity(self.drives(images, units))

    def grating_responses(self, theta_deg, cpd, phase, radius_deg, contrast=1.0, units=None) -> np.ndarray:
        """Rates (N, n_units) float64 to the gratings :meth:`grating_drives` describes, without drawing them.

        ``nonlinearity(grating_drives(...))``: what ``responses(draw_gratings(...))`` returns, to float32
        rounding. :func:`~v1sim.physiology.measure_properties` calls it in place of drawing its gratings.
        """
        return self.nonlinearity(self.grating_drives(theta_deg, cpd, phase, radius_deg, contrast, units))


def macaque_population(
    n_units, *, ppd, image_size, rng=0, simple_fraction=0.5, max_frequency=None, nonlinearity=None
) -> MacaquePopulation:
    """A VOneNet-style V1 population sampled from macaque statistics (see the module docstring).

    Parameters
    ----------
    n_units : int
        Number of units.
    ppd : float
        Pixels per degree (> 0); must put the highest sampled frequency
        under Nyquist (``ppd >= 2 * max_frequency``, 16 by default).
    image_size : int
        Side of the square images, pixels (field of view ``image_size / ppd`` degrees).
    rng : None, int or numpy.random.Generator
        Seed of the draws; the same seed gives the same population.
    simple_fraction : float
        Share of simple units in [0, 1]; the first ``round(simple_fraction * n_units)``
        units are simple, the rest complex. 0.5, as VOneNet's 128 + 128 channels.
    max_frequency : float, optional
        Drop the histogram bins above this frequency (cycles/degree), as
        VOneNet's ``sf_max``; default keeps all (up to 8).
    nonlinearity : v1sim.cells.Nonlinearity, optional
        Drive to rate; default ``Nonlinearity(threshold=0.0)``: ``34 max(drive, 0)``.

    Returns
    -------
    MacaquePopulation

    Raises
    ------
    InputError
        For a ``ppd`` that puts kept frequencies above Nyquist, a
        ``max_frequency`` below every bin, or bad counts and fractions.
    """
    from ..biology import devalois1982_orientation, ringach2002_nxny

    n = check_positive_int(n_units, "n_units")
    ppd = check_positive_float(ppd, "ppd")
    simple_fraction = check_in_range(simple_fraction, "simple_fraction", 0.0, 1.0)
    gen = check_rng(rng)
    sf = devalois1982b_peak_sf()
    keep = sf.counts.size
    if max_frequency is not None:
        top = check_positive_float(max_frequency, "max_frequency")
        keep = int(np.searchsorted(sf.edges_cpd[1:], top, side="right"))  # bins whose upper edge is <= top
        if keep == 0:
            raise InputError(
                f"max_frequency={top:g} lies below the first bin's upper edge {sf.edges_cpd[1]:g} cycles/degree",
                argument="max_frequency",
            )
    if sf.edges_cpd[keep] > ppd / 2.0:
        raise InputError(
            f"ppd={ppd:g} puts frequencies up to {sf.edges_cpd[keep]:g} cycles/degree above its Nyquist limit "
            f"{ppd / 2:g}; use ppd >= {2 * sf.edges_cpd[keep]:g} or a lower max_frequency",
            argument="ppd",
        )
    check_allocation((2 * n, check_positive_int(image_size, "image_size") ** 2), np.float64, "n_units")
    ori = devalois1982_orientation()
    bins = gen.choice(ori.counts.size, size=n, p=ori.counts / ori.n)
    theta = np.mod(np.radians(ori.centres_deg[bins] + 45.0 * (gen.random(n) - 0.5)), math.pi)
    log_edges = np.log2(sf.edges_cpd[: keep + 1])
    bins = gen.choice(keep, size=n, p=sf.counts[:keep] / sf.counts[:keep].sum())
    frequency = 2.0 ** (log_edges[bins] + np.diff(log_edges)[bins] * gen.random(n))
    nx, ny = ringach2002_nxny().sample(n, rng=gen)
    phase = 2.0 * math.pi * gen.random(n)
    simple = np.arange(n) < round(simple_fraction * n)
    return MacaquePopulation(
        theta=theta,
        frequency=frequency,
        phase=phase,
        nx=nx,
        ny=ny,
        simple=simple,
        ppd=ppd,
        image_size=image_size,
        nonlinearity=nonlinearity,
    )
