"""Statistics that compare a model population with the data: Sarle's bimodality coefficient, the KS distance."""

from __future__ import annotations

import numpy as np

from .._core.validate import as_float_array
from ..errors import InputError

__all__ = ["bimodality_coefficient", "ks_distance"]


def bimodality_coefficient(values) -> float:
    """Sarle's bimodality coefficient of a sample (> 5/9 suggests bimodality).

    ``BC = (g^2 + 1) / (k + 3 (n - 1)^2 / ((n - 2)(n - 3)))`` with ``g`` the
    sample skewness and ``k`` the excess kurtosis (both bias-corrected).

    Parameters
    ----------
    values : (n,) array_like
        At least 4 finite values, not all equal.
    """
    from scipy import stats

    x = as_float_array(values, "values", ndim=1, dtype=np.float64)
    n = x.size
    if n < 4 or np.ptp(x) == 0:
        raise InputError(f"values must hold at least 4 values that are not all equal, got {n}", argument="values")
    g = stats.skew(x, bias=False)
    k = stats.kurtosis(x, bias=False)
    return float((g * g + 1.0) / (k + 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3))))


def ks_distance(a, b) -> float:
    """Two-sample Kolmogorov-Smirnov distance: the largest gap between the empirical CDFs, in [0, 1]."""
    xa = np.sort(as_float_array(a, "a", ndim=1, dtype=np.float64))
    xb = np.sort(as_float_array(b, "b", ndim=1, dtype=np.float64))
    grid = np.concatenate([xa, xb])
    cdf_a = np.searchsorted(xa, grid, side="right") / xa.size
    cdf_b = np.searchsorted(xb, grid, side="right") / xb.size
    return float(np.abs(cdf_a - cdf_b).max())
