"""The texture filter banks: Leung-Malik (LM), Schmid, and the RFS filters behind MR8.

Built as the Oxford VGG reference code builds them (makeLMfilters.m,
makeSfilters.m, makeRFSfilters.m): every filter zero-mean and L1-normalised,
sampled in float64 on a square ``(size, size)`` grid, in the reference's order.
Orientation convention as :mod:`v1sim.filters.formulas`.

References
----------
.. [1] Leung T, Malik J (2001). Representing and recognizing the visual appearance
   of materials using three-dimensional textons. IJCV 43(1):29-44.
.. [2] Schmid C (2001). Constructing models for content-based image retrieval.
   CVPR 2:39-45.
.. [3] Varma M, Zisserman A (2005). A statistical approach to texture
   classification from single images. IJCV 62(1-2):61-81.
.. [4] Oxford VGG filter banks (makeLMfilters.m, makeSfilters.m, makeRFSfilters.m),
   http://www.robots.ox.ac.uk/~vgg/research/texclass/filters.html
"""

from __future__ import annotations

import math

import numpy as np

from .._core.validate import as_float_array, check_choice, check_odd_int
from ..errors import InputError, InputTypeError
from . import formulas
from .banks import FilterBank, make_bank
from .support import half_size

__all__ = ["leung_malik", "mr8", "mr8_responses", "schmid"]

# Leung-Malik basic scales (VGG texclass page; makeLMfilters.m ships the LML set).
LM_SCALES = {
    "LMS": (1.0, math.sqrt(2.0), 2.0, 2.0 * math.sqrt(2.0)),
    "LML": (math.sqrt(2.0), 2.0, 2.0 * math.sqrt(2.0), 4.0),
}
ELONGATION = 3.0  # sigma along the edge / bar = 3 x sigma across it (LM and RFS)
N_ORIENT = 6  # LM and RFS: angles k*pi/6, k = 0..5
RFS_SCALES = (1.0, 2.0, 4.0)
RFS_ISOTROPIC_SIGMA = 10.0
# (sigma, tau) of the 13 Schmid filters, in the order of makeSfilters.m.
SCHMID_PAIRS = (
    (2, 1),
    (4, 1),
    (4, 2),
    (6, 1),
    (6, 2),
    (6, 3),
    (8, 1),
    (8, 2),
    (8, 3),
    (10, 1),
    (10, 2),
    (10, 3),
    (10, 4),
)


# ---------------------------------------------------------------------------- the reference sets
# Each builder returns (list of float64 kernels, list of param dicts); kernels can be
# None where the grid was too small to hold them (make_bank raises, naming ``size``).


def _oriented_set(scales, half: int):
    """Edges (order 1) then bars (order 2), scale-major, 6 orientations each (LM/RFS)."""
    kernels, params = [], []
    x, y = formulas.grid(half)
    for order, kind in ((1, "edge"), (2, "bar")):
        for s in scales:
            for k in range(N_ORIENT):
                # The reference differentiates along its rotated y axis (y up, angle
                # a = k*pi/6): the direction (sin a, cos a) with y up, i.e. (sin a, -cos a)
                # in v1sim's y-down frame, which is theta = a - pi/2.
                theta = math.pi * k / N_ORIENT - math.pi / 2.0
                sx, sy = float(s), ELONGATION * float(s)
                kernels.append(formulas.zero_mean_l1(formulas.gaussian_derivative(x, y, sx, sy, order, theta)))
                params.append({"kind": kind, "order": order, "sigma_x": sx, "sigma_y": sy, "theta": theta})
    return kernels, params


def _isotropic(kind: str, sigma: float, half: int):
    """A zero-mean, L1-normalised Gaussian or LoG, as the reference's ``normalise(fspecial(...))``."""
    sampled = formulas.gaussian if kind == "gaussian" else formulas.laplacian_of_gaussian
    return formulas.zero_mean_l1(sampled(*formulas.grid(half), sigma)), {"kind": kind, "sigma": float(sigma)}


def _lm_set(variant: str, half: int):
    """36 oriented filters, then per basic scale: Gaussian, LoG(s), LoG(3s)."""
    scales = LM_SCALES[variant]
    kernels, params = _oriented_set(scales[:3], half)
    for s in scales:
        for kind, sigma in (("gaussian", s), ("log", s), ("log", 3.0 * s)):
            k, p = _isotropic(kind, sigma, half)
            kernels.append(k)
            params.append(p)
    return kernels, params


def _rfs_set(half: int):
    """The 38 RFS filters: 36 oriented, then Gaussian and LoG at sigma = 10."""
    kernels, params = _oriented_set(RFS_SCALES, half)
    for kind in ("gaussian", "log"):
        k, p = _isotropic(kind, RFS_ISOTROPIC_SIGMA, half)
        kernels.append(k)
        params.append(p)
    return kernels, params


def _schmid_set(half: int):
    """The 13 Schmid filters, zero-mean and L1-normalised."""
    x, y = formulas.grid(half)
    kernels = [formulas.zero_mean_l1(formulas.schmid(x, y, s, t)) for s, t in SCHMID_PAIRS]
    params = [{"kind": "schmid", "sigma": float(s), "tau": float(t)} for s, t in SCHMID_PAIRS]
    return kernels, params


def _mr8_max(responses: np.ndarray, absolute: bool) -> np.ndarray:
    """(..., 38, H, W) -> (..., 8, H, W): max over orientations, then the isotropic two."""
    oriented = responses[..., :36, :, :]
    if absolute:
        oriented = np.abs(oriented)
    lead, (h, w) = responses.shape[:-3], responses.shape[-2:]
    grouped = oriented.reshape(*lead, 6, N_ORIENT, h, w)
    return np.concatenate([grouped.max(axis=-3), responses[..., 36:, :, :]], axis=-3)


def leung_malik(size=49, variant="LMS") -> FilterBank:
    """The Leung-Malik (LM) bank of 48 filters, as the Oxford VGG ``makeLMfilters.m``.

    Order (0-based): 0-17 first-derivative (edge) filters, 18-35 second-derivative
    (bar) filters, each scale-major over 3 scales ``s`` x 6 orientations
    (``sigma_x = s`` across, ``sigma_y = 3 s`` along the edge); then for each of the
    4 basic scales ``s``: Gaussian(s), LoG(s), LoG(3 s). Basic scales: LMS
    ``1, sqrt2, 2, 2 sqrt2``; LML ``sqrt2, 2, 2 sqrt2, 4`` (the oriented filters use
    the first three). The reference's angle ``a = k pi / 6`` rotates the derivative
    axis from *vertical*; ``params["theta"]`` is v1sim's ``a - pi/2``. As in the
    reference, every filter, the Gaussians included, is zero-mean and
    L1-normalised (so the "Gaussians" are Gaussians minus their mean).

    Parameters
    ----------
    size : int
        Odd support in pixels (49 in the reference).
    variant : {"LMS", "LML"}
        Small or large scales.

    Returns
    -------
    FilterBank
        48 kernels of (size, size); ``params`` with ``kind`` in
        {"edge", "bar", "gaussian", "log"} and the sigmas/theta.

    References
    ----------
    .. [1] Leung T, Malik J (2001). IJCV 43(1):29-44.
    """
    size = check_odd_int(size, "size")
    variant = check_choice(variant, "variant", ("LMS", "LML"))
    half_size(size, 0.0, 0.0, count=48)  # refuse a size beyond memory before sampling
    return make_bank(_lm_set(variant, size // 2), variant, size)


def schmid(size=49) -> FilterBank:
    """The 13 rotation-invariant Schmid filters ``cos(pi tau r / sigma) exp(-r^2 / 2 sigma^2)``.

    ``(sigma, tau)`` = (2,1), (4,1), (4,2), (6,1), (6,2), (6,3), (8,1), (8,2),
    (8,3), (10,1), (10,2), (10,3), (10,4), each zero-mean and L1-normalised
    (Oxford VGG ``makeSfilters.m``).

    Parameters
    ----------
    size : int
        Odd support in pixels (49 in the reference).

    Returns
    -------
    FilterBank
        13 kernels of (size, size); ``params`` record ``sigma`` and ``tau``.

    References
    ----------
    .. [1] Schmid C (2001). Constructing models for content-based image retrieval.
       CVPR 2:39-45.
    """
    size = check_odd_int(size, "size")
    half_size(size, 0.0, 0.0, count=len(SCHMID_PAIRS))
    return make_bank(_schmid_set(size // 2), "Schmid", size)


def mr8(size=49) -> FilterBank:
    """The 38 RFS filters from which the MR8 responses are taken (``makeRFSfilters.m``).

    Order (0-based): 0-17 edges, 18-35 bars, each over scales
    ``(sigma_x, sigma_y) = (1, 3), (2, 6), (4, 12)`` x 6 orientations (scale-major,
    orientation convention as :func:`leung_malik`); 36 Gaussian and 37 LoG at
    ``sigma = 10``. All zero-mean and L1-normalised. Reduce the 38 responses to
    8 with :func:`mr8_responses`.

    Parameters
    ----------
    size : int
        Odd support in pixels (49 in the reference).

    Returns
    -------
    FilterBank
        38 kernels of (size, size).

    References
    ----------
    .. [1] Varma M, Zisserman A (2005). IJCV 62(1-2):61-81.
    """
    size = check_odd_int(size, "size")
    half_size(size, 0.0, 0.0, count=38)
    return make_bank(_rfs_set(size // 2), "MR8", size)


def mr8_responses(responses, *, absolute=False) -> np.ndarray:
    """Maximum responses: reduce the 38 RFS responses to the 8 rotation-invariant MR8 ones.

    Parameters
    ----------
    responses : (..., 38, H, W) array_like
        Responses to the :func:`mr8` bank, in its order.
    absolute : bool
        Take the maximum of ``|response|`` over orientations (contrast-polarity
        invariant edges, as some MR8 implementations do) instead of the plain max.

    Returns
    -------
    (..., 8, H, W) ndarray, float32 (float64 kept)
        Max over the 6 orientations for edges at scales 1, 2, 4, then bars at
        scales 1, 2, 4, then the Gaussian and LoG responses unchanged.
    """
    r = as_float_array(responses, "responses")
    if r.ndim < 3 or r.shape[-3] != 38:
        raise InputError(f"responses must have shape (..., 38, H, W), got {r.shape}", argument="responses")
    if not isinstance(absolute, (bool, np.bool_)):
        raise InputTypeError(f"absolute must be a bool, got {absolute!r}", argument="absolute")
    return _mr8_max(r, bool(absolute))
