"""Natural images and textures bundled with scikit-image, and the flashed presentation of any image as a movie."""

from __future__ import annotations

import math

import numpy as np

from .._core.validate import as_float_array, check_choice, check_in_range, float_dtype
from .canvas import frame_shape, frame_times

__all__ = ["IMAGE_NAMES", "TEXTURE_NAMES", "natural_image", "present", "textures"]

TEXTURE_NAMES = ("brick", "grass", "gravel")
IMAGE_NAMES = ("camera", "moon", "coins", "text", "page", "clock", "astronaut", "chelsea", "coffee") + TEXTURE_NAMES


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
    name = check_choice(name, "name", IMAGE_NAMES)
    size = None if size is None else frame_shape(size, "size")
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
    return {name: natural_image(name, size=size) for name in TEXTURE_NAMES}


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
    t, _ = frame_times(duration, dt, 0.0, image.shape, float_dtype(image))
    onset = check_in_range(onset, "onset", 0.0, float(duration), inclusive=(True, False))
    off = math.inf if offset is None else check_in_range(offset, "offset", onset, math.inf, inclusive=(False, True))
    bg = check_in_range(background, "background", 0.0, 1.0)
    out = np.full((t.size,) + image.shape, bg, dtype=float_dtype(image))
    first, stop = (int(np.ceil(v / dt - 1e-9)) if v < math.inf else t.size for v in (onset, off))
    out[first:stop] = image
    return out
