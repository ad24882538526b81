"""White noise for reverse correlation."""

from __future__ import annotations

import numpy as np

from .._core.validate import check_allocation, check_choice, check_positive_int, check_rng
from .canvas import frame_shape, levels, luminance

__all__ = ["white_noise"]


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
    shape = frame_shape(shape)
    size = shape if n_frames is None else (check_positive_int(n_frames, "n_frames"),) + shape
    check_allocation(
        size, np.float32, "shape" if n_frames is None else "n_frames", copies=3, what=f"white noise of shape {size}"
    )
    kind = check_choice(kind, "kind", ("gaussian", "binary"))
    c, bg = levels(contrast, background)
    rng = check_rng(rng)
    if kind == "gaussian":
        return luminance(bg, (c * bg / 3.0) * rng.standard_normal(size, dtype=np.float32))
    light = rng.integers(0, 2, size, dtype=np.int8) > 0
    return np.where(light, np.float32(bg * (1 + c)), np.float32(bg * (1 - c)))
