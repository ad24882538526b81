"""The formulas of the receptive fields, in one place: Gaussian, DoG, LoG, Gaussian derivative, Gabor, Schmid.

Every function samples a formula at given coordinates (float64 arrays of any
shape) and does not validate: the public functions of :mod:`v1sim.filters`
and :mod:`v1sim.cells` check their inputs at the edge. The kernels sample them
on the square grid of :func:`grid`; the cells at sub-pixel offsets from their
centre, multiplied by a ``support`` mask (1 inside the kernel's square, 0
outside) before normalising, so a cell whose centre falls on a pixel sees
exactly the kernel of :mod:`v1sim.filters`.

Grid convention (the same as :mod:`v1sim.stimuli`): ``x`` is the column offset
(right) and ``y`` the row offset (*down*, array order) from the centre. The
rotated frame is ``x' = x cos(theta) + y sin(theta)``,
``y' = -x sin(theta) + y cos(theta)``: ``theta = 0`` makes a carrier or
derivative vary along ``x``, and ``theta`` turns clockwise on screen as
``imshow`` draws the array (towards increasing row index).

The arithmetic of each formula is written once and kept as it is (e.g.
``sigma**2`` in the Gabor envelope, ``sigma * sigma`` elsewhere): the two
differ in the last bit for about 0.1% of float64 sigmas, and the kernels of
:mod:`v1sim.filters` are reproduced bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "dog",
    "gabor",
    "gabor_sigma",
    "gabor_sigma_argument",
    "gaussian",
    "gaussian_derivative",
    "grid",
    "laplacian_of_gaussian",
    "rotate",
    "schmid",
    "zero_mean_l1",
]


def grid(half: int) -> tuple[np.ndarray, np.ndarray]:
    """``x`` (column, right) and ``y`` (row, down) offsets, each (2h+1, 2h+1) float64."""
    r = np.arange(-half, half + 1, dtype=np.float64)
    return np.meshgrid(r, r)


def rotate(x, y, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates ``(x', y')`` of the frame rotated by ``theta`` (from +x towards +y)."""
    c, s = math.cos(theta), math.sin(theta)
    return x * c + y * s, -x * s + y * c


def gaussian(x, y, sigma: float, support=None) -> np.ndarray:
    """Isotropic Gaussian ``exp(-r^2 / 2 sigma^2)`` (times ``support``), normalised to sum 1 on the samples."""
    g = np.exp(-(x * x + y * y) / (2.0 * sigma * sigma))
    if support is not None:
        g = g * support
    return g / g.sum()


def dog(x, y, sigma_center: float, sigma_surround: float, weight: float, sign: float = 1.0, support=None) -> np.ndarray:
    """Difference of Gaussians ``sign * (G_c - weight * G_s)``, each Gaussian of unit sum on the samples."""
    return sign * (gaussian(x, y, sigma_center, support) - weight * gaussian(x, y, sigma_surround, support))


def laplacian_of_gaussian(x, y, sigma: float) -> np.ndarray:
    """Zero-mean LoG (negative centre): sum-1 Gaussian times ``(r^2 - 2 sigma^2) / sigma^4``, minus its mean."""
    r2 = x * x + y * y
    k = gaussian(x, y, sigma) * (r2 - 2.0 * sigma * sigma) / sigma**4
    return k - k.mean()


def gaussian_derivative(x, y, sigma_x: float, sigma_y: float, order: int, theta: float) -> np.ndarray:
    """``d^order/dx'^order`` of the anisotropic Gaussian ``exp(-x'^2/2 sigma_x^2 - y'^2/2 sigma_y^2)``, raw."""
    xr, yr = rotate(x, y, theta)
    vx = sigma_x * sigma_x
    g = np.exp(-xr * xr / (2.0 * vx) - yr * yr / (2.0 * sigma_y * sigma_y))
    if order == 1:
        return -xr / vx * g
    return (xr * xr - vx) / (vx * vx) * g


def gabor(
    x, y, frequency: float, theta: float, phase: float, sigma_x: float, sigma_y: float, support=None
) -> np.ndarray:
    """DC-free real Gabor: ``envelope * cos(2 pi f x' + phase) - c * envelope``.

    The envelope ``exp(-x'^2/2 sigma_x^2 - y'^2/2 sigma_y^2) / (2 pi sigma_x sigma_y)``
    (times ``support``) has unit volume; ``c = sum(kernel) / sum(envelope)``
    removes the DC with the envelope's own fall-off.
    """
    xr, yr = rotate(x, y, theta)
    env = np.exp(-xr * xr / (2.0 * sigma_x**2) - yr * yr / (2.0 * sigma_y**2)) / (2.0 * math.pi * sigma_x * sigma_y)
    if support is not None:
        env = env * support
    k = env * np.cos(2.0 * math.pi * frequency * xr + phase)
    return k - (k.sum() / env.sum()) * env


def gabor_sigma(frequency: float, bandwidth: float) -> float:
    """Gaussian sigma (pixels) of a Gabor with a spatial-frequency ``bandwidth`` in octaves.

    ``sigma = sqrt(ln 2 / 2) / (pi f) * (2^b + 1) / (2^b - 1)``, with ``(2^b + 1) / (2^b - 1)``
    computed as ``coth(b ln2 / 2)``: the same value, without ``2^b`` overflowing for a huge ``b``
    or ``2^b - 1`` cancelling to 0 for a tiny one (a tiny bandwidth gives a huge or infinite
    sigma, which the support check then refuses).
    """
    return math.sqrt(math.log(2.0) / 2.0) / math.pi / math.tanh(bandwidth * math.log(2.0) / 2.0) / frequency


def gabor_sigma_argument(frequency: float, bandwidth: float) -> tuple[str, float]:
    """Which argument made a default Gabor sigma large: a narrow ``bandwidth``, else the ``frequency``."""
    if gabor_sigma(frequency, bandwidth) > 4.0 * gabor_sigma(frequency, 1.0):
        return "bandwidth", bandwidth
    return "frequency", frequency


def schmid(x, y, sigma: float, tau: float) -> np.ndarray:
    """Schmid's ``F(r, sigma, tau) = cos(pi tau r / sigma) exp(-r^2 / 2 sigma^2)``, raw."""
    r = np.hypot(x, y)
    return np.cos(math.pi * tau * r / sigma) * np.exp(-r * r / (2.0 * sigma * sigma))


def zero_mean_l1(k: np.ndarray) -> np.ndarray | None:
    """``normalise.m``: subtract the mean, divide by sum |k|; None if nothing is left."""
    k = k - k.mean()
    total = np.abs(k).sum()
    if not total > 0.0:
        return None
    return k / total
