"""What every stimulus shares: validated shape, units and levels, pixel coordinates, area-sampled edges, frame times.

Conventions as :mod:`v1sim.stimuli` (x rightwards, y downwards, origin at the
centre of pixel (0, 0); luminance in [0, 1] about a mean grey ``background``).
These helpers validate and convert; the stimuli modules draw.
"""

from __future__ import annotations

import math

import numpy as np

from .._core.validate import (
    check_allocation,
    check_choice,
    check_finite_float,
    check_in_range,
    check_int_pair,
    check_positive_float,
)
from ..errors import InputError

__all__ = [
    "WORK_COPIES",
    "box",
    "check_center",
    "check_ppd",
    "coords",
    "disc",
    "frame_shape",
    "frame_times",
    "levels",
    "luminance",
    "polarity_sign",
    "to_px",
]

WORK_COPIES = 6  # float64 (H, W) arrays alive at once while one frame is drawn (x', y', distance, ramps, sum)


def frame_shape(shape, name="shape"):
    """A validated (H, W) in pixels whose frame and working arrays fit in memory."""
    h, w = check_int_pair(shape, name)
    check_allocation((h, w), np.float64, name, copies=WORK_COPIES, what=f"{name}={shape!r} asks for a {h} x {w} image")
    return h, w


def check_ppd(ppd):
    """``None``, or a validated pixels-per-degree (> 0)."""
    return None if ppd is None else check_positive_float(ppd, "ppd")


def to_px(value, ppd):
    """A validated length/position (user units) in pixels."""
    return value if ppd is None else value * ppd


def check_center(center, ppd):
    """``None`` (the image centre), or a validated ``(x, y)`` in pixels."""
    if center is None:
        return None
    items = tuple(center) if np.ndim(center) == 1 else ()
    if len(items) != 2:
        raise InputError(f"center must be None or a pair (x, y), got {center!r}", argument="center")
    return tuple(to_px(check_finite_float(v, "center"), ppd) for v in items)


def levels(contrast, background, *, light=True):
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


def polarity_sign(polarity):
    """+1 for "light", -1 for "dark"."""
    return 1.0 if check_choice(polarity, "polarity", ("light", "dark")) == "light" else -1.0


def coords(shape, center=None, theta=0.0):
    """Rotated coordinates (x', y') in pixels about ``center`` (pixels), each (H, W) float64."""
    h, w = shape
    cx, cy = ((w - 1) / 2.0, (h - 1) / 2.0) if center is None else center
    x = (np.arange(w) - cx)[None, :]
    y = (np.arange(h) - cy)[:, None]
    c, s = np.cos(theta), np.sin(theta)
    return x * c + y * s, -x * s + y * c


def disc(d, radius):
    """Fraction of each pixel inside ``radius`` (1-pixel ramp on distance ``d``)."""
    return np.clip(radius - d + 0.5, 0.0, 1.0)


def box(u, half):
    """Fraction of the unit pixel interval [u - 1/2, u + 1/2] inside [-half, half]."""
    return np.clip(np.minimum(u + 0.5, half) - np.maximum(u - 0.5, -half), 0.0, 1.0)


def luminance(bg, delta):
    """The frame ``background + delta``, clipped to [0, 1], as float32."""
    return np.clip(bg + delta, 0.0, 1.0).astype(np.float32)


def frame_times(duration, dt, temporal_frequency, frame, dtype=np.float32, copies=1):
    """Frame times ``k * dt`` of a movie of ``frame`` = (H, W) pixels, refused if the movie cannot fit in memory."""
    duration = check_positive_float(duration, "duration")
    dt = check_positive_float(dt, "dt")
    tf = check_in_range(temporal_frequency, "temporal_frequency", 0.0, math.inf)
    if tf * dt >= 0.5:
        raise InputError(
            f"temporal_frequency must be below the Nyquist limit 0.5/dt = {0.5 / dt:.4g} Hz, got {tf}",
            argument="temporal_frequency",
        )
    frames = duration / dt  # may overflow to inf (1e300 s at 1e-10 s): bounded before int() sees it
    if frames >= 2**62:
        raise InputError(
            f"duration={duration} s at dt={dt} s is {frames:.3g} frames; a movie that long would need "
            f"more memory than any machine has",
            argument="duration",
        )
    n = int(round(frames))
    if n < 1:
        raise InputError(
            f"duration must be at least dt/2 = {dt / 2} s to hold one frame, got {duration}", argument="duration"
        )
    check_allocation(
        (n,) + tuple(frame),
        dtype,
        "duration",
        copies=copies,
        what=f"duration={duration} s at dt={dt} s gives a movie of {n} frames of {frame[0]} x {frame[1]}",
    )
    return np.arange(n) * dt, tf
