"""The lecture's kernels: box (mean) filter, identity, shift, sharpen (unsharp mask), vertical edge.

Conventions as :mod:`v1sim.filters`: float32 by default, odd square support,
origin at the centre ``size // 2``; correlation (as ConvNets) unless a
docstring says otherwise.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._core.validate import check_float_dtype, check_in_range, check_odd_int
from ..errors import InputError, InputTypeError
from .kernels import finish
from .support import half_size

__all__ = ["box_kernel", "edge_kernel", "identity_kernel", "sharpen_kernel", "shift_kernel"]


def box_kernel(size=3, *, dtype=np.float32) -> np.ndarray:
    """Mean filter: ``ones((size, size)) / size**2`` (the lecture's 3x3 "1/9" blur).

    Returns
    -------
    kernel : (size, size) ndarray of ``dtype``
    """
    size = check_odd_int(size, "size")
    half_size(size, 0.0, 0.0)  # refuse a size beyond memory before allocating
    return np.full((size, size), 1.0 / (size * size), dtype=check_float_dtype(dtype))


def identity_kernel(size=3, *, dtype=np.float32) -> np.ndarray:
    """A single 1 at the centre: correlation or convolution with it changes nothing.

    Returns
    -------
    kernel : (size, size) ndarray of ``dtype``
    """
    return shift_kernel(0, 0, size, dtype=dtype)


def shift_kernel(dx, dy, size=3, *, dtype=np.float32) -> np.ndarray:
    """A single 1 at offset ``(dx, dy)`` from the centre: a translation.

    The 1 sits at ``kernel[size//2 + dy, size//2 + dx]`` (``dx`` columns to the
    right, ``dy`` rows *down*, array order). Under correlation (ConvNets,
    ``scipy.ndimage.correlate``, :class:`FilterBank`) the output is
    ``out[i, j] = image[i + dy, j + dx]``: the image moves by ``(-dx, -dy)``, so
    the lecture's kernel with a 1 right of the centre (``dx=1``) shifts the image
    LEFT by one pixel. Under convolution it moves by ``(+dx, +dy)``.

    Parameters
    ----------
    dx, dy : int
        Column and row offsets, ``|dx|, |dy| <= size // 2``.
    size : int
        Odd side length.
    dtype : {np.float32, np.float64}

    Returns
    -------
    kernel : (size, size) ndarray of ``dtype``
    """
    size = check_odd_int(size, "size")
    half_size(size, 0.0, 0.0)
    dtype = check_float_dtype(dtype)
    half = size // 2
    offsets = []
    for value, name in ((dx, "dx"), (dy, "dy")):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise InputTypeError(f"{name} must be an integer, got {value!r}", argument=name)
        if abs(int(value)) > half:
            raise InputError(f"{name} must lie in [-{half}, {half}] for size={size}, got {value}", argument=name)
        offsets.append(int(value))
    k = np.zeros((size, size), dtype=dtype)
    k[half + offsets[1], half + offsets[0]] = 1.0
    return k


def sharpen_kernel(size=3, alpha=1.0, *, dtype=np.float32) -> np.ndarray:
    """Unsharp mask ``identity + alpha * (identity - box)``; ``alpha=1`` is the lecture's ``2 I - box``.

    Parameters
    ----------
    size : int
        Odd side length.
    alpha : float
        Sharpening strength, >= 0 (0 is the identity).
    dtype : {np.float32, np.float64}

    Returns
    -------
    kernel : (size, size) ndarray of ``dtype``
        Sums to 1 (uniform regions are unchanged).

    Raises
    ------
    InputError
        For a ``size`` that is not an odd positive integer, or an ``alpha`` that is negative, non-finite or so
        large that the kernel overflows ``dtype``.
    InputTypeError
        For a ``dtype`` other than float32 or float64.
    """
    size = check_odd_int(size, "size")
    half_size(size, 0.0, 0.0)
    dtype = check_float_dtype(dtype)
    # the centre tap 1 + alpha (1 - 1/size**2) must be finite in dtype
    alpha = check_in_range(alpha, "alpha", 0.0, float(np.finfo(dtype).max) / 2)
    ident = identity_kernel(size, dtype=np.float64)
    return finish((1.0 + alpha) * ident - alpha * box_kernel(size, dtype=np.float64), dtype)


def edge_kernel(*, dtype=np.float32) -> np.ndarray:
    """The lecture's 3x3 vertical-edge kernel: three rows of ``[-1, 0, 1]``.

    Under correlation the response is positive where intensity rises to the
    right (``(k * I)[i, j] = sum over rows of I[., j+1] - I[., j-1]``).

    Returns
    -------
    kernel : (3, 3) ndarray of ``dtype``
    """
    return np.tile(np.array([-1.0, 0.0, 1.0], dtype=check_float_dtype(dtype)), (3, 1))
