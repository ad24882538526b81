"""Natural images, offline: scikit-image's bundled photographs or a folder of one's own, and patches drawn from them.

The embedded default for learning receptive fields from natural images (ICA in
:mod:`v1sim.efficient_coding`, the natural-image ConvNets): nine grey
photographs and textures that ship inside scikit-image's wheel, so nothing is
downloaded. A folder of PNG/JPEG photographs (a van Hateren or ImageNet
subset) can stand in for them.

:func:`natural_images`
    The images themselves, grey float64 in [0, 1].
:func:`natural_patches`
    Random square patches of (log-)luminance, each with its own mean removed.
:func:`whiten`
    Olshausen & Field's whitening filter ``f exp(-(f/f0)^4)``: flattens the
    1/f amplitude spectrum of natural images and cuts the corner frequencies.

References
----------
.. [1] Olshausen BA, Field DJ (1996). Emergence of simple-cell receptive field
   properties by learning a sparse code for natural images. Nature 381:607-609.
.. [2] Olshausen BA, Field DJ (1997). Sparse coding with an overcomplete basis
   set: a strategy employed by V1? Vision Res 37:3311-3325 (the whitening filter).
.. [3] van Hateren JH, van der Schaaf A (1998). Independent component filters
   of natural images compared with simple cells in primary visual cortex.
   Proc R Soc Lond B 265:359-366.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._core.validate import (
    as_float_array,
    check_allocation,
    check_in_range,
    check_positive_int,
    check_rng,
)
from ..errors import InputError, InputTypeError
from .folder import load_image_folder

__all__ = ["NATURAL_IMAGES", "natural_images", "natural_patches", "whiten"]

#: Grey photographs and textures shipped inside scikit-image's wheel (see v1sim.stimuli.natural_image).
NATURAL_IMAGES = ("camera", "astronaut", "coffee", "chelsea", "moon", "clock", "brick", "grass", "gravel")


def natural_images(source=None) -> list[np.ndarray]:
    """The natural images to learn from: scikit-image's bundled photographs, or a folder of one's own.

    Parameters
    ----------
    source : None or str or os.PathLike
        ``None``: the nine grey images of :data:`NATURAL_IMAGES`, read from
        scikit-image's package data (no network; colour ones converted with
        ``skimage.color.rgb2gray``). A folder: every PNG/JPEG under it, as
        :func:`~v1sim.datasets.load_image_folder` reads them (Rec. 601 grey).

    Returns
    -------
    list of ndarray of float64, each (H, W)
        Luminance in [0, 1]; fresh arrays, sizes differ between images.

    Raises
    ------
    v1sim.errors.InputError
        If the folder holds no readable image (``argument="data_dir"``).
    v1sim.errors.InputTypeError
        If ``source`` is neither None nor a path.
    """
    if source is None:
        from ..stimuli import natural_image

        return [natural_image(name).astype(np.float64) for name in NATURAL_IMAGES]
    return load_image_folder(source)


def _grey_images(images, size: int, log: bool) -> list[np.ndarray]:
    from ..stimuli import natural_image

    if not isinstance(images, Sequence) and not isinstance(images, np.ndarray):
        raise InputTypeError(
            f"images must be a sequence of image names or 2-D arrays, got {type(images).__name__}", argument="images"
        )
    if isinstance(images, (str, np.ndarray)) or len(images) == 0:
        raise InputError("images must be a non-empty sequence of image names or 2-D arrays", argument="images")
    grey = []
    for i, image in enumerate(images):
        img = natural_image(image) if isinstance(image, str) else as_float_array(image, f"images[{i}]", ndim=2)
        if min(img.shape) <= size:
            raise InputError(
                f"images[{i}] must be larger than size={size} pixels, got shape {img.shape}", argument=f"images[{i}]"
            )
        img = img.astype(np.float64)
        grey.append(np.log1p(255.0 * np.clip(img, 0.0, None)) if log else img)
    return grey


def natural_patches(n, size, *, images=NATURAL_IMAGES, log=True, rng=None) -> np.ndarray:
    """Draw ``n`` square patches at random positions from natural images, each with its mean removed.

    Patch ``k`` comes from image ``k % len(images)`` at a position drawn
    uniformly from ``rng`` (row, then column), so the images contribute equally
    and a seed gives the same patches every time.

    Parameters
    ----------
    n : int
        Number of patches, drawn in turn from each image.
    size : int
        Patch side in pixels (>= 2).
    images : sequence of str or of (H, W) array_like
        Names for :func:`v1sim.stimuli.natural_image` (default: the nine
        bundled grey images and textures, :data:`NATURAL_IMAGES`) or grey
        images of your own in [0, 1] (e.g. ``natural_images(folder)``), each
        larger than ``size``.
    log : bool
        Take ``log(1 + 255 I)`` first, so patches code contrast rather than
        absolute luminance (as the retina roughly does; van Hateren 1998 [3]_).
    rng : None, int or numpy.random.Generator

    Returns
    -------
    (n, size, size) ndarray of float64
        Patches with their own mean subtracted (each sums to zero); their
        contrast is not normalised.
    """
    n = check_positive_int(n, "n")
    size = check_positive_int(size, "size")
    if size < 2:
        raise InputError(f"size must be at least 2 pixels, got {size}", argument="size")
    check_allocation(
        (n, size, size),
        np.float64,
        "n" if n > size * size else "size",
        copies=2,
        what=f"{n} patches of {size} x {size} pixels",
    )
    grey = _grey_images(images, size, log)
    rng = check_rng(rng)
    out = np.empty((n, size, size))
    for k in range(n):
        img = grey[k % len(grey)]
        r = rng.integers(0, img.shape[0] - size + 1)
        c = rng.integers(0, img.shape[1] - size + 1)
        out[k] = img[r : r + size, c : c + size]
    out -= out.mean(axis=(1, 2), keepdims=True)
    return out


def whiten(images, *, cutoff=0.4) -> np.ndarray:
    """Whiten images with Olshausen & Field's filter ``R(f) = f exp(-(f / f0)^4)`` [1]_ [2]_.

    Natural images have a 1/f amplitude spectrum; multiplying by ``f``
    flattens it (decorrelates the pixels), and the ``exp(-(f/f0)^4)`` factor
    removes the highest frequencies, where noise and the pixel grid's corners
    dominate. Olshausen & Field applied it to whole 512 x 512 images with
    ``f0 = 200`` cycles/picture (0.39 cycles/pixel) before cutting patches.
    The filter is applied by FFT (the image is treated as periodic), then each
    image is scaled to unit variance.

    Parameters
    ----------
    images : (H, W) or (N, H, W) array_like
        Grey images, each at least 2 x 2.
    cutoff : float, default 0.4
        ``f0`` in cycles/pixel, in (0, 0.5] (0.5 is the Nyquist frequency).

    Returns
    -------
    ndarray of float64, the shape of ``images``
        Zero-mean, unit-variance images (an image with no contrast stays 0).
    """
    x = as_float_array(images, "images", ndim=(2, 3), dtype=np.float64)
    if min(x.shape[-2:]) < 2:
        raise InputError(f"images must be at least 2 x 2 pixels, got shape {x.shape}", argument="images")
    f0 = check_in_range(cutoff, "cutoff", 0.0, 0.5, inclusive=(False, True))
    check_allocation(x.shape, np.complex128, "images", copies=3, what=f"whitening images of shape {x.shape}")
    fy = np.fft.fftfreq(x.shape[-2])[:, None]
    fx = np.fft.rfftfreq(x.shape[-1])[None, :]
    f = np.hypot(fy, fx)
    spectrum = np.fft.rfft2(x) * (f * np.exp(-((f / f0) ** 4)))
    out = np.fft.irfft2(spectrum, s=x.shape[-2:])
    out -= out.mean(axis=(-2, -1), keepdims=True)
    sd = out.std(axis=(-2, -1), keepdims=True)
    return np.divide(out, sd, out=np.zeros_like(out), where=sd > 1e-12 * (1.0 + np.abs(x).max()))
