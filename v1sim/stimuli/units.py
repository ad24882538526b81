"""Units: degrees of visual angle to pixels, cycles/degree to cycles/pixel."""

from __future__ import annotations

import numpy as np

from .._core.validate import as_float_array, check_positive_float
from ..errors import InputError

__all__ = ["cpd_to_cpp", "deg_to_px"]


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
        raise InputError(
            f"{name} {op} ppd overflows float64: got {name} up to {np.abs(arr).max():.3g} and ppd = {ppd:.3g}",
            argument=name,
        )
    return float(out[0]) if np.ndim(value) == 0 else out  # as_float_array returns 0-d input as shape (1,)
