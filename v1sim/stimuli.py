"""Visual stimuli for virtual electrophysiology (Hubel & Wiesel style).

Conventions
-----------
Images
    float32 luminance in [0, 1], shape (H, W), on a uniform mean-grey
    ``background`` (0.5 by default). Movies put time first: (T, H, W), frame
    ``k`` shown at ``t = k * dt`` seconds.
Contrast
    One definition for every stimulus: the luminance swings by
    ``contrast * background`` about the background. Gratings, plaids and edges
    span ``background * (1 ± contrast)``, so their Michelson contrast is
    ``contrast``; a "light" spot/annulus/bar is ``background * (1 + contrast)``
    and a "dark" one ``background * (1 - contrast)`` (Weber contrast
    ``±contrast``). A stimulus that would leave [0, 1] raises an InputError
    instead of being clipped (only Gaussian noise is clipped, see
    `white_noise`).
Coordinates
    ``x`` is the column index (rightwards), ``y`` the row index (downwards),
    with the origin at the centre of pixel (0, 0). ``center=(x, y)``;
    ``None`` is the image centre ``((W - 1) / 2, (H - 1) / 2)``. ``shape``
    (int or (H, W)) is always in pixels.
Angles
    Radians, measured from +x towards +y (clockwise on screen when shown with
    ``imshow``'s default ``origin="upper"``), as in ``skimage.filters.gabor``
    and ``v1sim.filters``: the rotated coordinates are
    ``x' = x cos θ + y sin θ`` and ``y' = -x sin θ + y cos θ``. A grating
    with θ = 0 varies along x (vertical stripes); a bar with θ = 0 is vertical
    (long axis along y); an edge with θ = 0 is a vertical boundary.
Units
    Pixels and cycles/pixel by default. With ``ppd`` (pixels per degree)
    every size, position and centre is in degrees of visual angle and every
    spatial frequency in cycles/degree (see `deg_to_px`, `cpd_to_cpp`).
    Temporal frequencies are in Hz, ``dt`` and durations in seconds.
Anti-aliasing
    Edges are area-sampled with a 1-pixel linear ramp (the fraction of each
    pixel on the stimulus side of the edge, exact for straight axis-aligned
    edges), so areas, positions and tuning curves vary smoothly with the
    parameters; square-wave gratings use the same ramp.
Randomness
    ``rng`` may be None, an int seed or a ``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np

from ._core.validate import (
    as_float_array,
    check_allocation,
    check_choice,
    check_finite_float,
    check_in_range,
    check_int_pair,
    check_positive_float,
    check_positive_int,
    check_rng,
    float_dtype,
)
from .errors import InputError

__all__ = [
    "annulus",
    "bar",
    "counterphase_grating",
    "cpd_to_cpp",
    "deg_to_px",
    "drifting_grating",
    "edge",
    "grating",
    "natural_image",
    "plaid",
    "present",
    "spot",
    "textures",
    "white_noise",
]

_TEXTURES = ("brick", "grass", "gravel")
_NATURAL = ("camera", "moon", "coins", "text", "page", "clock", "astronaut", "chelsea", "coffee") + _TEXTURES
_INF = float("inf")
_WORK = 6  # float64 (H, W) arrays alive at once while one frame is drawn (x', y', distance, ramps, sum)


# ----------------------------------------------------------------------------- units
def deg_to_px(deg, ppd):
    """Degrees of visual angle to pixels: ``deg * ppd``.

    Parameters
    ----------
    deg : float or array_like
        Size or position in degrees.
    ppd : float
        Pixels per degree, > 0.

    Returns
    -------
    float or ndarray of float64

    Raises
    ------
    InputError
        For a non-positive ``ppd``, non-finite values (NonFiniteError), or a result beyond float64.
    InputTypeError
        For values that are not real numbers (strings, ragged lists).
    """
    return _scaled(deg, "deg", check_positive_float(ppd, "ppd"), "*")


def cpd_to_cpp(cpd, ppd):
    """Cycles/degree to cycles/pixel: ``cpd / ppd``.

    Parameters
    ----------
    cpd : float or array_like
        Spatial frequency in cycles per degree.
    ppd : float
        Pixels per degree, > 0.

    Returns
    -------
    float or ndarray of float64

    Raises
    ------
    InputError
        For a non-positive ``ppd``, non-finite values (NonFiniteError), or a result beyond float64.
    InputTypeError
        For values that are not real numbers (strings, ragged lists).
    """
    return _scaled(cpd, "cpd", check_positive_float(ppd, "ppd"), "/")


def _scaled(value, name, ppd, op):
    """``value * ppd`` or ``value / ppd`` (a float for a scalar), refused by name if it overflows float64."""
    arr = as_float_array(value, name, dtype=np.float64, allow_empty=True)  # ragged lists are named here too
    with np.errstate(over="ignore"):
        out = arr * ppd if op == "*" else arr / ppd
    if not np.isfinite(out).all():
        raise InputError(f"{name} {op} ppd overflows float64: got {name} up to {np.abs(arr).max():.3g} and ppd = "
                         f"{ppd:.3g}", argument=name)  # fmt: skip
    return float(out[0]) if np.ndim(value) == 0 else out  # as_float_array returns 0-d input as shape (1,)


# ----------------------------------------------------------------------------- private helpers
def _shape(shape, name="shape"):
    """A validated (H, W) in pixels whose frame and working arrays fit in memory."""
    h, w = check_int_pair(shape, name)
    check_allocation((h, w), np.float64, name, copies=_WORK, what=f"{name}={shape!r} asks for a {h} x {w} image")
    return h, w


def _ppd(ppd):
    return None if ppd is None else check_positive_float(ppd, "ppd")


def _px(value, ppd):
    """A validated length/position (user units) in pixels."""
    return value if ppd is None else value * ppd


def _center(center, ppd):
    if center is None:
        return None
    items = tuple(center) if np.ndim(center) == 1 else ()
    if len(items) != 2:
        raise InputError(f"center must be None or a pair (x, y), got {center!r}", argument="center")
    return tuple(_px(check_finite_float(v, "center"), ppd) for v in items)


def _levels(contrast, background, *, light=True):
    """Validate contrast and background; refuse stimuli that would exceed 1."""
    c = check_in_range(contrast, "contrast", 0.0, 1.0)
    bg = check_in_range(background, "background", 0.0, 1.0)
    if light and bg * (1.0 + c) > 1.0 + 1e-12:
        raise InputError(
            f"contrast={c} on background={bg} would reach luminance {bg * (1 + c):.4g} > 1; "
            f"use contrast <= {1 / bg - 1:.4g} or a darker background",
            argument="contrast",
        )
    return c, bg


def _sign(polarity):
    return 1.0 if check_choice(polarity, "polarity", ("light", "dark")) == "light" else -1.0


def _coords(shape, center=None, theta=0.0):
    """Rotated coordinates (x', y') in pixels about ``center`` (pixels), each (H, W) float64."""
    h, w = shape
    cx, cy = ((w - 1) / 2.0, (h - 1) / 2.0) if center is None else center
    x = (np.arange(w) - cx)[None, :]
    y = (np.arange(h) - cy)[:, None]
    c, s = np.cos(theta), np.sin(theta)
    return x * c + y * s, -x * s + y * c


def _disc(d, radius):
    """Fraction of each pixel inside ``radius`` (1-pixel ramp on distance ``d``)."""
    return np.clip(radius - d + 0.5, 0.0, 1.0)


def _box(u, half):
    """Fraction of the unit pixel interval [u - 1/2, u + 1/2] inside [-half, half]."""
    return np.clip(np.minimum(u + 0.5, half) - np.maximum(u - 0.5, -half), 0.0, 1.0)


def _wave(xr, f, phase, waveform):
    """Carrier in [-1, 1]: cos(2π f x' + phase), or its anti-aliased square wave."""
    psi = 2.0 * np.pi * f * xr + phase
    if waveform == "sine":
        return np.cos(psi)
    dist = np.arcsin(np.clip(np.cos(psi), -1.0, 1.0)) / (2.0 * np.pi * f)  # px to nearest edge, + inside
    return np.clip(2.0 * dist, -1.0, 1.0)


def _image(bg, delta):
    return np.clip(bg + delta, 0.0, 1.0).astype(np.float32)


def _grating_setup(shape, frequency, theta, phase, contrast, waveform, center, mask, mask_radius, background, ppd):
    """Shared validation of the grating family; returns (x', f in cycles/px, envelope, c, bg, waveform)."""
    shape = _shape(shape)
    ppd = _ppd(ppd)
    f = check_positive_float(frequency, "frequency")
    f_px = f if ppd is None else f / ppd
    if f_px > 0.5:
        unit = "" if ppd is None else f" cycles/degree = {f_px:.4g} cycles/pixel at ppd={ppd}"
        raise InputError(f"frequency must be at most the Nyquist limit 0.5 cycles/pixel, got {f}{unit}",
                         argument="frequency")  # fmt: skip
    theta = check_finite_float(theta, "theta")
    check_finite_float(phase, "phase")
    waveform = check_choice(waveform, "waveform", ("sine", "square"))
    c, bg = _levels(contrast, background)
    center = _center(center, ppd)
    env = 1.0
    if mask is not None:
        mask = check_choice(mask, "mask", ("circle", "gaussian"))
        if mask_radius is None:
            r = min(shape) / (2.0 if mask == "circle" else 6.0)
        else:
            r = _px(check_positive_float(mask_radius, "mask_radius"), ppd)
        xr, yr = _coords(shape, center)
        d = np.hypot(xr, yr)
        env = _disc(d, r) if mask == "circle" else np.exp(-(d**2) / (2.0 * r**2))
    elif mask_radius is not None:
        raise InputError("mask_radius was given but mask is None; pass mask='circle' or 'gaussian'",
                         argument="mask_radius")  # fmt: skip
    xr, _ = _coords(shape, center, theta)
    return xr, f_px, env, c, bg, waveform


def _times(duration, dt, temporal_frequency, frame, dtype=np.float32, copies=1):
    """Frame times ``k * dt`` of a movie of ``frame`` = (H, W) pixels, refused if the movie cannot fit in memory."""
    duration = check_positive_float(duration, "duration")
    dt = check_positive_float(dt, "dt")
    tf = check_in_range(temporal_frequency, "temporal_frequency", 0.0, _INF)
    if tf * dt >= 0.5:
        raise InputError(f"temporal_frequency must be below the Nyquist limit 0.5/dt = {0.5 / dt:.4g} Hz, got {tf}",
                         argument="temporal_frequency")  # fmt: skip
    frames = duration / dt  # may overflow to inf (1e300 s at 1e-10 s): bounded before int() sees it
    if frames >= 2**62:
        raise InputError(f"duration={duration} s at dt={dt} s is {frames:.3g} frames; a movie that long would need "
                         f"more memory than any machine has", argument="duration")  # fmt: skip
    n = int(round(frames))
    if n < 1:
        raise InputError(f"duration must be at least dt/2 = {dt / 2} s to hold one frame, got {duration}",
                         argument="duration")  # fmt: skip
    check_allocation((n,) + tuple(frame), dtype, "duration", copies=copies,
                     what=f"duration={duration} s at dt={dt} s gives a movie of {n} frames of {frame[0]} x {frame[1]}")
    return np.arange(n) * dt, tf


# ----------------------------------------------------------------------------- spots, bars, edges
def _ring(shape, inner, outer, center, contrast, polarity, background, ppd):
    """Shared body of `spot` and `annulus` (radii validated, in user units)."""
    sign = _sign(polarity)
    c, bg = _levels(contrast, background, light=sign > 0)
    xr, yr = _coords(shape, _center(center, ppd))
    d = np.hypot(xr, yr)
    cover = _disc(d, _px(outer, ppd)) - (_disc(d, _px(inner, ppd)) if inner > 0 else 0.0)
    return _image(bg, sign * c * bg * cover)


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
    shape, ppd = _shape(shape), _ppd(ppd)
    radius = check_positive_float(radius, "radius")
    return _ring(shape, 0.0, radius, center, contrast, polarity, background, ppd)


def annulus(shape, inner_radius, outer_radius, *, center=None, contrast=1.0, polarity="light",
            background=0.5, ppd=None):
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
    shape, ppd = _shape(shape), _ppd(ppd)
    inner = check_in_range(inner_radius, "inner_radius", 0.0, _INF)
    outer = check_positive_float(outer_radius, "outer_radius")
    if outer <= inner:
        raise InputError(f"outer_radius must be greater than inner_radius, got {outer} <= {inner}",
                         argument="outer_radius")  # fmt: skip
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
    shape = _shape(shape)
    ppd = _ppd(ppd)
    length = _px(check_positive_float(length, "length"), ppd)
    width = _px(check_positive_float(width, "width"), ppd)
    theta = check_finite_float(theta, "theta")
    sign = _sign(polarity)
    c, bg = _levels(contrast, background, light=sign > 0)
    xr, yr = _coords(shape, _center(center, ppd), theta)
    return _image(bg, sign * c * bg * _box(xr, width / 2.0) * _box(yr, length / 2.0))


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
    shape = _shape(shape)
    ppd = _ppd(ppd)
    theta = check_finite_float(theta, "theta")
    pos = _px(check_finite_float(position, "position"), ppd)
    sign = 1.0 if check_choice(kind, "kind", ("dark-to-light", "light-to-dark")) == "dark-to-light" else -1.0
    c, bg = _levels(contrast, background)
    xr, _ = _coords(shape, None, theta)
    return _image(bg, sign * c * bg * (2.0 * np.clip(xr - pos + 0.5, 0.0, 1.0) - 1.0))


# ----------------------------------------------------------------------------- gratings
def grating(shape, frequency, *, theta=0.0, phase=0.0, contrast=1.0, waveform="sine", center=None,
            mask=None, mask_radius=None, background=0.5, ppd=None):
    """A static grating, full-field or in an aperture.

    Parameters
    ----------
    shape : int or (H, W)
        Image size in pixels.
    frequency : float
        Spatial frequency, > 0 and at most 0.5 cycles/pixel (Nyquist), in
        cycles/pixel (cycles/degree with ``ppd``).
    theta : float
        Orientation in radians; 0 varies along x (vertical stripes).
    phase : float
        Radians; the carrier is ``cos(2π f x' + phase)`` with x' measured from
        ``center``: phase 0 puts a bright crest there.
    contrast : float in [0, 1]
        Michelson contrast: luminance ``background * (1 + contrast * carrier)``.
    waveform : {"sine", "square"}
        Sinusoid, or anti-aliased square wave (same phase and zero crossings).
    center : (x, y), optional
        Phase reference and aperture centre, pixels (degrees with ``ppd``).
    mask : {None, "circle", "gaussian"}
        Aperture: a disc of radius ``mask_radius`` (default min(H, W)/2 px) or
        a Gaussian envelope of standard deviation ``mask_radius`` (default
        min(H, W)/6 px); background outside.
    mask_radius : float, optional
        Pixels (degrees with ``ppd``); only together with ``mask``.
    background : float in [0, 1]
        Mean luminance.
    ppd : float, optional
        Pixels per degree.

    Returns
    -------
    ndarray of float32, shape (H, W)
    """
    xr, f, env, c, bg, waveform = _grating_setup(shape, frequency, theta, phase, contrast, waveform,
                                                 center, mask, mask_radius, background, ppd)
    return _image(bg, c * bg * env * _wave(xr, f, phase, waveform))


def drifting_grating(shape, frequency, temporal_frequency, duration, *, dt=0.01, theta=0.0, phase=0.0,
                     contrast=1.0, waveform="sine", center=None, mask=None, mask_radius=None,
                     background=0.5, ppd=None):
    """A grating drifting along its normal, in the direction θ.

    Frame ``k`` is `grating` with phase ``phase - 2π tf k dt``: the stripes
    move ``temporal_frequency / frequency`` pixels (degrees) per second along
    ``(cos θ, sin θ)``; θ = 0 drifts rightwards, θ = π/2 downwards, θ = π leftwards.

    Parameters
    ----------
    temporal_frequency : float
        Hz, >= 0 (0 gives a static control) and below Nyquist ``0.5 / dt``.
    duration : float
        Seconds; ``round(duration / dt)`` frames at ``t = k * dt``.
    dt : float
        Frame interval in seconds (``1 / fps``).
    shape, frequency, theta, phase, contrast, waveform, center, mask, mask_radius, background, ppd
        As in `grating`.

    Returns
    -------
    ndarray of float32, shape (T, H, W)
    """
    xr, f, env, c, bg, waveform = _grating_setup(shape, frequency, theta, phase, contrast, waveform,
                                                 center, mask, mask_radius, background, ppd)
    t, tf = _times(duration, dt, temporal_frequency, xr.shape)
    out = np.empty((t.size,) + xr.shape, np.float32)
    for k, tk in enumerate(t):
        out[k] = _image(bg, c * bg * env * _wave(xr, f, phase - 2.0 * np.pi * tf * tk, waveform))
    return out


def counterphase_grating(shape, frequency, temporal_frequency, duration, *, dt=0.01, theta=0.0, phase=0.0,
                         contrast=1.0, waveform="sine", center=None, mask=None, mask_radius=None,
                         background=0.5, ppd=None):
    """A standing grating whose contrast reverses sinusoidally in time.

    Frame ``k`` is ``background * (1 + contrast * cos(2π tf k dt) * carrier)``;
    for the sine waveform, the sum of two half-contrast gratings drifting in
    opposite directions.

    Parameters
    ----------
    temporal_frequency, duration, dt
        As in `drifting_grating`.
    shape, frequency, theta, phase, contrast, waveform, center, mask, mask_radius, background, ppd
        As in `grating`.

    Returns
    -------
    ndarray of float32, shape (T, H, W)
    """
    xr, f, env, c, bg, waveform = _grating_setup(shape, frequency, theta, phase, contrast, waveform,
                                                 center, mask, mask_radius, background, ppd)
    t, tf = _times(duration, dt, temporal_frequency, xr.shape, np.float64, copies=3)  # product, clip, cast
    amp = np.cos(2.0 * np.pi * tf * t)[:, None, None]
    return _image(bg, amp * (c * bg * env * _wave(xr, f, phase, waveform)))


def plaid(shape, frequency, theta1, theta2, *, contrast=1.0, phase=0.0, waveform="sine", center=None,
          mask=None, mask_radius=None, background=0.5, ppd=None):
    """Two superimposed gratings of half the contrast each.

    Luminance ``background * (1 + contrast/2 * (carrier(θ1) + carrier(θ2)))``,
    so the peak Michelson contrast is ``contrast`` where the crests coincide.

    Parameters
    ----------
    theta1, theta2 : float
        Orientations of the two components, radians.
    shape, frequency, contrast, phase, waveform, center, mask, mask_radius, background, ppd
        As in `grating` (shared by both components).

    Returns
    -------
    ndarray of float32, shape (H, W)
    """
    theta1, theta2 = check_finite_float(theta1, "theta1"), check_finite_float(theta2, "theta2")
    xr, f, env, c, bg, waveform = _grating_setup(shape, frequency, theta1, phase, contrast, waveform,
                                                 center, mask, mask_radius, background, ppd)
    xr2, _ = _coords(xr.shape, _center(center, _ppd(ppd)), theta2)
    return _image(bg, 0.5 * c * bg * env * (_wave(xr, f, phase, waveform) + _wave(xr2, f, phase, waveform)))


# ----------------------------------------------------------------------------- noise, images, movies
def white_noise(shape, *, n_frames=None, contrast=1.0, kind="gaussian", background=0.5, rng=None):
    """Spatio(-temporal) white noise for reverse correlation.

    Parameters
    ----------
    shape : int or (H, W)
        Frame size in pixels.
    n_frames : int, optional
        Number of frames; None returns one image.
    contrast : float in [0, 1]
        "gaussian": independent normal pixels of mean ``background`` and
        standard deviation ``contrast * background / 3`` (so ±3σ spans
        ``background * (1 ± contrast)``), clipped to [0, 1] (< 0.3% of pixels
        at contrast 1, which shrinks the std by < 1%). "binary": each pixel is
        ``background * (1 ± contrast)`` with probability 1/2 (std
        ``contrast * background``).
    kind : {"gaussian", "binary"}
    background : float in [0, 1]
    rng : None, int or numpy.random.Generator

    Returns
    -------
    ndarray of float32, shape (H, W) or (T, H, W)
    """
    shape = _shape(shape)
    size = shape if n_frames is None else (check_positive_int(n_frames, "n_frames"),) + shape
    check_allocation(size, np.float32, "shape" if n_frames is None else "n_frames", copies=3,
                     what=f"white noise of shape {size}")  # fmt: skip
    kind = check_choice(kind, "kind", ("gaussian", "binary"))
    c, bg = _levels(contrast, background)
    rng = check_rng(rng)
    if kind == "gaussian":
        return _image(bg, (c * bg / 3.0) * rng.standard_normal(size, dtype=np.float32))
    light = rng.integers(0, 2, size, dtype=np.int8) > 0
    return np.where(light, np.float32(bg * (1 + c)), np.float32(bg * (1 - c)))


def natural_image(name="camera", *, size=None):
    """A grey natural image or texture bundled with scikit-image (no network).

    Parameters
    ----------
    name : str
        One of "camera", "moon", "coins", "text", "page", "clock", "astronaut",
        "chelsea", "coffee" (colour images are converted with
        ``skimage.color.rgb2gray``) or the textures "brick", "grass", "gravel".
    size : int or (H, W), optional
        Resize to this shape (an int gives a square, which may change the
        aspect ratio) with ``skimage.transform.resize(anti_aliasing=True)``.

    Returns
    -------
    ndarray of float32, shape (H, W)
        Luminance in [0, 1]; a fresh array on each call.
    """
    name = check_choice(name, "name", _NATURAL)
    size = None if size is None else _shape(size, "size")
    import skimage.color
    import skimage.data
    import skimage.transform
    import skimage.util

    img = getattr(skimage.data, name)()
    img = skimage.color.rgb2gray(img) if img.ndim == 3 else skimage.util.img_as_float(img)
    if size is not None:
        img = skimage.transform.resize(img, size, anti_aliasing=True)
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def textures(*, size=None):
    """The bundled grey textures: {"brick", "grass", "gravel"} -> float32 (H, W) images.

    See Also
    --------
    natural_image : ``size`` has the same meaning.
    """
    return {name: natural_image(name, size=size) for name in _TEXTURES}


def present(image, duration, *, onset=0.0, offset=None, dt=0.001, background=0.5):
    """A movie showing ``image`` from ``onset`` to ``offset`` on a uniform background.

    Frame ``k`` (at ``t = k * dt``) is ``image`` when ``onset <= t < offset``
    (up to rounding error in ``t``) and ``background`` otherwise: the flashed
    stimulus of a raster/PSTH.

    Parameters
    ----------
    image : ndarray, shape (H, W)
        The stimulus (e.g. from `spot` or `grating`); values are copied as given.
    duration : float
        Seconds; ``round(duration / dt)`` frames.
    onset : float
        Stimulus onset in seconds, 0 <= onset < duration.
    offset : float, optional
        Stimulus offset in seconds (> onset); None keeps it on to the end.
    dt : float
        Frame interval in seconds.
    background : float in [0, 1]
        Luminance outside the stimulus window.

    Returns
    -------
    ndarray, shape (T, H, W)
        float32, or float64 if ``image`` is float64.
    """
    image = as_float_array(image, "image", ndim=2)
    t, _ = _times(duration, dt, 0.0, image.shape, float_dtype(image))
    onset = check_in_range(onset, "onset", 0.0, float(duration), inclusive=(True, False))
    off = _INF if offset is None else check_in_range(offset, "offset", onset, _INF, inclusive=(False, True))
    bg = check_in_range(background, "background", 0.0, 1.0)
    out = np.full((t.size,) + image.shape, bg, dtype=float_dtype(image))
    first, stop = (int(np.ceil(v / dt - 1e-9)) if v < _INF else t.size for v in (onset, off))
    out[first:stop] = image
    return out
