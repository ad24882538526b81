"""Warping images between the visual field and the cortical sheet (:func:`to_cortex`, :func:`from_cortex`).

An image is centred on fixation at ``ppd`` pixels per degree; the cortex is
rendered on a grid of ``mm_per_pixel``. Conventions as :mod:`v1sim.retinotopy`.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .._core.validate import (
    as_float_array,
    check_allocation,
    check_int_pair,
    check_nonnegative_int,
    check_positive_float,
    check_support,
)
from ..errors import InputError
from .mapping import A_MACAQUE, K_MACAQUE, check_map, inverse, visual_to_cortex

__all__ = ["cortical_extent", "from_cortex", "to_cortex"]


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
    k, a = check_map(k, a)
    xr, yt = (w - 1) / 2.0 / ppd, (h - 1) / 2.0 / ppd
    t = np.linspace(-1.0, 1.0, 513)
    border = np.concatenate([xr * t + 1j * yt, xr * t - 1j * yt, xr + 1j * yt * t, -xr + 1j * yt * t])
    meridian = 1j * yt * t
    pts = np.concatenate(
        [
            visual_to_cortex(border, k=k, a=a),
            visual_to_cortex(meridian, k=k, a=a),
            -np.conj(visual_to_cortex(meridian, k=k, a=a)),
        ]
    )
    return float(pts.real.min()), float(pts.real.max()), float(pts.imag.min()), float(pts.imag.max())


def _grid(extent, mm_per_pixel):
    """Cortical pixel centres (complex, (n_v, n_u), row 0 at v_max) and the exact extent of the grid."""
    u0, u1, v0, v1 = extent
    # a tiny mm_per_pixel sets the output size: bounded (and overflow-safe) before the grid exists
    spans = [
        check_support((hi - lo) / mm_per_pixel - 1e-9, "mm_per_pixel", what=f"mm_per_pixel={mm_per_pixel:g}")
        for lo, hi in ((u0, u1), (v0, v1))
    ]
    nu, nv = (max(n, 1) for n in spans)
    check_allocation(
        (nv, nu),
        np.complex128,
        "mm_per_pixel",
        copies=8,
        what=f"mm_per_pixel={mm_per_pixel:g} gives a cortical image of {nv} x {nu} pixels",
    )
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


def _spline_order(order) -> int:
    """A validated spline order for :func:`scipy.ndimage.map_coordinates`, 0..5."""
    order = check_nonnegative_int(order, "order")
    if order > 5:
        raise InputError(f"order must be in 0..5 (spline order), got {order}", argument="order")
    return order


def _sample(image, rows, cols, order, cval, mode="constant"):
    return ndimage.map_coordinates(image, [rows, cols], order=order, mode=mode, cval=cval, prefilter=order > 1)


def to_cortex(
    image, ppd, *, k=K_MACAQUE, a=A_MACAQUE, mm_per_pixel=None, extent=None, order=1, antialias=True, cval=np.nan
):
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
    InputError
        For a non-2-D or non-finite image, or a bad ``ppd``, ``extent`` or ``mm_per_pixel``.
    """
    img = as_float_array(image, "image", ndim=2, dtype=np.float64)
    ppd = check_positive_float(ppd, "ppd")
    k, a = check_map(k, a)
    order = _spline_order(order)
    ext = cortical_extent(img.shape, ppd, k=k, a=a) if extent is None else _check_extent(extent)
    if mm_per_pixel is None:
        mmpp = (ext[1] - ext[0]) / max(img.shape)
        if not mmpp > 0:  # the image maps to one cortical point: 1 x 1 pixels, or a ppd so large it spans ~0 deg
            name = "image" if img.size == 1 else "ppd"
            raise InputError(
                f"{name}: an image of shape {img.shape} at ppd={ppd:g} maps to a single point of cortex "
                f"(no cortical extent to sample); give a larger image or a smaller ppd",
                argument=name,
            )
    else:
        mmpp = check_positive_float(mm_per_pixel, "mm_per_pixel")
    w, out_extent = _grid(ext, mmpp)
    z = inverse(w, k, a, outside=None, name="extent")  # continued across the sheet's border, masked below
    inside = np.isfinite(inverse(w, k, a, outside=complex(np.nan, np.nan), name="extent"))
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
    k, a = check_map(k, a)
    order = _spline_order(order)
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
