"""Spots, annuli, bars and edges: the classic stimuli of Hubel & Wiesel, area-sampled with a 1-pixel ramp."""

from __future__ import annotations

import math

import numpy as np

from .._core.validate import check_choice, check_finite_float, check_in_range, check_positive_float
from ..errors import InputError
from .canvas import box, check_center, check_ppd, coords, disc, frame_shape, levels, luminance, polarity_sign, to_px

__all__ = ["annulus", "bar", "edge", "spot"]


def _ring(shape, inner, outer, center, contrast, polarity, background, ppd):
    """Shared body of `spot` and `annulus` (radii validated, in user units)."""
    sign = polarity_sign(polarity)
    c, bg = levels(contrast, background, light=sign > 0)
    xr, yr = coords(shape, check_center(center, ppd))
    d = np.hypot(xr, yr)
    cover = disc(d, to_px(outer, ppd)) - (disc(d, to_px(inner, ppd)) if inner > 0 else 0.0)
    return luminance(bg, sign * c * bg * cover)


def spot(shape, radius, *, center=None, contrast=1.0, polarity="light", background=0.5, ppd=None):
    """A uniform disc: the classic light or dark spot.

    Parameters
    ----------
    shape : int or (H, W)
        Image size in pixels.
    radius : float
        Radius (> 0) in pixels (degrees with ``ppd``).
    center : (x, y), optional
        Centre in pixels (degrees with ``ppd``); default the image centre.
    contrast : float in [0, 1]
        Inside, the luminance is ``background * (1 ± contrast)``.
    polarity : {"light", "dark"}
        Brighter or darker than the background.
    background : float in [0, 1]
    ppd : float, optional
        Pixels per degree; sizes and ``center`` are then in degrees.

    Returns
    -------
    ndarray of float32, shape (H, W)
        1-pixel ramp at the rim: the summed area is within 2% of π r² for
        r >= 2.5 px (the lattice error grows for smaller spots).

    Raises
    ------
    InputError
        For an out-of-range argument, a stimulus that would leave [0, 1], or a ``shape`` whose
        image and working arrays would need more memory than the machine has (every stimulus
        here bounds ``shape`` the same way; movies also bound ``duration / dt`` frames).
    """
    shape, ppd = frame_shape(shape), check_ppd(ppd)
    radius = check_positive_float(radius, "radius")
    return _ring(shape, 0.0, radius, center, contrast, polarity, background, ppd)


def annulus(
    shape, inner_radius, outer_radius, *, center=None, contrast=1.0, polarity="light", background=0.5, ppd=None
):
    """A ring between two radii (the surround of a centre-surround test).

    Parameters
    ----------
    inner_radius, outer_radius : float
        Radii, ``0 <= inner_radius < outer_radius``, in pixels (degrees with ``ppd``).
    shape, center, contrast, polarity, background, ppd
        As in `spot`.

    Returns
    -------
    ndarray of float32, shape (H, W)
        Exactly ``spot(outer) - spot(inner) + background``.
    """
    shape, ppd = frame_shape(shape), check_ppd(ppd)
    inner = check_in_range(inner_radius, "inner_radius", 0.0, math.inf)
    outer = check_positive_float(outer_radius, "outer_radius")
    if outer <= inner:
        raise InputError(
            f"outer_radius must be greater than inner_radius, got {outer} <= {inner}", argument="outer_radius"
        )
    return _ring(shape, inner, outer, center, contrast, polarity, background, ppd)


def bar(shape, length, width, *, theta=0.0, center=None, polarity="light", contrast=1.0, background=0.5, ppd=None):
    """A rectangular bar (a thin bar is a "line" or slit).

    Parameters
    ----------
    shape : int or (H, W)
        Image size in pixels.
    length, width : float
        Size (> 0) along the long axis and across it, in pixels (degrees with
        ``ppd``). Widths below one pixel give proportionally fainter lines.
    theta : float
        Orientation in radians; 0 is a vertical bar (long axis along y),
        increasing clockwise on screen.
    center, polarity, contrast, background, ppd
        As in `spot`.

    Returns
    -------
    ndarray of float32, shape (H, W)
        Area-sampled (1-pixel ramp) along both axes of the bar.
    """
    shape = frame_shape(shape)
    ppd = check_ppd(ppd)
    length = to_px(check_positive_float(length, "length"), ppd)
    width = to_px(check_positive_float(width, "width"), ppd)
    theta = check_finite_float(theta, "theta")
    sign = polarity_sign(polarity)
    c, bg = levels(contrast, background, light=sign > 0)
    xr, yr = coords(shape, check_center(center, ppd), theta)
    return luminance(bg, sign * c * bg * box(xr, width / 2.0) * box(yr, length / 2.0))


def edge(shape, *, theta=0.0, position=0.0, kind="dark-to-light", contrast=1.0, background=0.5, ppd=None):
    """A straight luminance edge through the image.

    Parameters
    ----------
    shape : int or (H, W)
        Image size in pixels.
    theta : float
        Direction of the edge normal in radians; 0 is a vertical edge.
    position : float
        Signed offset of the edge from the image centre along the normal, in
        pixels (degrees with ``ppd``).
    kind : {"dark-to-light", "light-to-dark"}
        Going along the normal: "dark-to-light" is ``background * (1 - contrast)``
        on the negative side (the left for θ = 0) and ``background * (1 + contrast)``
        on the positive side; "light-to-dark" is its mirror.
    contrast, background, ppd
        As in `spot`; the Michelson contrast is ``contrast``.

    Returns
    -------
    ndarray of float32, shape (H, W)
        Anti-aliased with a 1-pixel ramp across the edge.
    """
    shape = frame_shape(shape)
    ppd = check_ppd(ppd)
    theta = check_finite_float(theta, "theta")
    pos = to_px(check_finite_float(position, "position"), ppd)
    sign = 1.0 if check_choice(kind, "kind", ("dark-to-light", "light-to-dark")) == "dark-to-light" else -1.0
    c, bg = levels(contrast, background)
    xr, _ = coords(shape, None, theta)
    return luminance(bg, sign * c * bg * (2.0 * np.clip(xr - pos + 0.5, 0.0, 1.0) - 1.0))
