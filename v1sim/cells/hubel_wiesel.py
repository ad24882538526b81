"""Hubel & Wiesel's construction: a simple cell (line or edge detector) built from centre-surround units.

Every unit's field is :func:`v1sim.filters.formulas.dog` (a
:class:`~v1sim.cells.GanglionCell`) sampled around its position on the row;
conventions as :mod:`v1sim.cells`.

References
----------
.. [1] Hubel DH, Wiesel TN (1962). Receptive fields, binocular interaction and
   functional architecture in the cat's visual cortex. J Physiol 160:106-154.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._core.validate import check_allocation, check_choice, check_finite_float, check_positive_int
from ..errors import InputTypeError
from ..filters import formulas
from .base import PHASES, Cell, square_support
from .retina import SURROUND_WEIGHT, GanglionCell

__all__ = ["HubelWieselCell"]


@dataclass(frozen=True, kw_only=True)
class HubelWieselCell(Cell):
    """A simple cell built from centre-surround units, as Hubel & Wiesel (1962) proposed.

    ``n_subunits`` DoG units (:class:`GanglionCell` fields) sit ``spacing``
    apart on a line through the centre along the long axis ``(-sin theta,
    cos theta)``; the cell sums their rectified drives (``rectify=True``: LGN
    relay cells cannot fire below zero) or their linear drives.

    ``kind`` chooses the detector of the lecture's slides:

    * ``"light-line"``: one row of ON-centre units (responds to a light bar);
    * ``"dark-line"``: one row of OFF-centre units;
    * ``"dark-to-light"``: an OFF row at ``x' = -offset`` beside an ON row at
      ``x' = +offset`` (dark on the left, light on the right for theta=0);
    * ``"light-to-dark"``: the mirror image.

    Parameters
    ----------
    theta : float
        Orientation of the row's normal, radians (0: a vertical row, a
        vertical-line detector, the same convention as :class:`SimpleCell`).
    kind : {"light-line", "dark-line", "dark-to-light", "light-to-dark"}
    n_subunits : int
        Units per row, >= 1.
    spacing : float, optional
        Distance between neighbouring units; default ``center_radius``.
    offset : float, optional
        Half the distance between the ON and OFF rows of an edge detector;
        default ``center_radius``.
    center_radius, surround_radius, surround_weight
        The units' DoG, as :class:`GanglionCell` (pixels, degrees with ``ppd``).
    rectify : bool
        Sum half-wave rectified unit drives (True) or linear ones.
    center, ppd, background, nonlinearity
        Default nonlinearity: peak 34, spontaneous 0.8 spikes/s, exponent 1.
    """

    theta: float = 0.0
    kind: str = "light-line"
    n_subunits: int = 5
    spacing: float | None = None
    offset: float | None = None
    center_radius: float = 2.0
    surround_radius: float | None = None
    surround_weight: float = SURROUND_WEIGHT
    rectify: bool = True

    def _setup(self):
        object.__setattr__(self, "theta", check_finite_float(self.theta, "theta"))
        kind = check_choice(self.kind, "kind", ("light-line", "dark-line", "dark-to-light", "light-to-dark"))
        n = check_positive_int(self.n_subunits, "n_subunits")
        if not isinstance(self.rectify, (bool, np.bool_)):
            raise InputTypeError(f"rectify must be a bool, got {self.rectify!r}", argument="rectify")
        check_allocation(n * 1024, np.uint8, "n_subunits", what=f"n_subunits={n} units (about 1 kB of records each)")
        unit = GanglionCell(
            center_radius=self.center_radius,
            surround_radius=self.surround_radius,
            surround_weight=self.surround_weight,
            ppd=self.ppd,
        )
        self._set(_unit_cell=unit)
        rc = self._px(self.center_radius, "center_radius")
        spacing = rc if self.spacing is None else self._px(self.spacing, "spacing")
        offset = rc if self.offset is None else self._px(self.offset, "offset")
        rows = {
            "light-line": [(0.0, 1.0)],
            "dark-line": [(0.0, -1.0)],
            "dark-to-light": [(-offset, -1.0), (offset, 1.0)],
            "light-to-dark": [(-offset, 1.0), (offset, -1.0)],
        }[kind]
        c, s = math.cos(self.theta), math.sin(self.theta)
        along = (np.arange(n) - (n - 1) / 2.0) * spacing
        self._set(_units=[(xp * c - yp * s, xp * s + yp * c, sign) for xp, sign in rows for yp in along])
        reach_x = max(abs(u[0]) for u in self._units)
        reach_y = max(abs(u[1]) for u in self._units)
        self._set(_ext=(unit._half + reach_x, unit._half + reach_y))

    def _extent(self):
        return self._ext

    def _size_argument(self):
        unit = self._unit_cell
        if max(self._ext) > 2 * unit._half:  # the row of units, not one unit, sets the field
            return ("spacing", self.spacing) if self.spacing is not None else ("n_subunits", self.n_subunits)
        return unit._size_argument()

    def _n_kernels(self):
        return len(self._units)

    def _sample(self, x, y):
        u = self._unit_cell
        return np.stack(
            [
                formulas.dog(x - dx, y - dy, u._sc, u._ss, u._w, sign, square_support(x - dx, y - dy, u._half))
                for dx, dy, sign in self._units
            ]
        )

    def _combine(self, raw):
        return (np.maximum(raw, 0.0) if self.rectify else raw).sum(axis=1)

    def _grating_drive(self, p):
        resp = (p[:, :, None] * np.exp(1j * PHASES)[None, None, :]).real  # (K, F, phases)
        resp = np.maximum(resp, 0.0) if self.rectify else resp
        return resp.sum(axis=0).max(axis=1)

    def receptive_field(self, shape) -> np.ndarray:
        """The linear-equivalent field, the sum of the units' DoGs: (H, W) float64."""
        return self.subunits(shape).sum(axis=0)

    @property
    def rf_radius(self) -> float:
        return float(max(self._ext)) * 2.0 / 3.0
