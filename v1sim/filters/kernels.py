"""Single kernels: Gaussian, difference of Gaussians, Laplacian of Gaussian, Gaussian derivative, Gabor.

Conventions as :mod:`v1sim.filters` (float32 by default, odd square support,
origin at the centre, ``theta`` turning clockwise on screen). The formulas
live in :mod:`v1sim.filters.formulas`; this module validates the arguments,
sizes the support (:mod:`v1sim.filters.support`) and refuses a kernel that
sampled to NaN or to nothing.
"""

from __future__ import annotations

import numpy as np

from .._core.validate import (
    check_choice,
    check_finite_float,
    check_float_dtype,
    check_in_range,
    check_positive_float,
    check_positive_int,
)
from ..errors import InputError
from . import formulas
from .support import N_STDS, half_size, odd_size

__all__ = ["dog_kernel", "gabor_kernel", "gaussian_derivative_kernel", "gaussian_kernel", "log_kernel"]


# ------------------------------------------------------------------ helpers


def finish(kernel: np.ndarray, dtype) -> np.ndarray:
    """``kernel`` as a C-contiguous array of ``dtype`` (the one cast, at the end)."""
    return np.ascontiguousarray(kernel, dtype=dtype)


def _sampled(formula, half: int, *args):
    """``formula`` on :func:`~v1sim.filters.formulas.grid` ``(half)`` with NumPy's warnings off.

    An underflowing sigma is refused by :func:`_usable` next.
    """
    with np.errstate(all="ignore"):
        return formula(*formulas.grid(half), *args)


def _usable(kernel: np.ndarray, sigma_name: str, sigma: float, size: int | None) -> np.ndarray:
    """``kernel``, or an InputError if sampling left NaN/inf (sigma underflowed) or nothing at all.

    One check for every single-kernel constructor: a tiny sigma underflows
    (``sigma**2`` or ``sigma**4`` to 0, then 0/0) and a size-1 zero-mean
    kernel is exactly 0; both would otherwise be returned as silent garbage.
    The all-zero case blames ``size`` when the caller gave one, else the sigma.
    """
    side = kernel.shape[0]
    if not np.isfinite(kernel).all():
        raise InputError(
            f"{sigma_name}={sigma:g} is too small to sample: the {side} x {side} kernel underflows to NaN or "
            f"infinity (its square or fourth power vanishes in float64); use a larger {sigma_name} (one much below "
            "a pixel samples to a single point anyway)",
            argument=sigma_name,
        )
    if not kernel.any():
        arg, why = ("size", f"size={size}") if size is not None else (sigma_name, f"{sigma_name}={sigma:g}")
        raise InputError(
            f"{why}: the sampled {side} x {side} kernel is all zeros (a zero-mean kernel needs more than one "
            f"pixel, and the grid must hold its lobes); increase size or {sigma_name}",
            argument=arg,
        )
    return kernel


def _normalised(kernel: np.ndarray, sigma_name: str, sigma: float, size: int | None) -> np.ndarray:
    """Zero-mean, L1-normalised ``kernel``; refused by :func:`_usable` if nothing is left."""
    _usable(kernel, sigma_name, sigma, size)
    out = formulas.zero_mean_l1(kernel)
    return _usable(np.zeros_like(kernel) if out is None else out, sigma_name, sigma, size)


# ------------------------------------------------------------------ isotropic kernels


def gaussian_kernel(sigma, size=None, *, dtype=np.float32) -> np.ndarray:
    """Isotropic 2-D Gaussian, normalised to sum 1 on the sampled grid.

    Parameters
    ----------
    sigma : float
        Standard deviation in pixels, > 0.
    size : int, optional
        Odd side length in pixels; default ``2 * ceil(3 * sigma) + 1``.
    dtype : {np.float32, np.float64}
        Output dtype.

    Returns
    -------
    kernel : (size, size) ndarray of ``dtype``
        Symmetric, sums to 1.

    Raises
    ------
    InputError
        If the support (``size``, or ``sigma`` through ``2 * ceil(3 * sigma) + 1``) would need more
        memory than the machine has, or ``sigma`` is so small that the kernel underflows to NaN.
    """
    sigma = check_positive_float(sigma, "sigma")
    dtype = check_float_dtype(dtype)
    size = odd_size(size)
    half = half_size(size, sigma, N_STDS)
    return finish(_usable(_sampled(formulas.gaussian, half, sigma), "sigma", sigma, size), dtype)


def dog_kernel(
    sigma_center, sigma_surround, *, surround_weight=1.0, polarity="on", size=None, dtype=np.float32
) -> np.ndarray:
    """Difference-of-Gaussians centre-surround receptive field (retinal ganglion / LGN cell).

    ``k = G(sigma_center) - surround_weight * G(sigma_surround)``, each Gaussian of
    unit volume on the sampled grid (sums to 1), negated for ``polarity="off"``.

    Parameters
    ----------
    sigma_center, sigma_surround : float
        Standard deviations in pixels, ``0 < sigma_center < sigma_surround``.
    surround_weight : float
        Relative strength of the surround, >= 0. 1.0 is balanced: the kernel sums
        to 0 and ignores uniform light; below 1 passes some mean luminance.
    polarity : {"on", "off"}
        ``"on"``: ON-centre / OFF-surround (positive centre); ``"off"``: its negative.
    size : int, optional
        Odd side length; default ``2 * ceil(3 * sigma_surround) + 1``.
    dtype : {np.float32, np.float64}

    Returns
    -------
    kernel : (size, size) ndarray of ``dtype``
        Sums to ``+-(1 - surround_weight)``.

    Raises
    ------
    InputError
        If the support would need more memory than the machine has (``sigma_surround`` or ``size``
        is named), the kernel is all zeros (``size=1`` with a balanced surround) or ``sigma_center``
        underflows to NaN.

    References
    ----------
    .. [1] Rodieck RW (1965). Quantitative analysis of cat retinal ganglion cell
       response to visual stimuli. Vision Res 5:583-601.
    .. [2] Enroth-Cugell C, Robson JG (1966). The contrast sensitivity of retinal
       ganglion cells of the cat. J Physiol 187:517-552.
    """
    sigma_center = check_positive_float(sigma_center, "sigma_center")
    sigma_surround = check_positive_float(sigma_surround, "sigma_surround")
    if sigma_surround <= sigma_center:
        raise InputError(
            f"sigma_surround must be larger than sigma_center ({sigma_center}), got {sigma_surround}",
            argument="sigma_surround",
        )
    dtype = check_float_dtype(dtype)
    # the surround's peak is below 1, so this keeps the kernel finite in dtype
    weight = check_in_range(surround_weight, "surround_weight", 0.0, float(np.finfo(dtype).max))
    sign = 1.0 if check_choice(polarity, "polarity", ("on", "off")) == "on" else -1.0
    size = odd_size(size)
    half = half_size(size, sigma_surround, N_STDS, "sigma_surround")
    k = _sampled(formulas.dog, half, sigma_center, sigma_surround, weight, sign)
    return finish(_usable(k, "sigma_center", sigma_center, size), dtype)


def log_kernel(sigma, size=None, *, n_stds=4.0, dtype=np.float32) -> np.ndarray:
    """Laplacian of Gaussian, zero-mean, with a *negative* centre.

    ``k = G * (r^2 - 2 sigma^2) / sigma^4`` with ``G`` normalised to sum 1 on the
    grid (as MATLAB's ``fspecial('log')``), then its mean is subtracted so that
    the kernel sums to 0. The centre is negative (a bright blob gives a negative
    response; ``-k`` is an ON-centre "Mexican hat"). Multiply by ``sigma**2`` for
    the scale-normalised LoG.

    Parameters
    ----------
    sigma : float
        Standard deviation in pixels, > 0.
    size : int, optional
        Odd side length; default ``2 * ceil(n_stds * sigma) + 1``.
    n_stds : float
        Half-width in standard deviations when ``size`` is None (the LoG's
        tails are heavier than the Gaussian's, hence 4).
    dtype : {np.float32, np.float64}

    Returns
    -------
    kernel : (size, size) ndarray of ``dtype``

    References
    ----------
    .. [1] Marr D, Hildreth E (1980). Theory of edge detection. Proc R Soc Lond B
       207:187-217.

    Raises
    ------
    InputError
        If the support would need more memory than the machine has, the zero-mean kernel is all
        zeros (``size=1``), or ``sigma`` underflows to NaN.
    """
    sigma = check_positive_float(sigma, "sigma")
    n_stds = check_positive_float(n_stds, "n_stds")
    dtype = check_float_dtype(dtype)
    size = odd_size(size)
    half = half_size(size, sigma, n_stds)
    return finish(_usable(_sampled(formulas.laplacian_of_gaussian, half, sigma), "sigma", sigma, size), dtype)


# ------------------------------------------------------------------ oriented kernels


def gaussian_derivative_kernel(
    sigma_x, sigma_y, *, order=1, theta=0.0, n_stds=N_STDS, size=None, dtype=np.float32
) -> np.ndarray:
    """Oriented, elongated derivative of an anisotropic Gaussian (edge or bar detector).

    ``k = d^order G / dx'^order`` with ``G = exp(-x'^2 / 2 sigma_x^2 - y'^2 / 2 sigma_y^2)``,
    then zero-mean and L1-normalised (``sum |k| = 1``), as ``normalise`` in the
    Oxford VGG code. ``order=1`` is odd (edge), ``order=2`` even (bar, negative
    centre). Sign: the mathematical derivative, so under correlation a step
    rising along ``+x'`` gives a *negative* order-1 response (positive under
    convolution).

    Parameters
    ----------
    sigma_x : float
        Standard deviation (pixels) across the edge/bar, along the derivative ``x'``.
    sigma_y : float
        Standard deviation (pixels) along the edge/bar (``y'``); LM uses ``3 * sigma_x``.
    order : {1, 2}
        Derivative order.
    theta : float
        Direction of ``x'`` in radians (module convention); 0 detects
        vertical edges/bars.
    n_stds : float
        Half-width ``ceil(n_stds * max(sigma_x, sigma_y))`` when ``size`` is None.
    size : int, optional
        Odd side length, overriding ``n_stds``.
    dtype : {np.float32, np.float64}

    Returns
    -------
    kernel : (size, size) ndarray of ``dtype``
        Zero-mean, ``sum |k| = 1``; its size does not depend on ``theta``.

    Raises
    ------
    InputError
        If the support would need more memory than the machine has, or nothing is left after
        removing the mean (``size=1``, or a sigma far below a pixel).

    References
    ----------
    .. [1] Young RA (1987). The Gaussian derivative model for spatial vision:
       I. Retinal mechanisms. Spatial Vision 2(4):273-293.
    .. [2] Leung T, Malik J (2001). IJCV 43(1):29-44.
    """
    sigma_x = check_positive_float(sigma_x, "sigma_x")
    sigma_y = check_positive_float(sigma_y, "sigma_y")
    order = check_positive_int(order, "order")
    if order > 2:
        raise InputError(f"order must be 1 (edge) or 2 (bar), got {order}", argument="order")
    theta = check_finite_float(theta, "theta")
    n_stds = check_positive_float(n_stds, "n_stds")
    dtype = check_float_dtype(dtype)
    size = odd_size(size)
    name = "sigma_x" if sigma_x >= sigma_y else "sigma_y"
    half = half_size(size, max(sigma_x, sigma_y), n_stds, name)
    k = _sampled(formulas.gaussian_derivative, half, sigma_x, sigma_y, order, theta)
    small = ("sigma_x", sigma_x) if sigma_x <= sigma_y else ("sigma_y", sigma_y)
    return finish(_normalised(k, *small, size), dtype)


def gabor_kernel(
    frequency,
    *,
    theta=0.0,
    phase=0.0,
    bandwidth=1.0,
    sigma_x=None,
    sigma_y=None,
    n_stds=N_STDS,
    size=None,
    dtype=np.float32,
) -> np.ndarray:
    """Real, DC-free Gabor kernel: Gaussian envelope x ``cos(2 pi f x' + phase)``.

    ``phase=0`` is even (line/bar detector), ``phase=pi/2`` odd (edge detector;
    ``cos(a + pi/2) = -sin(a)``). The envelope has unit volume,
    ``exp(-x'^2/2 sigma_x^2 - y'^2/2 sigma_y^2) / (2 pi sigma_x sigma_y)``, as in
    scikit-image. The DC is removed by subtracting ``c * envelope`` with
    ``c = sum(kernel) / sum(envelope)``: the kernel sums to 0 (a line detector
    ignores uniform light) and keeps its Gaussian fall-off, with no constant
    pedestal at the square border. The odd kernel is already zero-mean (``c ~ 0``).
    At the Nyquist frequency 0.5 the odd kernel at ``theta = 0`` samples
    ``sin(pi x)`` at integers and vanishes.

    Parameters
    ----------
    frequency : float
        Carrier spatial frequency in cycles/pixel, in (0, 0.5].
    theta : float
        Carrier direction in radians (module convention); 0: vertical stripes.
    phase : float
        Carrier phase in radians at the centre.
    bandwidth : float
        Spatial-frequency bandwidth in octaves (> 0), used for any sigma not given:
        ``sigma = sqrt(ln 2 / 2) / (pi f) * (2^b + 1) / (2^b - 1)``.
    sigma_x, sigma_y : float, optional
        Envelope standard deviations in pixels across (``x'``) and along (``y'``)
        the stripes; override ``bandwidth``.
    n_stds : float
        Half-width ``ceil(n_stds * max(sigma_x, sigma_y))`` when ``size`` is None.
    size : int, optional
        Odd side length, overriding ``n_stds``.
    dtype : {np.float32, np.float64}

    Returns
    -------
    kernel : (size, size) ndarray of ``dtype``
        Sums to 0; its size does not depend on ``theta``.

    Raises
    ------
    InputError
        If the support would need more memory than the machine has (a tiny ``frequency`` or
        ``bandwidth`` makes sigma, and the kernel, huge; ``frequency``, the given sigma or ``size``
        is named), the kernel is all zeros (``size=1``) or a given sigma underflows to NaN.

    References
    ----------
    .. [1] Daugman JG (1985). Uncertainty relation for resolution in space, spatial
       frequency, and orientation optimized by two-dimensional visual cortical
       filters. JOSA A 2(7):1160-1169.
    .. [2] Jones JP, Palmer LA (1987). An evaluation of the two-dimensional Gabor
       filter model of simple receptive fields in cat striate cortex.
       J Neurophysiol 58(6):1233-1258.
    """
    frequency = check_in_range(frequency, "frequency", 0.0, 0.5, inclusive=(False, True))
    theta = check_finite_float(theta, "theta")
    phase = check_finite_float(phase, "phase")
    bandwidth = check_positive_float(bandwidth, "bandwidth")
    sx, sy = _gabor_sigmas(frequency, bandwidth, sigma_x, sigma_y)
    n_stds = check_positive_float(n_stds, "n_stds")
    dtype = check_float_dtype(dtype)
    size = odd_size(size)
    # blame the argument that set the envelope: a given sigma, else the frequency (sigma ~ 1 / frequency)
    wide = "sigma_x" if sx >= sy else "sigma_y"
    given = {"sigma_x": sigma_x, "sigma_y": sigma_y}[wide] is not None
    name, value = (wide, max(sx, sy)) if given else formulas.gabor_sigma_argument(frequency, bandwidth)
    half = half_size(size, max(sx, sy), n_stds, name, value=value)
    k = _sampled(formulas.gabor, half, frequency, theta, phase, sx, sy)
    small = ("sigma_x", sx) if sx <= sy else ("sigma_y", sy)
    return finish(_usable(k, *small, size), dtype)


def _gabor_sigmas(frequency: float, bandwidth: float, sigma_x, sigma_y) -> tuple[float, float]:
    default = formulas.gabor_sigma(frequency, bandwidth)
    sx = default if sigma_x is None else check_positive_float(sigma_x, "sigma_x")
    sy = default if sigma_y is None else check_positive_float(sigma_y, "sigma_y")
    return sx, sy
