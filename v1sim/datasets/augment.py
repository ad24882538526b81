"""Data augmentation for training: random horizontal flips, random crops and small integer shifts of NCHW batches.

The label-preserving transformations of the lecture's ConvNets: AlexNet
trained on random 224 x 224 crops of 256 x 256 images and their mirror images
[1]_; the CIFAR ResNets on images padded by 4 pixels, randomly cropped back to
32 x 32 and flipped [2]_. Here a crop takes a smaller window
(``crop``), and a shift moves the image by up to ``shift`` pixels with zero
fill, which is exactly "pad by ``shift``, crop back to the original size".
"""

from __future__ import annotations

import numpy as np

from .._core.validate import as_float_array, check_allocation, check_int_pair, check_nonnegative_int, check_rng
from ..errors import InputError, InputTypeError

__all__ = ["augment"]


def _windows(x: np.ndarray, top: np.ndarray, left: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``x[n, :, top[n] : top[n] + rows, left[n] : left[n] + cols]`` for every n, gathered at once."""
    n = np.arange(len(x))[:, None, None]
    r = (top[:, None] + np.arange(rows))[:, :, None]  # (N, rows, 1)
    c = (left[:, None] + np.arange(cols))[:, None, :]  # (N, 1, cols)
    return np.ascontiguousarray(x[n, :, r, c].transpose(0, 3, 1, 2))  # (N, rows, cols, C) -> NCHW


def augment(images, rng, *, flip=False, crop=None, shift=0) -> np.ndarray:
    """Randomly flip, shift and crop each image of a batch.

    Applied in this order, each image independently: a horizontal flip with
    probability 1/2 (``flip``); a translation by ``(dy, dx)``, each drawn
    uniformly from the integers ``-shift .. shift``, the uncovered border
    filled with zeros (``shift``; the same as zero-padding by ``shift`` and
    taking a random crop of the original size); a window of size ``crop`` at a
    uniformly drawn position (``crop``). The draws come from ``rng`` in a
    fixed order (all flips, then all shifts, then all crop positions), so a
    seed gives the same batch every time.

    Parameters
    ----------
    images : (N, C, H, W) array_like
        The batch. Integer input is promoted to float32; float64 is kept.
    rng : None, int or numpy.random.Generator
        Source of the random draws (``numpy.random.default_rng``); pass one
        Generator to successive calls for fresh draws each batch.
    flip : bool, default False
        Mirror left-right (along W) with probability 1/2.
    crop : None, int or (int, int)
        Output (rows, cols), at most (H, W): a random window of that size.
        None keeps the full image.
    shift : int, default 0
        Largest translation in pixels along each axis (0: none), below
        min(H, W).

    Returns
    -------
    ndarray, shape (N, C, rows, cols)
        A new array of the input's float dtype; ``images`` is not modified.
        (rows, cols) = ``crop`` or (H, W).

    Raises
    ------
    v1sim.errors.InputError
        If ``images`` is not 4-D or holds NaN/inf, ``crop`` is larger than the
        images, or ``shift`` is negative or not smaller than them.
    v1sim.errors.InputTypeError
        If ``flip`` is not a bool, ``crop`` / ``shift`` not integers, or
        ``rng`` not a seed or Generator.

    References
    ----------
    .. [1] Krizhevsky A, Sutskever I, Hinton GE (2012). ImageNet classification
       with deep convolutional neural networks. NIPS 25 (section 4.1).
    .. [2] He K, Zhang X, Ren S, Sun J (2016). Deep residual learning for image
       recognition. CVPR (section 4.2, CIFAR-10).

    Examples
    --------
    >>> x = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4)
    >>> augment(x, rng=0, flip=True, shift=1, crop=3).shape
    (2, 1, 3, 3)
    """
    x = as_float_array(images, "images", ndim=4)
    n, _, h, w = x.shape
    rng = check_rng(rng)
    if not isinstance(flip, (bool, np.bool_)):
        raise InputTypeError(f"flip must be a bool, got {type(flip).__name__} {flip!r}", argument="flip")
    rows, cols = (h, w) if crop is None else check_int_pair(crop, "crop", minimum=1)
    if rows > h or cols > w:
        raise InputError(f"crop must be at most the image size ({h}, {w}); got {(rows, cols)}", argument="crop")
    shift = check_nonnegative_int(shift, "shift")
    if shift >= min(h, w):
        raise InputError(f"shift must be smaller than the image size ({h}, {w}); got {shift}", argument="shift")
    check_allocation(x.shape, x.dtype, "images", copies=3, what=f"augmenting a batch of shape {x.shape}")

    out = x.copy()
    if flip:
        mirrored = rng.random(n) < 0.5
        out[mirrored] = out[mirrored, :, :, ::-1]
    if shift:
        dy, dx = rng.integers(-shift, shift + 1, size=(2, n))
        padded = np.pad(out, ((0, 0), (0, 0), (shift, shift), (shift, shift)))
        # the window of the padded image at (shift - dy, shift - dx) is the image moved by (dy, dx)
        out = _windows(padded, shift - dy, shift - dx, h, w)
    if (rows, cols) != (h, w):
        top = rng.integers(0, h - rows + 1, size=n)
        left = rng.integers(0, w - cols + 1, size=n)
        out = _windows(out, top, left, rows, cols)
    return out
