"""Projections of the V1 benchmark's gratings on a stack of linear filters, without drawing every image.

On the 0.5 background of :func:`~v1sim.physiology.population_stimuli.draw_gratings` a grating's contrast
image ``(I - 0.5) / 0.5 = contrast env(x, y) cos(phi(x, y) + phase)`` never reaches the [0, 1] clip
(``contrast <= 1``), so it is linear in the phase's cosine and sine::

    c(phase) = contrast (cos(phase) c0 + sin(phase) c90),   c0 = env cos(phi),   c90 = env cos(phi + pi/2)

and so is every filter's projection on it. :func:`grating_projections` therefore projects only ``c0`` and
``c90`` of each distinct (orientation, frequency, aperture): the protocol's 8 phases per grating cost two
projections. Full-field gratings draw their two images and go through one float32 GEMM (BLAS is the fastest
way through many filters); patches draw nothing: the kernel ``aperture_projections`` sums every aperture
radius of a carrier in one pass over a filter's pixels (the apertures are nested). The result equals
projecting the drawn images up to float32 rounding, which the tests bound.

The linear drive of a unit population whose units are such filters (the Gabor units of
:class:`~v1sim.physiology.MacaquePopulation`) follows, and from it any static nonlinearity or energy.
"""

from __future__ import annotations

import math

import numpy as np

from .. import kernels
from .._core.validate import as_float_array, check_allocation, check_in_range, check_positive_float
from ..errors import InputError
from .population_stimuli import PopulationGeometry, draw_gratings

__all__ = ["PARALLEL_WORK", "grating_projections", "kernel_device", "project_images"]

#: work (about the multiply-adds) from which a kernel runs on Numba's worker threads: below it the calling
#: thread is faster, as waking sleeping workers costs ~0.4 ms on a shared 2-core machine
PARALLEL_WORK = 4e6


def kernel_device(work: float) -> str:
    """ "parallel" for ``work`` of at least :data:`PARALLEL_WORK` multiply-adds, else "cpu" (the serial twin)."""
    return "parallel" if work >= PARALLEL_WORK else "cpu"


def project_images(filters, images, rows=None) -> np.ndarray:
    """float32 projections (N, k) of the contrast images ``(images - 0.5) / 0.5`` on ``filters[rows]``.

    ``filters`` (K, S, S) float32, ``images`` (N, S, S), ``rows`` int array (None: all K); one float32 GEMM
    through :func:`v1sim.backend.matmul` (the filters enter as a transposed view, no copy when ``rows`` is None).
    """
    from ..backend import matmul

    flat = filters.reshape(len(filters), -1)
    bank = (flat if rows is None else flat[rows]).T  # (S*S, k)
    c = images.reshape(len(images), -1).astype(np.float32)  # a copy: the caller's images are never changed
    c -= np.float32(0.5)
    c /= np.float32(0.5)
    check_allocation((len(images), bank.shape[1]), np.float32, "images", copies=3)
    return matmul(c, bank)


def grating_projections(filters, theta_deg, cpd, phase, radius_deg, contrast=1.0, *, ppd, rows=None) -> np.ndarray:
    """Projections (N, k) float64 of centred gratings' contrast images on filters, drawing at most two per carrier.

    Parameters
    ----------
    filters : (K, S, S) ndarray of float32
        The filters, centred on the image like the gratings.
    theta_deg, cpd, phase, radius_deg : float or array_like, broadcast to (N,)
        Per image, as :func:`~v1sim.physiology.population_stimuli.draw_gratings`: orientation (degrees),
        spatial frequency (cycles/degree, >= 0 and below the Nyquist limit ``ppd / 2``), phase (radians) and
        aperture radius (degrees; ``inf`` for a full-field grating, 0 for the blank).
    contrast : float in (0, 1]
        Michelson contrast.
    ppd : float
        Pixels per degree of the filters' images.
    rows : int array, optional
        Project on ``filters[rows]`` only (k = len(rows)); all K by default.

    Returns
    -------
    (N, k) ndarray of float64
        ``project_images(filters, draw_gratings(...), rows)`` up to float32 rounding (about 1e-6 of the
        largest projection): the module docstring says how.

    Raises
    ------
    InputError
        Naming the argument: filters that are not (K, S, S), rows outside them, a ppd <= 0, non-finite
        orientation or phase, a frequency outside [0, ppd / 2), a negative or NaN radius, a contrast outside
        (0, 1], vectors that do not broadcast.
    """
    # no finiteness scan of the (possibly large) stack on every call: a non-finite filter gives non-finite projections
    filters = as_float_array(filters, "filters", ndim=3, dtype=np.float32, allow_nonfinite=True)
    if filters.shape[1] != filters.shape[2]:
        raise InputError(f"filters must be (K, S, S), square images; got shape {filters.shape}", argument="filters")
    ppd = check_positive_float(ppd, "ppd")
    if rows is not None:
        rows = np.asarray(rows, np.int64).reshape(-1)
        if rows.size and (rows.min() < 0 or rows.max() >= len(filters)):
            raise InputError(f"rows must index the {len(filters)} filters", argument="rows")
    given = [
        as_float_array(v, name, ndim=(0, 1), dtype=np.float64, allow_nonfinite=name == "radius_deg")
        for v, name in ((theta_deg, "theta_deg"), (cpd, "cpd"), (phase, "phase"), (radius_deg, "radius_deg"))
    ]
    try:
        theta, f, ph, r = (v.ravel() for v in np.broadcast_arrays(*given))
    except ValueError:
        shapes = ", ".join(str(v.shape) for v in given)
        raise InputError(f"theta_deg, cpd, phase, radius_deg must broadcast, got {shapes}", argument="phase") from None
    if not ((f >= 0).all() and (f < ppd / 2.0).all()):
        raise InputError(f"cpd must lie in [0, {ppd / 2.0:g}) cycles/degree (Nyquist)", argument="cpd")
    if np.isnan(r).any() or (r < 0).any():
        raise InputError("radius_deg must be >= 0 (inf for full field)", argument="radius_deg")
    contrast = check_in_range(contrast, "contrast", 0.0, 1.0, inclusive=(False, True))
    size = filters.shape[1]
    k = len(filters) if rows is None else len(rows)
    check_allocation((f.size, k), np.float64, "phase", copies=4)
    # the projections of c0 and c90 for each image, from its distinct (orientation, frequency[, radius])
    p0, p1 = np.empty((f.size, k)), np.empty((f.size, k))
    full = np.isinf(r)
    if full.any():  # full field: the two images of each carrier through one GEMM
        carriers, which = np.unique(np.stack([theta[full], f[full]], axis=1), axis=0, return_inverse=True)
        twice = np.repeat(carriers, 2, axis=0)
        quadrature = np.tile([0.0, math.pi / 2.0], len(carriers))
        images = draw_gratings(PopulationGeometry(ppd, size, k), twice[:, 0], twice[:, 1], quadrature, np.inf, 1.0)
        q = project_images(filters, images, rows).reshape(len(carriers), 2, k)
        p0[full], p1[full] = q[which.ravel(), 0], q[which.ravel(), 1]
    if not full.all():  # patches: every radius of a carrier in one pass over each filter's pixels
        patch = ~full
        carriers, which = np.unique(np.stack([theta[patch], f[patch]], axis=1), axis=0, return_inverse=True)
        radii, aperture = np.unique(r[patch], return_inverse=True)  # ascending
        q = np.empty((len(carriers), radii.size, 2, k))
        kernels.get("aperture_projections", kernel_device(len(carriers) * k * size * size))(
            filters,
            np.arange(k) if rows is None else rows,
            np.radians(carriers[:, 0]),
            carriers[:, 1] / ppd,
            radii * ppd,
            q,
        )
        p0[patch], p1[patch] = q[which.ravel(), aperture, 0], q[which.ravel(), aperture, 1]
    ph = ph[:, None]
    return contrast * (np.cos(ph) * p0 + np.sin(ph) * p1)
