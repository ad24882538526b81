"""The linear-nonlinear machinery shared by every cell of :mod:`v1sim.cells`.

:class:`Nonlinearity` (drive to rate), :class:`Cell` (the LN pipeline: units,
centre, cropping, the unit drive) and :class:`LinearRF` (cells with one linear
kernel). Receptive fields are the formulas of :mod:`v1sim.filters.formulas`
sampled at relative coordinates (sub-pixel centres) on the square support of
:func:`square_support`, with the half-width :data:`N_STDS` of the kernels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import optimize

from .._core.validate import (
    as_float_array,
    check_allocation,
    check_finite_float,
    check_in_range,
    check_int_pair,
    check_positive_float,
    check_support,
)
from ..errors import InputError, InputTypeError
from ..filters.support import N_STDS
from ..spikes import PEAK_RATE, SPONTANEOUS_RATE

__all__ = ["N_STDS", "PHASES", "Cell", "LinearRF", "Nonlinearity", "pair_amplitude", "square_support"]

_FREQS = np.geomspace(0.002, 0.5, 97)  # cycles/pixel scanned for the unit drive
PHASES = np.linspace(0.0, 2.0 * np.pi, 64, endpoint=False)  # grating phases scanned for rectified sums
# float64 arrays of the field's pixel count alive while the grating tuning is scanned: the complex
# (pixels, frequencies) exponential, its real argument and the product's temporaries
_TUNING_COPIES = 6 * _FREQS.size


# ------------------------------------------------------------------ nonlinearity


@dataclass(frozen=True)
class Nonlinearity:
    """Rectifying power law from drive (unit: optimal grating) to rate (spikes/s).

    ``rate(g) = peak * [(g - threshold) / (1 - threshold)]_+ ** exponent``:
    half-wave rectification at ``threshold``, an optional expansive power
    (Heeger 1992; ``exponent=2`` is half-squaring), scaled so that the unit
    drive (the optimal full-contrast grating) gives ``peak``. By default the
    threshold is *negative*, derived from the spontaneous rate
    (``rate(0) = spontaneous``), so suppression below the maintained
    discharge is visible, down to 0.

    Parameters
    ----------
    peak : float
        Rate at drive 1, spikes/s (> 0). Default 34 (typical macaque V1).
    spontaneous : float, optional
        Rate at zero drive, spikes/s, in [0, peak). Default 0.8 (typical
        macaque V1) unless ``threshold`` is given (then it stays None).
    exponent : float
        Power (> 0) applied after rectification.
    threshold : float, optional
        Drive below which the cell is silent, < 1; give it *instead of*
        ``spontaneous`` (e.g. 0.1 for an "iceberg" threshold).

    Attributes
    ----------
    cutoff : float
        The effective threshold (derived from ``spontaneous`` unless given).
    rest_rate : float
        ``rate(0)``, spikes/s (``spontaneous``, or what ``threshold`` implies).

    Only the parameter given is stored, so ``dataclasses.replace`` keeps the
    mode (e.g. ``replace(nl, peak=50)`` keeps the spontaneous rate).
    """

    peak: float = PEAK_RATE
    spontaneous: float | None = None
    exponent: float = 1.0
    threshold: float | None = None

    def __post_init__(self):
        peak = check_positive_float(self.peak, "peak")
        n = check_positive_float(self.exponent, "exponent")
        object.__setattr__(self, "peak", peak)
        object.__setattr__(self, "exponent", n)
        if self.threshold is None:
            spont = SPONTANEOUS_RATE if self.spontaneous is None else self.spontaneous
            spont = check_in_range(spont, "spontaneous", 0.0, peak, inclusive=(True, False))
            s = (spont / peak) ** (1.0 / n)
            if not s < 1.0:  # a huge exponent rounds (spont/peak)^(1/n) to 1: the cutoff would divide by 0
                raise InputError(
                    f"exponent={n:g} is too large for spontaneous={spont:g} and peak={peak:g}: "
                    f"the threshold it implies is not finite",
                    argument="exponent",
                )
            object.__setattr__(self, "spontaneous", spont)
            object.__setattr__(self, "_cutoff", -s / (1.0 - s))
        else:
            if self.spontaneous is not None:
                raise InputError(
                    "give spontaneous or threshold, not both (the one fixes the other)", argument="threshold"
                )
            thr = check_in_range(self.threshold, "threshold", -math.inf, 1.0, inclusive=(True, False))
            object.__setattr__(self, "threshold", thr)
            object.__setattr__(self, "_cutoff", thr)

    @property
    def cutoff(self) -> float:
        """Drive at which the rate reaches 0 (the effective threshold)."""
        return self._cutoff

    @property
    def rest_rate(self) -> float:
        """Rate at zero drive, spikes/s."""
        return float(self(0.0))

    def __call__(self, drive) -> np.ndarray:
        """Rates (spikes/s, float64) for drives of any shape."""
        g = np.asarray(drive, dtype=np.float64)
        u = np.maximum((g - self._cutoff) / (1.0 - self._cutoff), 0.0)
        return self.peak * u**self.exponent


# ------------------------------------------------------------------ receptive-field helpers (relative coordinates)


def square_support(x, y, half):
    """1 inside the square support |x|, |y| <= half + 1/2 around a subunit centre, else 0.

    The ``support`` of :mod:`v1sim.filters.formulas`: a field centred on a pixel
    is then exactly the kernel of :mod:`v1sim.filters` of half-width ``half``.
    """
    lim = half + 0.5 + 1e-9
    return ((np.abs(x) <= lim) & (np.abs(y) <= lim)).astype(np.float64)


def pair_amplitude(p_even, p_odd):
    """Max over grating phase of sqrt(e^2 + o^2): the largest singular value of [[Re, -Im]] rows."""
    a, b, c, d = p_even.real, -p_even.imag, p_odd.real, -p_odd.imag
    s = a * a + b * b + c * c + d * d
    det = a * d - b * c
    return np.sqrt(np.maximum((s + np.sqrt(np.maximum(s * s - 4 * det * det, 0.0))) / 2.0, 0.0))


# ------------------------------------------------------------------ the LN cell


@dataclass(frozen=True, kw_only=True)
class Cell:
    """Base of every cell: units, centre, cropping, the LN pipeline.

    Subclasses define ``_setup()`` (validate, derive pixel parameters),
    ``_extent()`` (half-sizes of the support around the centre, px),
    ``_sample(x, y)`` -> (K, h, w) subunit kernels at relative coordinates,
    ``_combine(raw)`` (T, K) -> (T,), and ``_grating_drive(P)``: the
    combination's best drive over grating phase, from the subunits' complex
    grating projections ``P`` (K, F) (``Re(P e^{i phi})`` is each subunit's
    response to ``cos(2 pi f x' + phi)``). Every combination maps zero input to
    zero drive, so the rate at the background is ``nonlinearity(0)``.
    """

    center: tuple | None = None
    ppd: float | None = None
    background: float = 0.5
    nonlinearity: Nonlinearity | None = None
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    _DEFAULT_EXPONENT = 1.0
    theta = 0.0  # preferred orientation in radians; a field of the oriented cells

    def __post_init__(self):
        if self.ppd is not None:
            object.__setattr__(self, "ppd", check_positive_float(self.ppd, "ppd"))
        check_in_range(self.background, "background", 0.0, 1.0, inclusive=(False, True))
        if self.center is not None:
            items = tuple(self.center) if np.ndim(self.center) == 1 else ()
            if len(items) != 2:
                raise InputError(f"center must be None or a pair (x, y), got {self.center!r}", argument="center")
            object.__setattr__(self, "center", tuple(check_finite_float(v, "center") for v in items))
        nl = self.nonlinearity
        if nl is None:
            nl = Nonlinearity(exponent=self._DEFAULT_EXPONENT)
        elif not isinstance(nl, Nonlinearity):
            raise InputTypeError(
                f"nonlinearity must be a v1sim.cells.Nonlinearity, got {type(nl).__name__}", argument="nonlinearity"
            )
        object.__setattr__(self, "nonlinearity", nl)
        self._setup()
        self._check_extent()

    def _set(self, **values):
        for name, value in values.items():
            object.__setattr__(self, name, value)

    # -- units
    def _px(self, value, name):
        v = check_positive_float(value, name)
        return v if self.ppd is None else v * self.ppd

    def _cpp(self, value, name):
        f = check_positive_float(value, name)
        f = f if self.ppd is None else f / self.ppd
        if f > 0.5:
            raise InputError(
                f"{name} must be at most the Nyquist limit 0.5 cycles/pixel, got {f:.4g} cycles/pixel", argument=name
            )
        return f

    # -- sizes: refused at construction, before the first response samples the field
    def _size_argument(self) -> tuple[str, float]:
        """The user's argument (name, value) that sets the receptive field's extent, blamed if it is too big."""
        raise NotImplementedError

    def _n_kernels(self) -> int:
        """How many subunit kernels :meth:`_sample` returns."""
        return 4

    def _half_width(self, extent: float) -> int:
        """``ceil(extent)`` for a support computed in ``_setup``, refused if it overflowed to infinity."""
        name, value = self._size_argument()
        return check_support(extent, name, what=f"{type(self).__name__} with {name}={value:g}")

    def _check_extent(self) -> None:
        """Refuse a cell whose field (a huge sigma, a tiny frequency) would not fit in memory once sampled."""
        name, value = self._size_argument()
        rx, ry = (self._half_width(r) for r in self._extent())
        h, w = 2 * ry + 1, 2 * rx + 1
        check_allocation(
            (h, w),
            np.float64,
            name,
            copies=_TUNING_COPIES + 2 * self._n_kernels(),
            what=f"{type(self).__name__} with {name}={value:g} has a receptive field of {h} x {w} pixels",
        )

    def center_in(self, shape) -> tuple[float, float]:
        """The receptive-field centre ``(x, y)`` in pixels for images of ``shape`` (H, W)."""
        h, w = check_int_pair(shape, "shape")
        if self.center is None:
            return (w - 1) / 2.0, (h - 1) / 2.0
        cx, cy = self.center
        return (cx, cy) if self.ppd is None else (cx * self.ppd, cy * self.ppd)

    def _setup(self):
        raise NotImplementedError

    # -- tuning of the combination to gratings (unit drive, preferred frequency)
    @cached_property
    def _tuning(self) -> tuple[float, float]:
        rx, ry = (math.ceil(r) for r in self._extent())  # finite and bounded: checked at construction
        xs, ys = np.arange(-rx, rx + 1.0), np.arange(-ry, ry + 1.0)
        x, y = np.meshgrid(xs, ys)
        k = self._sample(x, y).reshape(-1, x.size)
        xr = (x * math.cos(self.theta) + y * math.sin(self.theta)).ravel()

        def drive(freqs):
            return self._grating_drive(k @ np.exp(2j * math.pi * np.outer(xr, np.atleast_1d(freqs))))

        grid = drive(_FREQS)
        i = int(np.argmax(grid))
        lo, hi = _FREQS[max(i - 1, 0)], _FREQS[min(i + 1, _FREQS.size - 1)]
        res = optimize.minimize_scalar(
            lambda f: -float(drive(f)[0]), bounds=(lo, hi), method="bounded", options={"xatol": 1e-7}
        )
        f_best, unit = (float(res.x), -float(res.fun)) if -res.fun >= grid[i] else (float(_FREQS[i]), float(grid[i]))
        if not unit > 0:
            raise InputError(
                f"{type(self).__name__} does not respond to any grating; check its parameters",
                argument=type(self).__name__,
            )
        return unit, f_best

    @property
    def unit_drive(self) -> float:
        """Raw drive (kernels x contrast, combined) of the optimal full-contrast sine grating."""
        return self._tuning[0]

    @property
    def preferred_frequency(self) -> float:
        """Spatial frequency of the optimal grating, cycles/pixel (cycles/degree with ``ppd``)."""
        f = self._tuning[1]
        return f if self.ppd is None else f * self.ppd

    @property
    def preferred_orientation(self) -> float:
        """Preferred orientation ``theta`` in radians (0 for unoriented cells)."""
        return float(self.theta)

    @property
    def spontaneous_rate(self) -> float:
        """Rate to the uniform background (zero contrast), spikes/s."""
        return float(self.nonlinearity(0.0))

    @property
    def rf_radius(self) -> float:
        """A receptive-field radius in pixels (protocols size their default stimuli by it)."""
        return float(max(self._extent())) * 2.0 / 3.0

    # -- the LN pipeline
    def _box(self, shape):
        """Subunit kernels (K, h, w) on the pixel box around the centre, and the box corner (y0, x0)."""
        if shape not in self._cache:
            cx, cy = self.center_in(shape)
            rx, ry = self._extent()
            x0, x1 = math.floor(cx - rx + 1e-9), math.ceil(cx + rx - 1e-9)
            y0, y1 = math.floor(cy - ry + 1e-9), math.ceil(cy + ry - 1e-9)
            x, y = np.meshgrid(np.arange(x0, x1 + 1) - cx, np.arange(y0, y1 + 1) - cy)
            if len(self._cache) >= 8:
                self._cache.clear()
            self._cache[shape] = (np.ascontiguousarray(self._sample(x, y)), (y0, x0))
        return self._cache[shape]

    @staticmethod
    def _overlap(y0, x0, h, w, shape):
        """Slices (box, image) of the part of the box inside the image, or None."""
        ya, yb, xa, xb = max(y0, 0), min(y0 + h, shape[0]), max(x0, 0), min(x0 + w, shape[1])
        if yb <= ya or xb <= xa:
            return None
        return (slice(ya - y0, yb - y0), slice(xa - x0, xb - x0)), (slice(ya, yb), slice(xa, xb))

    def _contrast(self, stimulus):
        arr = as_float_array(stimulus, "stimulus", ndim=(2, 3))
        frames = arr[None] if arr.ndim == 2 else arr
        return (frames.astype(np.float64) - self.background) / self.background, arr.ndim == 2

    def _raw(self, c):
        k, (y0, x0) = self._box(c.shape[1:])
        n_k, h, w = k.shape
        crop = np.zeros((c.shape[0], h, w))
        where = self._overlap(y0, x0, h, w, c.shape[1:])
        if where is not None:
            crop[(slice(None),) + where[0]] = c[(slice(None),) + where[1]]
        return crop.reshape(c.shape[0], -1) @ k.reshape(n_k, -1).T

    def raw_drives(self, stimulus) -> np.ndarray:
        """Linear responses of every subunit to contrast: (T, K) float64, not normalised.

        Parameters
        ----------
        stimulus : (H, W) or (T, H, W) array_like
            Luminance image or movie (frames may also be unrelated images).
        """
        return self._raw(self._contrast(stimulus)[0])

    def drive(self, stimulus):
        """Scalar drive per frame, in units of the optimal grating's drive.

        Parameters
        ----------
        stimulus : (H, W) or (T, H, W) array_like
            Luminance in [0, 1] (mean grey = ``background``).

        Returns
        -------
        float, or (T,) ndarray of float64
        """
        c, single = self._contrast(stimulus)
        g = self._combine(self._raw(c)) / self.unit_drive
        return float(g[0]) if single else g

    def response(self, stimulus):
        """Firing rate in spikes/s: ``nonlinearity(drive(stimulus))``.

        Parameters
        ----------
        stimulus : (H, W) or (T, H, W) array_like
            An image gives one rate (float); a movie or a stack of images one
            rate per frame ((T,) float64). There is no temporal filtering:
            each frame is seen on its own.
        """
        g = self.drive(stimulus)
        r = self.nonlinearity(g)
        return float(r) if np.ndim(g) == 0 else r

    def subunits(self, shape) -> np.ndarray:
        """The subunit kernels on the full image grid, divided by the unit drive: (K, H, W) float64."""
        shape = check_int_pair(shape, "shape")
        k, (y0, x0) = self._box(shape)
        out = np.zeros((k.shape[0],) + shape)
        where = self._overlap(y0, x0, k.shape[1], k.shape[2], shape)
        if where is not None:
            out[(slice(None),) + where[1]] = k[(slice(None),) + where[0]]
        return out / self.unit_drive

    def subunit_centres(self, shape) -> list[tuple[float, float, float]]:
        """``(dx, dy, sign)`` per subunit: the peak of its kernel relative to the image centre, and its sign.

        For drawing constructions (Hubel & Wiesel's row of centre-surround units).
        """
        shape = check_int_pair(shape, "shape")
        out = []
        for k in self.subunits(shape):
            y, x = np.unravel_index(np.argmax(np.abs(k)), k.shape)
            out.append((x - (shape[1] - 1) / 2, y - (shape[0] - 1) / 2, float(np.sign(k[y, x]))))
        return out


class LinearRF:
    """Mixin for cells with one linear kernel: the receptive field is that kernel."""

    def _combine(self, raw):
        return raw[:, 0]

    def _grating_drive(self, p):
        return np.abs(p[0])

    def receptive_field(self, shape) -> np.ndarray:
        """The linear receptive field on the image grid, (H, W) float64, in drive per unit contrast."""
        return self.subunits(shape)[0]
