"""Retina: the ON/OFF centre-surround ganglion cell (difference of Gaussians, Croner & Kaplan 1995).

References
----------
.. [1] Croner LJ, Kaplan E (1995). Receptive fields of P and M ganglion cells
   across the primate retina. Vision Res 35:7-24.
.. [2] Rodieck RW (1965). Quantitative analysis of cat retinal ganglion cell
   response to visual stimuli. Vision Res 5:583-601.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._core.validate import check_choice, check_in_range
from ..errors import InputError
from ..filters import formulas
from .base import N_STDS, Cell, LinearRF, Nonlinearity, square_support

__all__ = ["GANGLION_NONLINEARITY", "SURROUND_RATIO", "SURROUND_WEIGHT", "GanglionCell"]

SURROUND_WEIGHT = 0.55  # integrated surround / centre gain, P and M cells (Croner & Kaplan 1995)
SURROUND_RATIO = 6.0  # surround / centre radius, about that of foveal P cells (Croner & Kaplan 1995)
# default of GanglionCell and ganglion_cells: linear-rectified, 20 spikes/s at rest, 100 at the optimal grating
# (an assumption of the right order for tonically firing macaque ganglion cells, not fitted to data)
GANGLION_NONLINEARITY = Nonlinearity(peak=100.0, spontaneous=20.0, exponent=1.0)


@dataclass(frozen=True, kw_only=True)
class GanglionCell(LinearRF, Cell):
    """ON- or OFF-centre retinal ganglion cell with a difference-of-Gaussians field.

    ``k(r) = s [G_c(r) - w G_s(r)]`` with unit-volume Gaussians (unit sum on
    the sampled +-3 sigma_s square, as :func:`v1sim.filters.dog_kernel`), so ``w`` is
    the surround's integrated gain relative to the centre's (0.55 for macaque
    P and M cells, Croner & Kaplan 1995) and ``s = +1`` (ON) or ``-1`` (OFF).
    Radii follow Croner & Kaplan: the Gaussian falls to ``1/e`` at the radius,
    ``G(r) ~ exp(-(r / radius)^2)``, i.e. ``sigma = radius / sqrt(2)``.

    Parameters
    ----------
    polarity : {"on", "off"}
    center_radius : float
        Centre radius in pixels (degrees with ``ppd``); default 2 px.
    surround_radius : float, optional
        Surround radius; default ``SURROUND_RATIO = 6`` times the centre's
        (foveal P cells, e.g. 0.03 and 0.18 deg in Croner & Kaplan's table).
    surround_weight : float
        Integrated surround / centre gain, >= 0.
    center, ppd, background, nonlinearity
        As for every cell; the default nonlinearity is linear-rectified with
        spontaneous 20 and peak 100 spikes/s (an assumption of the right
        order for macaque ganglion cells, which fire tonically at tens of
        spikes/s; not fitted to data).
    """

    polarity: str = "on"
    center_radius: float = 2.0
    surround_radius: float | None = None
    surround_weight: float = SURROUND_WEIGHT

    def __post_init__(self):
        if self.nonlinearity is None:
            object.__setattr__(self, "nonlinearity", GANGLION_NONLINEARITY)
        super().__post_init__()

    def _setup(self):
        self._set(_sign=1.0 if check_choice(self.polarity, "polarity", ("on", "off")) == "on" else -1.0)
        rc = self._px(self.center_radius, "center_radius")
        rs = rc * SURROUND_RATIO if self.surround_radius is None else self._px(self.surround_radius, "surround_radius")
        if rs <= rc:
            raise InputError(
                f"surround_radius must be larger than center_radius, got {rs} <= {rc} pixels",
                argument="surround_radius",
            )
        self._set(_w=check_in_range(self.surround_weight, "surround_weight", 0.0, math.inf))
        self._set(_sc=rc / math.sqrt(2.0), _ss=rs / math.sqrt(2.0))
        self._set(_half=self._half_width(N_STDS * self._ss))

    def _size_argument(self):
        if self.surround_radius is not None:
            return "surround_radius", self.surround_radius
        return "center_radius", self.center_radius

    def _n_kernels(self):
        return 1

    @property
    def sigmas(self) -> tuple[float, float]:
        """Centre and surround standard deviations in pixels."""
        return self._sc, self._ss

    def _extent(self):
        return self._half, self._half

    def _sample(self, x, y):
        return formulas.dog(x, y, self._sc, self._ss, self._w, self._sign, square_support(x, y, self._half))[None]

    @property
    def rf_radius(self) -> float:
        """Radius (pixels) where the profile changes sign: the edge of the centre.

        It is also where a growing spot's response peaks (area summation):
        ``R^2 = 2 ln(sigma_s^2 / (w sigma_c^2)) / (1/sigma_c^2 - 1/sigma_s^2)``.
        """
        sc2, ss2 = self._sc**2, self._ss**2
        ratio = ss2 / (self._w * sc2) if self._w > 0 else math.inf
        if ratio <= 1.0 or not math.isfinite(ratio):
            return float(N_STDS * self._sc)
        return math.sqrt(2.0 * math.log(ratio) / (1.0 / sc2 - 1.0 / ss2))
