"""Kernel support: an optional odd ``size``, or a half-width from the widest sigma, bounded by memory.

Every kernel and bank of :mod:`v1sim.filters` (and every cell of
:mod:`v1sim.cells`, through :data:`N_STDS`) sizes its square support here:
``size // 2`` when the caller gave a size, else ``ceil(n_stds * sigma)``.
"""

from __future__ import annotations

import numpy as np

from .._core.validate import check_allocation, check_odd_int, check_support

__all__ = ["N_STDS", "SAMPLE_COPIES", "half_size", "odd_size"]

N_STDS = 3.0  # default kernel half-width in standard deviations (Gaussian, DoG, Gabor, Gaussian derivative; cells)
#: float64 grids of one kernel's size alive at once while it is sampled (x, y, x', y', envelope, carrier, ...)
SAMPLE_COPIES = 8


def odd_size(size) -> int | None:
    """Validate an optional kernel ``size`` (odd int >= 1)."""
    return None if size is None else check_odd_int(size, "size")


def half_size(
    size: int | None, sigma_max: float, n_stds: float, name: str = "sigma", *, value=None, count: int = 1
) -> int:
    """Half-width of a kernel: ``size // 2``, or ``ceil(n_stds * sigma_max)``; refused if it cannot fit in memory.

    Parameters
    ----------
    size : int or None
        A validated odd size (it wins over the sigma).
    sigma_max, n_stds : float
        The largest standard deviation (pixels) and the half-width in standard deviations.
    name : str
        The user's argument that set ``sigma_max`` (``"sigma"``, ``"frequency"``, ...), blamed when
        the support is too large; ``size`` is blamed when it was given.
    value : float, optional
        That argument's value, for the message (default ``sigma_max``).
    count : int
        Kernels of this size built together (a bank), all held at once.

    Raises
    ------
    InputError
        If the kernels and their sampling grids would need more memory than the machine has,
        or the half-width overflows to infinity (a huge sigma); ``.argument`` is ``size`` or ``name``.
    """
    if size is not None:
        half, arg, why = size // 2, "size", f"size={size} asks for"
    else:
        shown = f"{name}={sigma_max if value is None else value:g}"
        half = check_support(n_stds * sigma_max, name, what=f"{shown} (sigma {sigma_max:.4g} px x {n_stds:g})")
        arg, why = name, f"{shown} (half-width {n_stds:g} x {sigma_max:.4g} px) asks for"
    side = 2 * half + 1
    kernels = f"{count} kernels" if count > 1 else "a kernel"
    # Python ints: side * side cannot overflow here, whatever sigma was
    check_allocation(
        (side, side),
        np.float64,
        arg,
        copies=2 * count + SAMPLE_COPIES,
        what=f"{why} {kernels} of {side} x {side} pixels",
    )
    return half
