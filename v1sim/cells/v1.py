"""V1 cells: simple (Gabor), complex (energy, max), hypercomplex (end-stopped).

Every receptive field is :func:`v1sim.filters.formulas.gabor` sampled around
the cell's centre; conventions as :mod:`v1sim.cells`. Hubel & Wiesel's
construction from centre-surround units is :mod:`v1sim.cells.hubel_wiesel`.

References
----------
.. [1] Jones JP, Palmer LA (1987). J Neurophysiol 58:1233-1258.
.. [2] Adelson EH, Bergen JR (1985). Spatiotemporal energy models for the
   perception of motion. JOSA A 2:284-299.
.. [3] Fukushima K (1980). Neocognitron. Biol Cybern 36:193-202.
.. [4] Heeger DJ (1992). Half-squaring in responses of cat striate cells.
   Visual Neurosci 9:427-443.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._core.validate import (
    check_allocation,
    check_choice,
    check_finite_float,
    check_in_range,
    check_positive_float,
    check_support,
)
from ..filters import formulas
from .base import N_STDS, Cell, LinearRF, pair_amplitude, square_support

__all__ = ["V1_EXPONENT", "ComplexCell", "HypercomplexCell", "MaxComplexCell", "SimpleCell"]

V1_EXPONENT = 2.0  # half-squaring (Heeger 1992): the default exponent of the Gabor cells and their maps

_ENERGIES = ("amplitude", "squared")


def _energy(raw, energy):
    """Energy of quadrature pairs ``raw[:, 0], raw[:, 1]``: ``sqrt(e^2 + o^2)`` ("amplitude") or ``e^2 + o^2``."""
    e2 = raw[:, 0] ** 2 + raw[:, 1] ** 2
    return np.sqrt(e2) if energy == "amplitude" else e2


def _pair_drive(p, energy):
    """Best drive over grating phase of the quadrature pair ``p[0], p[1]`` (complex projections)."""
    a = pair_amplitude(p[0], p[1])
    return a if energy == "amplitude" else a * a


# ------------------------------------------------------------------ V1: Gabor-based cells


@dataclass(frozen=True, kw_only=True)
class _GaborCell(Cell):
    theta: float = 0.0
    frequency: float = 0.1
    phase: float = 0.0
    bandwidth: float = 1.0
    sigma_x: float | None = None
    sigma_y: float | None = None

    _DEFAULT_EXPONENT = V1_EXPONENT

    def _setup(self):
        object.__setattr__(self, "theta", check_finite_float(self.theta, "theta"))
        check_finite_float(self.phase, "phase")
        self._set(_f=self._cpp(self.frequency, "frequency"))
        default = formulas.gabor_sigma(self._f, check_positive_float(self.bandwidth, "bandwidth"))
        self._set(_sx=default if self.sigma_x is None else self._px(self.sigma_x, "sigma_x"))
        self._set(_sy=default if self.sigma_y is None else self._px(self.sigma_y, "sigma_y"))
        self._set(_half=self._half_width(N_STDS * max(self._sx, self._sy)))
        self._more_setup()

    def _size_argument(self):
        """The envelope's wider sigma if the user gave it, else the frequency (sigma ~ 1 / frequency)."""
        wide = "sigma_x" if self._sx >= self._sy else "sigma_y"
        given = getattr(self, wide)
        if given is not None:
            return wide, given
        name, _ = formulas.gabor_sigma_argument(self._f, self.bandwidth)
        return name, getattr(self, name)

    def _more_setup(self):
        pass

    def _extent(self):
        return self._half, self._half

    def _kernel(self, x, y, phase):
        support = square_support(x, y, self._half)
        return formulas.gabor(x, y, self._f, self.theta, phase, self._sx, self._sy, support)

    @property
    def sigmas(self) -> tuple[float, float]:
        """Envelope standard deviations (across, along the stripes) in pixels."""
        return self._sx, self._sy

    @property
    def rf_radius(self) -> float:
        return 2.0 * max(self._sx, self._sy)


@dataclass(frozen=True, kw_only=True)
class SimpleCell(LinearRF, _GaborCell):
    """V1 simple cell: a Gabor receptive field, then half-squaring.

    ``k = envelope * cos(2 pi f x' + phase)``, DC-free, exactly as
    :func:`v1sim.filters.gabor_kernel`; ``phase=0`` is an even (light-bar)
    detector, ``pi/2`` an odd (edge) one.

    Parameters
    ----------
    theta : float
        Preferred orientation, radians (0: vertical bars / stripes).
    frequency : float
        Carrier frequency, cycles/pixel (cycles/degree with ``ppd``).
    phase : float
        Carrier phase at the centre, radians.
    bandwidth : float
        Spatial-frequency bandwidth in octaves, sets any sigma not given.
    sigma_x, sigma_y : float, optional
        Envelope standard deviations across / along the stripes (pixels, or
        degrees with ``ppd``); a larger ``sigma_y`` elongates the field and
        sharpens orientation tuning.
    center, ppd, background, nonlinearity
        Default nonlinearity: peak 34, spontaneous 0.8 spikes/s, exponent 2.
    """

    def _sample(self, x, y):
        return self._kernel(x, y, self.phase)[None]


@dataclass(frozen=True, kw_only=True)
class ComplexCell(_GaborCell):
    """V1 complex cell, energy model: a quadrature pair of Gabor subunits.

    ``drive = sqrt(e^2 + o^2)`` (``energy="amplitude"``, the default) or
    ``e^2 + o^2`` (``"squared"``), where ``e`` and ``o`` are the responses of
    Gabors of phase ``phase`` and ``phase + pi/2``. With the default
    exponent-2 nonlinearity the rate is proportional to ``e^2 + o^2`` (plus
    spontaneous offset): Adelson & Bergen's energy. The response to a
    drifting grating is nearly constant (F1/F0 << 1).

    Parameters
    ----------
    energy : {"amplitude", "squared"}
    theta, frequency, phase, bandwidth, sigma_x, sigma_y, center, ppd, background, nonlinearity
        As :class:`SimpleCell`.
    """

    energy: str = "amplitude"

    def _more_setup(self):
        check_choice(self.energy, "energy", _ENERGIES)

    def _sample(self, x, y):
        return np.stack([self._kernel(x, y, self.phase), self._kernel(x, y, self.phase + math.pi / 2)])

    def _combine(self, raw):
        return _energy(raw, self.energy)

    def _grating_drive(self, p):
        return _pair_drive(p, self.energy)


@dataclass(frozen=True, kw_only=True)
class MaxComplexCell(_GaborCell):
    """V1 complex cell as a Neocognitron C-cell: the max over positions of simple cells.

    Simple-cell subunits (Gabors of phases ``phase``, ``phase + pi/2`` and
    their sign-reversed twins, i.e. ``max(|e|, |o|)``) sit on a square grid of
    offsets within ``pool_size`` pixels around the centre, ``pool_step``
    apart; the drive is their maximum (position and phase invariance, as
    HMAX's C1 and :func:`v1sim.pooling.pool2d` with ``kind="max"``).

    Parameters
    ----------
    pool_size : float, optional
        Side of the pooling window in pixels (degrees with ``ppd``); default
        one carrier period ``1 / frequency``, which makes the response to a
        drifting grating nearly constant.
    pool_step : float
        Spacing of the subunit grid, pixels (degrees with ``ppd``).
    theta, frequency, phase, bandwidth, sigma_x, sigma_y, center, ppd, background, nonlinearity
        As :class:`SimpleCell`.
    """

    pool_size: float | None = None
    pool_step: float = 1.0

    def _more_setup(self):
        size = 1.0 / self._f if self.pool_size is None else self._px(self.pool_size, "pool_size")
        step = self._px(self.pool_step, "pool_step")
        name = "pool_step" if self.pool_size is None else "pool_size"
        check_support(size / step, name, what=f"a pool of {size:g} px at steps of {step:g} px")  # finite, or refused
        n = int(math.floor(size / step + 1e-9)) + 1
        check_allocation((n, n), np.float64, name, copies=8, what=f"a pool of {n} x {n} subunit positions")
        offs = (np.arange(n) - (n - 1) / 2.0) * step
        ox, oy = np.meshgrid(offs, offs)
        self._set(_offsets=np.stack([ox.ravel(), oy.ravel()], axis=1))
        self._set(_reach=float(offs.max()))

    def _extent(self):
        return self._half + self._reach, self._half + self._reach

    def _size_argument(self):
        if getattr(self, "_reach", 0.0) > getattr(self, "_half", math.inf):  # the pool sets the field
            return ("pool_size", self.pool_size) if self.pool_size is not None else ("pool_step", self.pool_step)
        return super()._size_argument()

    def _n_kernels(self):
        return 2 * len(self._offsets)

    def _sample(self, x, y):
        out = []
        for dx, dy in self._offsets:
            out.append(self._kernel(x - dx, y - dy, self.phase))
            out.append(self._kernel(x - dx, y - dy, self.phase + math.pi / 2))
        return np.stack(out)

    def _combine(self, raw):
        return np.abs(raw).max(axis=1)

    def _grating_drive(self, p):
        return np.abs(p).max(axis=0)


@dataclass(frozen=True, kw_only=True)
class HypercomplexCell(_GaborCell):
    """End-stopped (hypercomplex) cell: a complex cell minus two end-zone complex cells.

    ``drive = E(c) - end_weight * (E(c + d u) + E(c - d u))`` where ``E`` is
    the energy-model :class:`ComplexCell` response (amplitude) at a position,
    ``u = (-sin theta, cos theta)`` the preferred bar's long axis and ``d =
    end_offset``; the nonlinearity rectifies. The end zones share the centre's
    orientation and frequency, so a bar that grows past the centre into the end
    zones is suppressed. With ``end_weight = 0.5`` the inhibition balances the
    excitation for a long bar or full-field grating (rate -> spontaneous).

    Parameters
    ----------
    end_offset : float, optional
        Distance of each end zone from the centre along the long axis, pixels
        (degrees with ``ppd``); default ``4 * sigma_y`` (just beyond the centre's
        +-2 sigma).
    end_weight : float
        Inhibitory weight of each end zone, >= 0.
    energy : {"amplitude", "squared"}
        Complex-cell combination of each zone.
    theta, frequency, phase, bandwidth, sigma_x, sigma_y, center, ppd, background, nonlinearity
        As :class:`SimpleCell` (default exponent 2).

    References
    ----------
    .. [1] Dobbins A, Zucker SW, Cynader MS (1987). Endstopped neurons in the
       visual cortex as a substrate for calculating curvature. Nature 329:438-441.
    """

    end_offset: float | None = None
    end_weight: float = 0.5
    energy: str = "amplitude"

    def _more_setup(self):
        check_choice(self.energy, "energy", _ENERGIES)
        d = 4.0 * self._sy if self.end_offset is None else self._px(self.end_offset, "end_offset")
        self._set(_w_end=check_in_range(self.end_weight, "end_weight", 0.0, math.inf))
        self._set(_d=(-d * math.sin(self.theta), d * math.cos(self.theta)))

    def _extent(self):
        return self._half + abs(self._d[0]), self._half + abs(self._d[1])

    def _size_argument(self):
        reach = max(map(abs, getattr(self, "_d", (0.0,))))  # set after the envelope's half-width
        if self.end_offset is not None and reach > getattr(self, "_half", math.inf):
            return "end_offset", self.end_offset
        return super()._size_argument()

    def _n_kernels(self):
        return 6

    def _sample(self, x, y):
        out = []
        for s in (0.0, 1.0, -1.0):
            dx, dy = s * self._d[0], s * self._d[1]
            out.append(self._kernel(x - dx, y - dy, self.phase))
            out.append(self._kernel(x - dx, y - dy, self.phase + math.pi / 2))
        return np.stack(out)

    def _combine(self, raw):
        ends = _energy(raw[:, 2:4], self.energy) + _energy(raw[:, 4:6], self.energy)
        return _energy(raw[:, 0:2], self.energy) - self._w_end * ends

    def _grating_drive(self, p):  # unit: the centre complex cell's optimal grating
        return _pair_drive(p, self.energy)
