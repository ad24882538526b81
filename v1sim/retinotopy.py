"""The retina-to-V1 map: Schwartz's complex-logarithm model, magnification, RF scaling.

Positions in the visual field are complex numbers ``z = x + i y`` in degrees
(``x`` rightwards, ``y`` *upwards*, the fixation point at 0); positions on
the flattened cortex are ``w = u + i v`` in millimetres. Each hemifield
projects to the opposite hemisphere through the monopole map

    ``w = k [log(z + a) - log(a)]``                      (right hemifield, x >= 0)

(Schwartz 1977, 1980), translated so that the fovea sits at ``w = 0``. The
left hemifield uses the mirror image, ``w = -conj(f(-conj(z)))``, so the two
hemispheres are drawn back to back at the foveal representation: the left
hemisphere (right hemifield) at ``u >= 0``, the right hemisphere at
``u <= 0``; the vertical meridian (``x = 0``) belongs to the right hemifield.
``v > 0`` is the upper visual field (in the brain the map is inverted: the
upper field lies on the lower bank of the calcarine sulcus). Neither half of
the map reaches ``u = 0`` except at the fovea: the vertical meridian maps to
the curve ``exp(|u| / k) cos(v / k) = 1``, the border of the cortical sheet.

Far from the fovea (``|z| >> a``) the map is log-polar -- eccentricity to
``u = k log(E / a)``, polar angle to ``v = k phi`` -- so scaling and rotation
about fixation become translations of the cortical image; near the fovea
(``|z| << a``) it is linear with slope ``k / a`` mm/deg.

Units: degrees, millimetres, pixels per degree (``ppd``) for images.

==============================  ==================================================
:func:`visual_to_cortex`        z (deg) -> w (mm)
:func:`cortex_to_visual`        w (mm) -> z (deg); NaN off the cortical sheet
:func:`magnification`           M(E) = k / (E + a) mm/deg (linear)
:func:`local_magnification`     |dw/dz| = k / |z + a| at any position
:func:`cortical_distance`       k log(1 + E / a) mm, the integral of M
:func:`rf_size`                 receptive-field diameter d(E) = d0 + s E, deg
:func:`point_image`             M(E) d(E): the cortex one RF spans, mm
:func:`cortical_extent`         bounding box of an image's cortical image, mm
:func:`to_cortex`               warp an image (centred on fixation) into the cortex
:func:`from_cortex`             and back
==============================  ==================================================

References
----------
.. [1] Schwartz EL (1977). Spatial mapping in the primate sensory projection:
   analytic structure and relevance to perception. Biol Cybern 25:181-194.
.. [2] Schwartz EL (1980). Computational anatomy and functional architecture
   of striate cortex: a spatial mapping approach to perceptual coding.
   Vision Res 20:645-669.
.. [3] Polimeni JR, Balasubramanian M, Schwartz EL (2006). Multi-area
   visuotopic map complexes in macaque striate and extra-striate cortex.
   Vision Res 46:3336-3359 (macaque fits of the monopole/dipole maps).
.. [4] Horton JC, Hoyt WF (1991). The representation of the visual field in
   human striate cortex. Arch Ophthalmol 109:816-824 (human V1:
   M = 17.3 / (E + 0.75) mm/deg).
.. [5] Freeman J, Simoncelli EP (2011). Metamers of the ventral stream.
   Nat Neurosci 14:1195-1201 (receptive-field diameter proportional to
   eccentricity; V2 about twice V1's slope).
.. [6] Hubel DH, Wiesel TN (1974). Uniformity of monkey striate cortex: a
   parallel relationship between field size, scatter, and magnification
   factor. J Comp Neurol 158:295-306 (the point image).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from ._core.validate import (
    as_float_array,
    check_allocation,
    check_in_range,
    check_int_pair,
    check_nonnegative_int,
    check_positive_float,
    check_support,
)
from .errors import InputError, InputTypeError, NonFiniteError

__all__ = [
    "A_MACAQUE",
    "K_MACAQUE",
    "RF_SIZE0",
    "RF_SLOPE",
    "cortex_to_visual",
    "cortical_distance",
    "cortical_extent",
    "from_cortex",
    "local_magnification",
    "magnification",
    "point_image",
    "rf_size",
    "to_cortex",
    "visual_to_cortex",
]

K_MACAQUE = 15.0  # mm: typical macaque V1 scale of the monopole fit (order of Schwartz 1980; Polimeni et al. 2006)
A_MACAQUE = 0.7  # deg: foveal constant, where the map turns from linear to logarithmic
RF_SLOPE = 0.25  # RF diameter per degree of eccentricity: an assumption of the order of macaque V1 (see rf_size)
RF_SIZE0 = 0.1  # deg: foveal RF diameter (assumption)


def _params(k, a):
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
    k, a = _params(k, a)
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
    k, a = _params(k, a)
    ww = _complex(w, "w")
    return _inverse(ww, k, a, outside=complex(np.nan, np.nan))


def _inverse(ww, k, a, outside, name="w"):
    right = ww.real >= 0
    mirrored = np.where(right, ww, -np.conj(ww))
    with np.errstate(over="ignore", invalid="ignore"):
        z = a * np.expm1(mirrored / k)
    if not np.isfinite(z).all():  # |u| beyond about 710 k: exp overflows, no visual angle is that large
        u = float(np.abs(ww.real[~np.isfinite(z)]).max())
        raise InputError(f"{name}: cortical positions must lie within {k * math.log(np.finfo(float).max / max(a, 1.0)):.4g} mm of the "
                         f"vertical meridian (|u|) for k={k:g}, a={a:g}: exp(|u|/k) overflows beyond it; got |u| = "
                         f"{u:.3g} mm", argument=name)  # fmt: skip
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
    k, a = _params(k, a)
    e = _eccentricity(eccentricity)
    m = k / (e + a)
    return float(m) if m.ndim == 0 else m


def local_magnification(z, *, k=K_MACAQUE, a=A_MACAQUE):
    """``|dw/dz| = k / |z_r + a|`` mm/deg at visual-field positions ``z`` (``z_r``: ``z`` folded to x >= 0)."""
    k, a = _params(k, a)
    zz = _complex(z, "z")
    folded = np.abs(zz.real) + 1j * zz.imag
    m = k / np.abs(folded + a)
    return float(m) if m.ndim == 0 else m


def cortical_distance(eccentricity, *, k=K_MACAQUE, a=A_MACAQUE):
    """Distance from the foveal representation along the horizontal meridian, mm: ``k log(1 + E / a)``."""
    k, a = _params(k, a)
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


# ------------------------------------------------------------------ images


def _field_coords(shape, ppd):
    """Visual-field position (deg, complex) of every pixel; fixation at the image centre, y up."""
    h, w = shape
    x = (np.arange(w) - (w - 1) / 2.0) / ppd
    y = ((h - 1) / 2.0 - np.arange(h)) / ppd
    return x[None, :] + 1j * y[:, None]


def cortical_extent(shape, ppd, *, k=K_MACAQUE, a=A_MACAQUE):
    """Bounding box ``(u_min, u_max, v_min, v_max)`` in mm of an image's cortical image.

    The image of ``shape`` (H, W) pixels at ``ppd`` pixels per degree is
    centred on fixation; the box covers both hemispheres (the map of the
    image's border and of its vertical meridian).
    """
    h, w = check_int_pair(shape, "shape")
    ppd = check_positive_float(ppd, "ppd")
    k, a = _params(k, a)
    xr, yt = (w - 1) / 2.0 / ppd, (h - 1) / 2.0 / ppd
    t = np.linspace(-1.0, 1.0, 513)
    border = np.concatenate([xr * t + 1j * yt, xr * t - 1j * yt, xr + 1j * yt * t, -xr + 1j * yt * t])
    meridian = 1j * yt * t
    pts = np.concatenate([visual_to_cortex(border, k=k, a=a), visual_to_cortex(meridian, k=k, a=a),
                          -np.conj(visual_to_cortex(meridian, k=k, a=a))])  # fmt: skip
    return float(pts.real.min()), float(pts.real.max()), float(pts.imag.min()), float(pts.imag.max())


def _grid(extent, mm_per_pixel):
    """Cortical pixel centres (complex, (n_v, n_u), row 0 at v_max) and the exact extent of the grid."""
    u0, u1, v0, v1 = extent
    # a tiny mm_per_pixel sets the output size: bounded (and overflow-safe) before the grid exists
    spans = [check_support((hi - lo) / mm_per_pixel - 1e-9, "mm_per_pixel", what=f"mm_per_pixel={mm_per_pixel:g}")
             for lo, hi in ((u0, u1), (v0, v1))]  # fmt: skip
    nu, nv = (max(n, 1) for n in spans)
    check_allocation((nv, nu), np.complex128, "mm_per_pixel", copies=8,
                     what=f"mm_per_pixel={mm_per_pixel:g} gives a cortical image of {nv} x {nu} pixels")
    uc, vc = 0.5 * (u0 + u1), 0.5 * (v0 + v1)
    u0, v0 = uc - nu * mm_per_pixel / 2.0, vc - nv * mm_per_pixel / 2.0
    u = u0 + (np.arange(nu) + 0.5) * mm_per_pixel
    v = v0 + nv * mm_per_pixel - (np.arange(nv) + 0.5) * mm_per_pixel
    return u[None, :] + 1j * v[:, None], (u0, u0 + nu * mm_per_pixel, v0, v0 + nv * mm_per_pixel)


def _check_extent(extent):
    ext = as_float_array(extent, "extent", ndim=1, dtype=np.float64)
    if ext.size != 4 or not (ext[1] > ext[0] and ext[3] > ext[2]):
        raise InputError(
            f"extent must be (u_min, u_max, v_min, v_max) with u_min < u_max and v_min < v_max, got {extent!r}",
            argument="extent",
        )
    return tuple(float(e) for e in ext)


def _sample(image, rows, cols, order, cval, mode="constant"):
    return ndimage.map_coordinates(image, [rows, cols], order=order, mode=mode, cval=cval, prefilter=order > 1)


def to_cortex(image, ppd, *, k=K_MACAQUE, a=A_MACAQUE, mm_per_pixel=None, extent=None, order=1, antialias=True,
              cval=np.nan):
    """Warp an image centred on fixation into cortical coordinates.

    Each cortical pixel ``w`` takes the image's value at ``cortex_to_visual(w)``
    (:func:`scipy.ndimage.map_coordinates`). Where one cortical pixel spans
    several image pixels (the periphery), ``antialias`` first blurs the
    image by about half that span (Gaussian, blended between octave levels),
    as the growing receptive fields do; near the fovea the cortex
    oversamples the image and the warp interpolates.

    Parameters
    ----------
    image : (H, W) array_like
        Grey image; its centre ``((W - 1) / 2, (H - 1) / 2)`` is fixation, rows
        run downwards (so ``y`` = up is ``-row``).
    ppd : float
        Pixels per degree.
    k, a : float
        The map, as :func:`visual_to_cortex`.
    mm_per_pixel : float, optional
        Cortical pixel size; default ``(u_max - u_min) / max(H, W)`` (about
        as many columns as the image).
    extent : (u_min, u_max, v_min, v_max), optional
        Cortical region to render, mm; default :func:`cortical_extent`.
    order : int
        Spline order of the interpolation (0 nearest, 1 bilinear, 3 cubic).
    antialias : bool
        Blur where the cortex undersamples the image.
    cval : float
        Value off the cortical sheet and beyond the image (default NaN).

    Returns
    -------
    cortex : (Hc, Wc) float64 ndarray
        Row 0 at ``v_max`` (upper visual field at the top), column 0 at
        ``u_min`` (the right hemisphere, i.e. the left hemifield, on the left).
    extent : tuple of float
        ``(u_min, u_max, v_min, v_max)`` of the pixel edges, mm (for
        ``imshow(..., extent=extent)`` and :func:`from_cortex`).

    Raises
    ------
    ValueError
        For a non-2-D or non-finite image, or a bad ``ppd``, ``extent`` or ``mm_per_pixel``.
    """
    img = as_float_array(image, "image", ndim=2, dtype=np.float64)
    ppd = check_positive_float(ppd, "ppd")
    k, a = _params(k, a)
    order = check_nonnegative_int(order, "order")
    if order > 5:
        raise InputError(f"order must be in 0..5 (spline order), got {order}", argument="order")
    ext = cortical_extent(img.shape, ppd, k=k, a=a) if extent is None else _check_extent(extent)
    if mm_per_pixel is None:
        mmpp = (ext[1] - ext[0]) / max(img.shape)
        if not mmpp > 0:  # the image maps to one cortical point: 1 x 1 pixels, or a ppd so large it spans ~0 deg
            name = "image" if img.size == 1 else "ppd"
            raise InputError(f"{name}: an image of shape {img.shape} at ppd={ppd:g} maps to a single point of cortex "
                             f"(no cortical extent to sample); give a larger image or a smaller ppd", argument=name)
    else:
        mmpp = check_positive_float(mm_per_pixel, "mm_per_pixel")
    w, out_extent = _grid(ext, mmpp)
    z = _inverse(w, k, a, outside=None, name="extent")  # continued across the sheet's border, masked below
    inside = np.isfinite(_inverse(w, k, a, outside=complex(np.nan, np.nan), name="extent"))
    h, wd = img.shape
    cols = z.real * ppd + (wd - 1) / 2.0
    rows = (h - 1) / 2.0 - z.imag * ppd
    # the edge pixels' values reach one pixel beyond the image (cortical pixels straddling its border)
    inside &= (rows >= -1.0) & (rows <= h) & (cols >= -1.0) & (cols <= wd)
    out = _sample(img, rows, cols, order, np.nan, "nearest")
    if antialias:
        # image pixels per cortical pixel at each point: ppd * mmpp / |dw/dz|
        span = ppd * mmpp * np.abs(np.abs(z.real) + 1j * z.imag + a) / k
        sigma = 0.5 * span
        levels = [0.0]
        while levels[-1] < np.nanmax(sigma):
            levels.append(1.0 if levels[-1] == 0 else 2.0 * levels[-1])
        if len(levels) > 1:
            blurred = [ndimage.gaussian_filter(img, s, mode="nearest") for s in levels[1:]]
            samples = [out] + [_sample(b, rows, cols, order, np.nan, "nearest") for b in blurred]
            pos = np.where(sigma <= 1.0, sigma, 1.0 + np.log2(np.maximum(sigma, 1.0)))  # 0, 1, 2, ... per level
            pos = np.clip(pos, 0.0, len(levels) - 1.0)
            lo = np.minimum(np.floor(pos).astype(int), len(levels) - 2)
            frac = pos - lo
            stack = np.stack(samples)
            below = np.take_along_axis(stack, lo[None], 0)[0]
            above = np.take_along_axis(stack, lo[None] + 1, 0)[0]
            out = below * (1 - frac) + above * frac
    out = np.where(inside & np.isfinite(out), out, cval)
    return out, out_extent


def from_cortex(cortex, extent, ppd, shape, *, k=K_MACAQUE, a=A_MACAQUE, order=1, cval=np.nan):
    """Warp a cortical image back into the visual field (the inverse of :func:`to_cortex`).

    Each image pixel takes the cortex's value at ``visual_to_cortex(z)``.
    NaN cortical pixels (off the sheet) are ignored: the value is the
    normalised average of the valid neighbours (bilinear weights), so the
    border of the sheet -- the vertical meridian -- is filled in.

    Parameters
    ----------
    cortex : (Hc, Wc) array_like
        As returned by :func:`to_cortex` (row 0 at ``v_max``), may hold NaN.
    extent : (u_min, u_max, v_min, v_max)
        Pixel edges of ``cortex``, mm.
    ppd : float
        Pixels per degree of the output image.
    shape : int or (H, W)
        Output image size; fixation at its centre.
    k, a : float
        The map, as :func:`visual_to_cortex`.
    order : int
        Spline order when ``cortex`` holds no NaN; with NaN, bilinear.
    cval : float
        Value where the cortex has no data (default NaN).

    Returns
    -------
    (H, W) float64 ndarray
    """
    c = as_float_array(cortex, "cortex", ndim=2, dtype=np.float64, allow_nonfinite=True)
    u0, u1, v0, v1 = _check_extent(extent)
    ppd = check_positive_float(ppd, "ppd")
    shape = check_int_pair(shape, "shape")
    check_allocation(shape, np.complex128, "shape", copies=8, what=f"an image of shape {shape}")
    k, a = _params(k, a)
    order = check_nonnegative_int(order, "order")
    if order > 5:
        raise InputError(f"order must be in 0..5 (spline order), got {order}", argument="order")
    w = visual_to_cortex(_field_coords(shape, ppd), k=k, a=a)
    du, dv = (u1 - u0) / c.shape[1], (v1 - v0) / c.shape[0]
    cols = (w.real - u0) / du - 0.5
    rows = (v1 - w.imag) / dv - 0.5
    valid = np.isfinite(c)
    if valid.all():
        out = _sample(c, rows, cols, order, np.nan, "nearest")
    else:
        num = _sample(np.where(valid, c, 0.0), rows, cols, 1, 0.0, "nearest")
        den = _sample(valid.astype(np.float64), rows, cols, 1, 0.0, "nearest")
        out = np.where(den > 1e-6, num / np.maximum(den, 1e-6), np.nan)
    # edge pixels reach half a pixel beyond their centres; farther out there is no data
    beyond = (rows < -1.0) | (rows > c.shape[0]) | (cols < -1.0) | (cols > c.shape[1])
    return np.where(np.isfinite(out) & ~beyond, out, cval)
