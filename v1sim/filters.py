"""Linear filters that play simple cells, and the classic texture filter banks.

Kernels are float32 by default (``dtype=np.float64`` is accepted), square and of
odd size, with the origin at the centre ``size // 2``. Units: sizes and sigmas in
pixels, spatial frequency in cycles/pixel, angles in radians.

Orientation (as :mod:`v1sim.stimuli`): ``x`` is the column offset (right) and
``y`` the row offset (down, array order) from the kernel centre; the rotated
axis is ``x' = x cos(theta) + y sin(theta)``. At ``theta = 0`` the carrier or
derivative varies along ``x`` (a detector of vertical lines and edges);
increasing ``theta`` turns ``x'`` towards +y, i.e. clockwise on screen as
``imshow`` draws the kernel; ``theta = pi/2`` gives the transposed kernel.
Kernel size never depends on ``theta``: the half-width is
``ceil(n_stds * max(sigma_x, sigma_y))`` unless ``size`` is given.

Filter banks (:class:`FilterBank`) cross-correlate, as ConvNets do: output
``(H, W)`` per filter, ``W2 = (W1 - F + 2P)/S + 1`` with ``P = (F - 1)/2``,
``S = 1``. ``FilterBank``, the banks and the samplers are defined in the
private module ``v1sim._banks`` and re-exported here.

References
----------
.. [1] Leung T, Malik J (2001). Representing and recognizing the visual appearance
   of materials using three-dimensional textons. IJCV 43(1):29-44.
.. [2] Schmid C (2001). Constructing models for content-based image retrieval.
   CVPR 2:39-45.
.. [3] Varma M, Zisserman A (2005). A statistical approach to texture
   classification from single images. IJCV 62(1-2):61-81.
.. [4] Oxford VGG filter banks, http://www.robots.ox.ac.uk/~vgg/research/texclass/filters.html
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _banks
from ._banks import FilterBank, dog_bank, gabor_bank, leung_malik, mr8, mr8_responses, schmid
from ._core.validate import (
    check_choice,
    check_finite_float,
    check_float_dtype,
    check_in_range,
    check_odd_int,
    check_positive_float,
    check_positive_int,
)
from .errors import InputError, InputTypeError

__all__ = [
    "FilterBank",
    "box_kernel",
    "dog_bank",
    "dog_kernel",
    "edge_kernel",
    "gabor_bank",
    "gabor_kernel",
    "gaussian_derivative_kernel",
    "gaussian_kernel",
    "identity_kernel",
    "leung_malik",
    "log_kernel",
    "mr8",
    "mr8_responses",
    "schmid",
    "sharpen_kernel",
    "shift_kernel",
]


# ------------------------------------------------------------------ helpers


def _finish(kernel: np.ndarray, dtype) -> np.ndarray:
    return np.ascontiguousarray(kernel, dtype=dtype)


def _sampled(sampler, *args):
    """``sampler(*args)`` with NumPy's warnings off: an underflowing sigma is refused by :func:`_usable` next."""
    with np.errstate(all="ignore"):
        return sampler(*args)


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
    out = _banks.zero_mean_l1(kernel)
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
    size = _banks.odd_size(size)
    half = _banks.half_size(size, sigma, 3.0)
    return _finish(_usable(_sampled(_banks.gaussian, sigma, half), "sigma", sigma, size), dtype)


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
    size = _banks.odd_size(size)
    half = _banks.half_size(size, sigma_surround, 3.0, "sigma_surround")
    center = _usable(_sampled(_banks.gaussian, sigma_center, half), "sigma_center", sigma_center, size)
    k = center - weight * _sampled(_banks.gaussian, sigma_surround, half)
    return _finish(_usable(sign * k, "sigma_center", sigma_center, size), dtype)


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
    size = _banks.odd_size(size)
    half = _banks.half_size(size, sigma, n_stds)
    return _finish(_usable(_sampled(_banks.laplacian_of_gaussian, sigma, half), "sigma", sigma, size), dtype)


# ------------------------------------------------------------------ oriented kernels


def gaussian_derivative_kernel(
    sigma_x, sigma_y, *, order=1, theta=0.0, n_stds=3.0, size=None, dtype=np.float32
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
    size = _banks.odd_size(size)
    name = "sigma_x" if sigma_x >= sigma_y else "sigma_y"
    half = _banks.half_size(size, max(sigma_x, sigma_y), n_stds, name)
    k = _sampled(_banks.gaussian_derivative, sigma_x, sigma_y, order, theta, half)
    small = ("sigma_x", sigma_x) if sigma_x <= sigma_y else ("sigma_y", sigma_y)
    return _finish(_normalised(k, *small, size), dtype)


def gabor_kernel(
    frequency,
    *,
    theta=0.0,
    phase=0.0,
    bandwidth=1.0,
    sigma_x=None,
    sigma_y=None,
    n_stds=3.0,
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
    size = _banks.odd_size(size)
    # blame the argument that set the envelope: a given sigma, else the frequency (sigma ~ 1 / frequency)
    wide = "sigma_x" if sx >= sy else "sigma_y"
    given = {"sigma_x": sigma_x, "sigma_y": sigma_y}[wide] is not None
    name, value = (wide, max(sx, sy)) if given else _banks.gabor_sigma_argument(frequency, bandwidth)
    half = _banks.half_size(size, max(sx, sy), n_stds, name, value=value)
    k = _sampled(_banks.gabor, frequency, theta, phase, sx, sy, half)
    small = ("sigma_x", sx) if sx <= sy else ("sigma_y", sy)
    return _finish(_usable(k, *small, size), dtype)


def _gabor_sigmas(frequency: float, bandwidth: float, sigma_x, sigma_y) -> tuple[float, float]:
    default = _banks.gabor_sigma(frequency, bandwidth)
    sx = default if sigma_x is None else check_positive_float(sigma_x, "sigma_x")
    sy = default if sigma_y is None else check_positive_float(sigma_y, "sigma_y")
    return sx, sy


# ------------------------------------------------------------------ the lecture's kernels


def box_kernel(size=3, *, dtype=np.float32) -> np.ndarray:
    """Mean filter: ``ones((size, size)) / size**2`` (the lecture's 3x3 "1/9" blur).

    Returns
    -------
    kernel : (size, size) ndarray of ``dtype``
    """
    size = check_odd_int(size, "size")
    _banks.half_size(size, 0.0, 0.0)  # refuse a size beyond memory before allocating
    return np.full((size, size), 1.0 / (size * size), dtype=check_float_dtype(dtype))


def identity_kernel(size=3, *, dtype=np.float32) -> np.ndarray:
    """A single 1 at the centre: correlation or convolution with it changes nothing.

    Returns
    -------
    kernel : (size, size) ndarray of ``dtype``
    """
    return shift_kernel(0, 0, size, dtype=dtype)


def shift_kernel(dx, dy, size=3, *, dtype=np.float32) -> np.ndarray:
    """A single 1 at offset ``(dx, dy)`` from the centre: a translation.

    The 1 sits at ``kernel[size//2 + dy, size//2 + dx]`` (``dx`` columns to the
    right, ``dy`` rows *down*, array order). Under correlation (ConvNets,
    ``scipy.ndimage.correlate``, :class:`FilterBank`) the output is
    ``out[i, j] = image[i + dy, j + dx]``: the image moves by ``(-dx, -dy)``, so
    the lecture's kernel with a 1 right of the centre (``dx=1``) shifts the image
    LEFT by one pixel. Under convolution it moves by ``(+dx, +dy)``.

    Parameters
    ----------
    dx, dy : int
        Column and row offsets, ``|dx|, |dy| <= size // 2``.
    size : int
        Odd side length.
    dtype : {np.float32, np.float64}

    Returns
    -------
    kernel : (size, size) ndarray of ``dtype``
    """
    size = check_odd_int(size, "size")
    _banks.half_size(size, 0.0, 0.0)
    dtype = check_float_dtype(dtype)
    half = size // 2
    offsets = []
    for value, name in ((dx, "dx"), (dy, "dy")):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise InputTypeError(f"{name} must be an integer, got {value!r}", argument=name)
        if abs(int(value)) > half:
            raise InputError(f"{name} must lie in [-{half}, {half}] for size={size}, got {value}", argument=name)
        offsets.append(int(value))
    k = np.zeros((size, size), dtype=dtype)
    k[half + offsets[1], half + offsets[0]] = 1.0
    return k


def sharpen_kernel(size=3, alpha=1.0, *, dtype=np.float32) -> np.ndarray:
    """Unsharp mask ``identity + alpha * (identity - box)``; ``alpha=1`` is the lecture's ``2 I - box``.

    Parameters
    ----------
    size : int
        Odd side length.
    alpha : float
        Sharpening strength, >= 0 (0 is the identity).
    dtype : {np.float32, np.float64}

    Returns
    -------
    kernel : (size, size) ndarray of ``dtype``
        Sums to 1 (uniform regions are unchanged).

    Raises
    ------
    InputError
        For a ``size`` that is not an odd positive integer, or an ``alpha`` that is negative, non-finite or so
        large that the kernel overflows ``dtype``.
    InputTypeError
        For a ``dtype`` other than float32 or float64.
    """
    size = check_odd_int(size, "size")
    _banks.half_size(size, 0.0, 0.0)
    dtype = check_float_dtype(dtype)
    # the centre tap 1 + alpha (1 - 1/size**2) must be finite in dtype
    alpha = check_in_range(alpha, "alpha", 0.0, float(np.finfo(dtype).max) / 2)
    ident = identity_kernel(size, dtype=np.float64)
    return _finish((1.0 + alpha) * ident - alpha * box_kernel(size, dtype=np.float64), dtype)


def edge_kernel(*, dtype=np.float32) -> np.ndarray:
    """The lecture's 3x3 vertical-edge kernel: three rows of ``[-1, 0, 1]``.

    Under correlation the response is positive where intensity rises to the
    right (``(k * I)[i, j] = sum over rows of I[., j+1] - I[., j-1]``).

    Returns
    -------
    kernel : (3, 3) ndarray of ``dtype``
    """
    return np.tile(np.array([-1.0, 0.0, 1.0], dtype=check_float_dtype(dtype)), (3, 1))
