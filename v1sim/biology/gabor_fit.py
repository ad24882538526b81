"""Fitting Ringach's (2002) Gabor to receptive fields and filters: :func:`fit_gabor`.

The model is the one Ringach fitted to 93 macaque simple cells, so that a
learned filter and a V1 neuron are described by the same numbers::

    h(x, y) = A exp(-x'^2 / (2 sigma_x^2) - y'^2 / (2 sigma_y^2)) cos(2 pi f x' + phi)
    x' =  (x - x0) cos(theta) + (y - y0) sin(theta)      (across the subregions)
    y' = -(x - x0) sin(theta) + (y - y0) cos(theta)      (along them)

It is not :func:`v1sim.filters.gabor_kernel`: that one builds DC-free filters of
unit volume at the centre of a square; a fit needs the raw product with a free
amplitude and centre. ``nx = sigma_x f`` and ``ny = sigma_y f`` measure the
envelope in carrier periods: nx ~ how many subregions, ny ~ how long they are.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .._core.validate import as_float_array, check_allocation, check_int_pair
from ..errors import InputError

__all__ = ["GaborFit", "fit_gabor", "gabor_model"]

# GaborFit's attributes in gabor_model's parameter order (A, x0, y0, theta, f, phi, sigma_x, sigma_y)
_NAMES = ("amplitude", "x0", "y0", "theta", "frequency", "phase", "sigma_x", "sigma_y")
_FFT_SIZE = 64  # zero-padded spectrum for the starting carrier (1/64 cycle/px resolution)


def _gabor(params, x, y):
    a, x0, y0, theta, f, phi, sx, sy = params
    c, s = np.cos(theta), np.sin(theta)
    xp = (x - x0) * c + (y - y0) * s
    yp = -(x - x0) * s + (y - y0) * c
    return a * np.exp(-0.5 * (xp / sx) ** 2 - 0.5 * (yp / sy) ** 2) * np.cos(2.0 * np.pi * f * xp + phi)


def gabor_model(params, shape) -> np.ndarray:
    """Evaluate Ringach's Gabor with ``params = (A, x0, y0, theta, f, phi, sigma_x, sigma_y)`` on ``shape``.

    Pixel ``(row, col)`` sits at ``(x, y) = (col, row)``; float64 result.

    Parameters
    ----------
    params : (8,) array_like of float
        Finite, with ``sigma_x, sigma_y > 0`` (as ``GaborFit.params(i)`` returns).
    shape : int or (int, int)
        Rows and columns of the result.

    Raises
    ------
    InputError
        For params that are not 8 finite numbers with positive sigmas, or a shape that is not a positive
        integer pair or would not fit in memory.
    InputTypeError
        For params or shape of the wrong type.
    """
    p = as_float_array(params, "params", ndim=1, dtype=np.float64)
    if p.shape != (8,):
        raise InputError(
            f"params must hold 8 values (A, x0, y0, theta, f, phi, sigma_x, sigma_y), got shape {p.shape}",
            argument="params",
        )
    if not (p[6] > 0 and p[7] > 0):
        raise InputError(
            f"params: sigma_x and sigma_y (the last two) must be positive, got {p[6]} and {p[7]}", argument="params"
        )
    rows, cols = check_int_pair(shape, "shape")
    check_allocation((rows, cols), np.float64, "shape", copies=6)  # the grids and the temporaries of _gabor
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float64)
    return _gabor([float(v) for v in p], x, y)


def _residuals(params, x, y, target):
    return _gabor(params, x, y) - target


def _jacobian(params, x, y, target):
    """d residuals / d params, (pixels, 8): analytic, about 4x faster than scipy's finite differences."""
    a, x0, y0, theta, f, phi, sx, sy = params
    c, s = np.cos(theta), np.sin(theta)
    dx, dy = x - x0, y - y0
    xp, yp = dx * c + dy * s, -dx * s + dy * c
    env = np.exp(-0.5 * (xp / sx) ** 2 - 0.5 * (yp / sy) ** 2)
    arg = 2.0 * np.pi * f * xp + phi
    ec, es = env * np.cos(arg), env * np.sin(arg)
    g_xp = -a * (ec * xp / sx**2 + 2.0 * np.pi * f * es)  # d g / d x'
    g_yp = -a * ec * yp / sy**2  # d g / d y'
    return np.stack(
        [
            ec,
            -c * g_xp + s * g_yp,  # x0: x' = (x - x0) c + ..., y' = -(x - x0) s + ...
            -s * g_xp - c * g_yp,  # y0
            yp * g_xp - xp * g_yp,  # theta: d x'/d theta = y', d y'/d theta = -x'
            -a * es * 2.0 * np.pi * xp,  # f
            -a * es,  # phi
            a * ec * xp**2 / sx**3,  # sigma_x
            a * ec * yp**2 / sy**3,  # sigma_y
        ],
        axis=1,
    )


def _starts(k: np.ndarray):
    """Starting points: the carrier at the spectral peak, the envelope from the energy's moments.

    Amplitude and phase come from a linear least-squares fit of ``a cos + b sin`` under that
    envelope, so only the carrier frequency is tried at several values.
    """
    h, w = k.shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    energy = k * k
    total = energy.sum()
    x0, y0 = (energy * x).sum() / total, (energy * y).sum() / total
    n = max(_FFT_SIZE, 2 * max(h, w))
    spectrum = np.abs(np.fft.rfft2(k, s=(n, n)))
    row, col = np.unravel_index(np.argmax(spectrum), spectrum.shape)
    fy = (row if row <= n // 2 else row - n) / n
    fx = col / n
    f_peak, theta = float(np.hypot(fx, fy)), float(np.arctan2(fy, fx))
    c, s = np.cos(theta), np.sin(theta)
    xp = (x - x0) * c + (y - y0) * s
    yp = -(x - x0) * s + (y - y0) * c
    # energy of a Gaussian envelope of SD sigma has SD sigma / sqrt(2)
    sx = max(np.sqrt(2.0 * (energy * xp * xp).sum() / total), 0.5)
    sy = max(np.sqrt(2.0 * (energy * yp * yp).sum() / total), 0.5)
    env = np.exp(-0.5 * (xp / sx) ** 2 - 0.5 * (yp / sy) ** 2).ravel()
    for f in dict.fromkeys((f_peak, 0.7 * f_peak, 1.4 * f_peak, 0.5 / max(sx, 1.0))):
        f = float(np.clip(f, 1e-3, 0.5))
        design = np.stack([env * np.cos(2 * np.pi * f * xp.ravel()), env * np.sin(2 * np.pi * f * xp.ravel())], 1)
        (ca, cb), *_ = np.linalg.lstsq(design, k.ravel(), rcond=None)
        # a cos + b sin = A cos(. + phi) with A = hypot(a, b), phi = atan2(-b, a)
        yield np.array([np.hypot(ca, cb), x0, y0, theta, f, np.arctan2(-cb, ca), sx, sy])


def _canonical(p: np.ndarray) -> np.ndarray:
    """One representative per Gabor: A > 0, theta in [0, pi), phi in (-pi, pi]."""
    a, x0, y0, theta, f, phi, sx, sy = p
    if a < 0:
        a, phi = -a, phi + np.pi
    turns = np.floor(theta / np.pi)  # theta + pi flips x', which cos(2 pi f x' + phi) absorbs as -phi
    theta -= turns * np.pi
    if int(turns) % 2:
        phi = -phi
    phi = np.pi - np.mod(np.pi - phi, 2 * np.pi)
    return np.array([a, x0, y0, theta, f, phi, abs(sx), abs(sy)])


def fit_one(k: np.ndarray) -> tuple[np.ndarray, float]:
    """Best of the least-squares fits from :func:`_starts`; returns canonical params and R^2.

    The fit runs on ``k / max|k|`` and scales the amplitude back, so a field and that field times any
    factor float64 holds (1e-200 .. 1e200) give the same shape parameters and R^2: unscaled, the
    squared energy underflows or overflows (LAPACK errors near 1e+-200) and least_squares' absolute
    tolerances stop early below a peak of about 1e-8. ``k`` must not be all zero (the caller checks).
    """
    from scipy.optimize import least_squares

    scale = float(np.max(np.abs(k)))
    if not scale > 0.0 or not np.isfinite(scale):
        raise ValueError(f"fit_one needs a finite field that is not all zero, got max |k| = {scale}")
    k = k / scale
    h, w = k.shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    x, y, target = x.ravel(), y.ravel(), k.ravel()
    size = float(max(h, w))
    lower = [0.0, -0.5, -0.5, -np.inf, 0.0, -np.inf, 0.25, 0.25]
    upper = [np.inf, w - 0.5, h - 0.5, np.inf, 0.5, np.inf, 2 * size, 2 * size]
    best, best_cost = None, np.inf
    for start in _starts(k):
        start = np.clip(start, np.array(lower) + 1e-9, np.array(upper) - 1e-9)
        result = least_squares(
            _residuals, start, jac=_jacobian, bounds=(lower, upper), args=(x, y, target), x_scale="jac", max_nfev=400
        )
        if result.cost < best_cost:
            best, best_cost = result.x, result.cost
    ss_total = float(((target - target.mean()) ** 2).sum())
    r2 = 1.0 - 2.0 * best_cost / ss_total if ss_total > 0 else 0.0
    best = _canonical(best)
    best[0] *= scale
    return best, r2


@dataclass(frozen=True)
class GaborFit:
    """Ringach's Gabor fitted to each of ``n`` receptive fields; every attribute is an (n,) float64 array.

    Attributes
    ----------
    amplitude : ndarray
        ``A`` (> 0, in the field's units).
    x0, y0 : ndarray
        Envelope centre in pixels (``x`` = column, ``y`` = row).
    theta : ndarray
        Carrier direction in radians, [0, pi); 0: the field varies along x (vertical subregions).
    frequency : ndarray
        Carrier frequency ``f`` in cycles/pixel, [0, 0.5].
    phase : ndarray
        ``phi`` in radians, (-pi, pi]: 0 even (an ON-centre line), +-pi/2 odd (an edge).
    sigma_x, sigma_y : ndarray
        Envelope SDs in pixels across (``x'``) and along (``y'``) the subregions.
    r2 : ndarray
        Fraction of the field's variance the fit explains.
    """

    amplitude: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    theta: np.ndarray
    frequency: np.ndarray
    phase: np.ndarray
    sigma_x: np.ndarray
    sigma_y: np.ndarray
    r2: np.ndarray

    @property
    def nx(self) -> np.ndarray:
        """``sigma_x f``: envelope width across the subregions in carrier periods (Ringach 2002)."""
        return self.sigma_x * self.frequency

    @property
    def ny(self) -> np.ndarray:
        """``sigma_y f``: envelope length along the subregions in carrier periods (Ringach 2002)."""
        return self.sigma_y * self.frequency

    def __len__(self) -> int:
        return int(self.r2.size)

    def params(self, i: int) -> np.ndarray:
        """The 8 parameters of fit ``i`` in :func:`gabor_model`'s order."""
        return np.array([getattr(self, name)[i] for name in _NAMES])

    def select(self, mask) -> GaborFit:
        """The fits where boolean ``mask`` (n,) is true, e.g. ``fits.select(fits.r2 > 0.8)``."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != self.r2.shape:
            raise InputError(f"mask must have shape {self.r2.shape}, got {mask.shape}", argument="mask")
        return GaborFit(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})


def fit_many(kernels: np.ndarray) -> GaborFit:
    rows = [fit_one(k) for k in kernels]
    params = np.array([p for p, _ in rows]).reshape(len(rows), len(_NAMES))
    return GaborFit(
        **{name: params[:, i].copy() for i, name in enumerate(_NAMES)},
        r2=np.array([r for _, r in rows], dtype=np.float64),
    )


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
        raise InputError(f"fields must be at least 3 x 3 pixels, got {a.shape[-2]} x {a.shape[-1]}", argument="fields")
    flat = np.abs(a).reshape(a.shape[0], -1).max(axis=1)
    if np.any(flat == 0):
        raise InputError(
            f"fields must not be all zero; field(s) {np.flatnonzero(flat == 0).tolist()} are", argument="fields"
        )
    return fit_many(a)
