"""Gratings: static, drifting, counterphase, plaids; sine or anti-aliased square wave, full-field or in an aperture."""

from __future__ import annotations

import numpy as np

from .._core.validate import check_choice, check_finite_float, check_positive_float
from ..errors import InputError
from .canvas import check_center, check_ppd, coords, disc, frame_shape, frame_times, levels, luminance, to_px

__all__ = ["counterphase_grating", "drifting_grating", "grating", "plaid"]


def _wave(xr, f, phase, waveform):
    """Carrier in [-1, 1]: cos(2π f x' + phase), or its anti-aliased square wave."""
    psi = 2.0 * np.pi * f * xr + phase
    if waveform == "sine":
        return np.cos(psi)
    dist = np.arcsin(np.clip(np.cos(psi), -1.0, 1.0)) / (2.0 * np.pi * f)  # px to nearest edge, + inside
    return np.clip(2.0 * dist, -1.0, 1.0)


def _grating_setup(shape, frequency, theta, phase, contrast, waveform, center, mask, mask_radius, background, ppd):
    """Shared validation of the grating family; returns (x', f in cycles/px, envelope, c, bg, waveform)."""
    shape = frame_shape(shape)
    ppd = check_ppd(ppd)
    f = check_positive_float(frequency, "frequency")
    f_px = f if ppd is None else f / ppd
    if f_px > 0.5:
        unit = "" if ppd is None else f" cycles/degree = {f_px:.4g} cycles/pixel at ppd={ppd}"
        raise InputError(
            f"frequency must be at most the Nyquist limit 0.5 cycles/pixel, got {f}{unit}", argument="frequency"
        )
    theta = check_finite_float(theta, "theta")
    check_finite_float(phase, "phase")
    waveform = check_choice(waveform, "waveform", ("sine", "square"))
    c, bg = levels(contrast, background)
    center = check_center(center, ppd)
    env = 1.0
    if mask is not None:
        mask = check_choice(mask, "mask", ("circle", "gaussian"))
        if mask_radius is None:
            r = min(shape) / (2.0 if mask == "circle" else 6.0)
        else:
            r = to_px(check_positive_float(mask_radius, "mask_radius"), ppd)
        xr, yr = coords(shape, center)
        d = np.hypot(xr, yr)
        env = disc(d, r) if mask == "circle" else np.exp(-(d**2) / (2.0 * r**2))
    elif mask_radius is not None:
        raise InputError(
            "mask_radius was given but mask is None; pass mask='circle' or 'gaussian'", argument="mask_radius"
        )
    xr, _ = coords(shape, center, theta)
    return xr, f_px, env, c, bg, waveform


def grating(
    shape,
    frequency,
    *,
    theta=0.0,
    phase=0.0,
    contrast=1.0,
    waveform="sine",
    center=None,
    mask=None,
    mask_radius=None,
    background=0.5,
    ppd=None,
):
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
    xr, f, env, c, bg, waveform = _grating_setup(
        shape, frequency, theta, phase, contrast, waveform, center, mask, mask_radius, background, ppd
    )
    return luminance(bg, c * bg * env * _wave(xr, f, phase, waveform))


def drifting_grating(
    shape,
    frequency,
    temporal_frequency,
    duration,
    *,
    dt=0.01,
    theta=0.0,
    phase=0.0,
    contrast=1.0,
    waveform="sine",
    center=None,
    mask=None,
    mask_radius=None,
    background=0.5,
    ppd=None,
):
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
    xr, f, env, c, bg, waveform = _grating_setup(
        shape, frequency, theta, phase, contrast, waveform, center, mask, mask_radius, background, ppd
    )
    t, tf = frame_times(duration, dt, temporal_frequency, xr.shape)
    out = np.empty((t.size,) + xr.shape, np.float32)
    for k, tk in enumerate(t):
        out[k] = luminance(bg, c * bg * env * _wave(xr, f, phase - 2.0 * np.pi * tf * tk, waveform))
    return out


def counterphase_grating(
    shape,
    frequency,
    temporal_frequency,
    duration,
    *,
    dt=0.01,
    theta=0.0,
    phase=0.0,
    contrast=1.0,
    waveform="sine",
    center=None,
    mask=None,
    mask_radius=None,
    background=0.5,
    ppd=None,
):
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
    xr, f, env, c, bg, waveform = _grating_setup(
        shape, frequency, theta, phase, contrast, waveform, center, mask, mask_radius, background, ppd
    )
    t, tf = frame_times(duration, dt, temporal_frequency, xr.shape, np.float64, copies=3)  # product, clip, cast
    amp = np.cos(2.0 * np.pi * tf * t)[:, None, None]
    return luminance(bg, amp * (c * bg * env * _wave(xr, f, phase, waveform)))


def plaid(
    shape,
    frequency,
    theta1,
    theta2,
    *,
    contrast=1.0,
    phase=0.0,
    waveform="sine",
    center=None,
    mask=None,
    mask_radius=None,
    background=0.5,
    ppd=None,
):
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
    xr, f, env, c, bg, waveform = _grating_setup(
        shape, frequency, theta1, phase, contrast, waveform, center, mask, mask_radius, background, ppd
    )
    xr2, _ = coords(xr.shape, check_center(center, check_ppd(ppd)), theta2)
    return luminance(bg, 0.5 * c * bg * env * (_wave(xr, f, phase, waveform) + _wave(xr2, f, phase, waveform)))
