"""Schwartz's monopole map between the visual field and V1, its inverse, magnification and receptive-field size.

Conventions as :mod:`v1sim.retinotopy`: visual-field positions ``z = x + i y``
in degrees (y upwards), cortical positions ``w = u + i v`` in millimetres.

References
----------
.. [1] Schwartz EL (1980). Computational anatomy and functional architecture
   of striate cortex: a spatial mapping approach to perceptual coding.
   Vision Res 20:645-669.
.. [2] Freeman J, Simoncelli EP (2011). Metamers of the ventral stream.
   Nat Neurosci 14:1195-1201.
.. [3] Hubel DH, Wiesel TN (1974). Uniformity of monkey striate cortex: a
   parallel relationship between field size, scatter, and magnification
   factor. J Comp Neurol 158:295-306.
"""

from __future__ import annotations

import math

import numpy as np

from .._core.validate import as_float_array, check_in_range, check_positive_float
from ..errors import InputError, InputTypeError, NonFiniteError

__all__ = [
    "A_MACAQUE",
    "K_MACAQUE",
    "RF_SIZE0",
    "RF_SLOPE",
    "check_map",
    "cortex_to_visual",
    "cortical_distance",
    "inverse",
    "local_magnification",
    "magnification",
    "point_image",
    "rf_size",
    "visual_to_cortex",
]

K_MACAQUE = 15.0  # mm: typical macaque V1 scale of the monopole fit (order of Schwartz 1980; Polimeni et al. 2006)
A_MACAQUE = 0.7  # deg: foveal constant, where the map turns from linear to logarithmic
RF_SLOPE = 0.25  # RF diameter per degree of eccentricity: an assumption of the order of macaque V1 (see rf_size)
RF_SIZE0 = 0.1  # deg: foveal RF diameter (assumption)


def check_map(k, a):
    """The map's scale ``k`` (mm) and foveal constant ``a`` (deg), validated (> 0)."""
    return check_positive_float(k, "k"), check_positive_float(a, "a")


def _complex(value, name):
    try:
        arr = np.asarray(value)
    except ValueError:  # ragged nested lists
        raise InputTypeError(f"{name} must be numbers (complex positions), got {value!r:.60}", argument=name) from None
    if arr.dtype.kind not in "biufc":
        raise InputTypeError(f"{name} must be numbers (complex positions), got dtype {arr.dtype}", argument=name)
    arr = arr.astype(np.complex128)
    if not np.all(np.isfinite(arr)):
        raise NonFiniteError(f"{name} must be finite", argument=name)
    return arr


def visual_to_cortex(z, *, k=K_MACAQUE, a=A_MACAQUE):
    """Map visual-field positions to cortical positions (Schwartz's monopole map).

    ``w = k log((z + a) / a)`` for ``Re z >= 0`` (the left hemisphere, drawn at
    ``u >= 0``) and the mirror image ``-conj(k log((-conj(z) + a) / a))`` for
    ``Re z < 0`` (the right hemisphere, at ``u <= 0``).

    Parameters
    ----------
    z : complex array_like
        Positions ``x + i y`` in degrees (``y`` upwards); any shape.
    k : float
        Scale, mm (default 15, typical macaque V1).
    a : float
        Foveal constant, degrees (default 0.7).

    Returns
    -------
    complex128 ndarray (or complex)
        ``u + i v`` in millimetres, the shape of ``z``.
    """
    k, a = check_map(k, a)
    zz = _complex(z, "z")
    right = zz.real >= 0
    mirrored = np.where(right, zz, -np.conj(zz))
    w = k * np.log1p(mirrored / a)
    w = np.where(right, w, -np.conj(w))
    return w[()] if w.ndim == 0 else w


def cortex_to_visual(w, *, k=K_MACAQUE, a=A_MACAQUE):
    """The inverse map: cortical positions (mm) to visual-field positions (deg).

    ``z = a (exp(w / k) - 1)`` for ``u >= 0`` and its mirror image for
    ``u < 0``. Points off the cortical sheet (those whose preimage would lie
    in the other hemifield, i.e. ``exp(|u| / k) cos(v / k) < 1``, or with
    ``|v| >= k pi / 2``) give NaN.

    Parameters
    ----------
    w : complex array_like
        ``u + i v`` in millimetres.
    k, a : float
        As :func:`visual_to_cortex`.

    Returns
    -------
    complex128 ndarray (or complex)
        Degrees; ``nan + nan j`` off the map.

    Raises
    ------
    InputError
        For non-finite positions, or an ``|u|`` so large (beyond about 710 ``k`` mm) that no visual angle
        corresponds to it in float64; for ``k`` or ``a`` that are not positive.
    InputTypeError
        For positions that are not numbers.
    """
    k, a = check_map(k, a)
    ww = _complex(w, "w")
    return inverse(ww, k, a, outside=complex(np.nan, np.nan))


def inverse(ww, k, a, outside, name="w"):
    """``z`` (deg) of validated cortical positions ``ww`` (mm); ``outside`` (None: no mask) off the sheet."""
    right = ww.real >= 0
    mirrored = np.where(right, ww, -np.conj(ww))
    with np.errstate(over="ignore", invalid="ignore"):
        z = a * np.expm1(mirrored / k)
    if not np.isfinite(z).all():  # |u| beyond about 710 k: exp overflows, no visual angle is that large
        u = float(np.abs(ww.real[~np.isfinite(z)]).max())
        reach = k * math.log(np.finfo(float).max / max(a, 1.0))
        raise InputError(
            f"{name}: cortical positions must lie within {reach:.4g} mm of the "
            f"vertical meridian (|u|) for k={k:g}, a={a:g}: exp(|u|/k) overflows beyond it; got |u| = "
            f"{u:.3g} mm",
            argument=name,
        )
    # on the sheet iff the preimage stays in its own hemifield (Re z >= 0), up to rounding
    inside = (z.real >= -1e-9 * (1.0 + np.abs(z))) & (np.abs(mirrored.imag) < k * math.pi / 2)
    z = np.where(right, z, -np.conj(z))
    if outside is not None:
        z = np.where(inside, z, outside)
    return z[()] if z.ndim == 0 else z


def magnification(eccentricity, *, k=K_MACAQUE, a=A_MACAQUE):
    """Linear cortical magnification ``M(E) = k / (E + a)``, mm of cortex per degree.

    The derivative of the map along the horizontal meridian (and, for
    ``E >> a``, in every direction); :func:`local_magnification` gives the
    exact value anywhere. The map is conformal, so the magnification is
    isotropic and the areal magnification is ``M^2`` (mm^2/deg^2).

    Parameters
    ----------
    eccentricity : float or array_like
        Degrees, >= 0.
    k, a : float
        As :func:`visual_to_cortex`.

    Returns
    -------
    float or float64 ndarray
    """
    k, a = check_map(k, a)
    e = _eccentricity(eccentricity)
    m = k / (e + a)
    return float(m) if m.ndim == 0 else m


def local_magnification(z, *, k=K_MACAQUE, a=A_MACAQUE):
    """``|dw/dz| = k / |z_r + a|`` mm/deg at visual-field positions ``z`` (``z_r``: ``z`` folded to x >= 0)."""
    k, a = check_map(k, a)
    zz = _complex(z, "z")
    folded = np.abs(zz.real) + 1j * zz.imag
    m = k / np.abs(folded + a)
    return float(m) if m.ndim == 0 else m


def cortical_distance(eccentricity, *, k=K_MACAQUE, a=A_MACAQUE):
    """Distance from the foveal representation along the horizontal meridian, mm: ``k log(1 + E / a)``."""
    k, a = check_map(k, a)
    d = k * np.log1p(_eccentricity(eccentricity) / a)
    return float(d) if d.ndim == 0 else d


def _eccentricity(eccentricity):
    e = as_float_array(eccentricity, "eccentricity", dtype=np.float64).reshape(np.shape(eccentricity))
    if np.any(e < 0):
        raise InputError(f"eccentricity must be >= 0 degrees, got a minimum of {e.min():.4g}", argument="eccentricity")
    return e


def rf_size(eccentricity, *, size0=RF_SIZE0, slope=RF_SLOPE):
    """Receptive-field diameter growing linearly with eccentricity: ``d(E) = d0 + s E`` degrees.

    Receptive fields grow roughly in proportion to eccentricity in every
    visual area, with a slope that increases along the ventral stream
    (Freeman & Simoncelli 2011 fit diameter / eccentricity ~ 0.46 for V2 and
    plot macaque V1 physiology at about half that). The defaults,
    ``s = 0.25`` and a foveal ``d0 = 0.1`` deg, are assumptions of that order,
    not fits; for a Gaussian field take ``sigma = d / 4`` (``d`` spanning
    +-2 sigma).

    Parameters
    ----------
    eccentricity : float or array_like
        Degrees, >= 0.
    size0 : float
        Diameter at the fovea, degrees (>= 0).
    slope : float
        Degrees of diameter per degree of eccentricity (>= 0).

    Returns
    -------
    float or float64 ndarray
        Degrees.
    """
    d0 = check_in_range(size0, "size0", 0.0, math.inf)
    s = check_in_range(slope, "slope", 0.0, math.inf)
    d = d0 + s * _eccentricity(eccentricity)
    return float(d) if d.ndim == 0 else d


def point_image(eccentricity, *, k=K_MACAQUE, a=A_MACAQUE, size0=RF_SIZE0, slope=RF_SLOPE):
    """Cortical extent of one receptive field, ``M(E) d(E)`` mm (Hubel & Wiesel 1974).

    Tends to ``k s`` (3.75 mm with the defaults) away from the fovea: a point
    of light excites a patch of cortex of about the same size at every
    eccentricity, larger fields being exactly offset by lower magnification.
    """
    m = magnification(eccentricity, k=k, a=a)
    return m * rf_size(eccentricity, size0=size0, slope=slope)
