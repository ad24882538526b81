"""Fukushima's fixed connections: the weights ``c(nu)`` of a connection area and the V-cell they feed.

Public via :mod:`v1sim.hierarchy`; the S-layers (:mod:`.layers`) and the
learning rules (:mod:`.learning`) compute their inhibitory input with them.
"""

from __future__ import annotations

import numpy as np

from .. import signal
from .._core.validate import (
    as_float_array,
    check_allocation,
    check_float_dtype,
    check_int_pair,
    check_positive_float,
)
from ..errors import InputError

__all__ = ["connection_kernel", "vcell", "vcell_unchecked"]


def connection_kernel(size, sigma=None, *, dtype=np.float32) -> np.ndarray:
    """Fukushima's fixed connection weights ``c(nu)``: a Gaussian taper, 1 at the centre.

    Parameters
    ----------
    size : int or (int, int)
        Side(s) of the connection area in cells; the centre is
        ``((h - 1) / 2, (w - 1) / 2)`` (between cells for an even side).
    sigma : float, optional
        Standard deviation in cells; None gives uniform weights (all 1, as
        HMAX uses).
    dtype : {np.float32, np.float64}

    Returns
    -------
    (h, w) ndarray
        Positive, decreasing with distance from the centre, maximum 1 (the
        scale of ``c`` cancels out of every S-cell equation). The limits are
        exact: a ``sigma`` far below a cell keeps only the cell(s) nearest the
        centre (1, the rest 0), one far above the area gives all ones.

    Raises
    ------
    InputError
        For a ``size`` that is not a positive integer (pair) or that would not fit in memory, or a ``sigma``
        that is not positive and finite.
    InputTypeError
        For a ``dtype`` other than float32 or float64.
    """
    h, w = check_int_pair(size, "size", minimum=1)
    dtype = check_float_dtype(dtype)
    check_allocation((h, w), np.float64, "size", copies=3, what=f"a {h} x {w} connection area")
    if sigma is None:
        return np.ones((h, w), dtype=dtype)
    sigma = check_positive_float(sigma, "sigma")
    ry = np.arange(h) - (h - 1) / 2
    rx = np.arange(w) - (w - 1) / 2
    d2 = ry[:, None] ** 2 + rx[None, :] ** 2  # exact: quarter-integers
    # relative to the nearest cell, so the maximum is exactly 1; divided by sigma twice, so sigma**2 neither
    # overflows (1e300) nor underflows to 0 (1e-300, where d2 / 0 gave NaN at the centre)
    with np.errstate(over="ignore"):  # a tiny sigma: inf, then exp(-inf) = 0 (the exact limit)
        return np.exp(-0.5 * ((d2 - d2.min()) / sigma) / sigma).astype(dtype)


def vcell(x, c, padding=(0, 0), *, method="direct", device="auto") -> np.ndarray:
    """The V-cell: ``v = sqrt(sum_{kappa, nu} c(nu) x[kappa, n + nu]^2)``, (N, 1, H2, W2).

    One :func:`v1sim.correlate_batch` of the summed squared input planes
    (N, 1, H, W) with the connection kernel ``c`` (kh, kw): a weighted
    root-mean-square of the inputs in the connection area (up to the
    constant ``sum c``).

    Parameters
    ----------
    x : (N, C, H, W) array_like
        Finite input planes.
    c : (kh, kw) array_like
        Finite, non-negative connection weights (:func:`connection_kernel`).
    padding : int or (int, int)
    method, device : str
        As :func:`v1sim.correlate_batch`.

    Raises
    ------
    InputError
        For arrays of the wrong shape, non-finite values (NonFiniteError) or negative weights.
    InputTypeError
        For arrays that are not real numbers.
    """
    x = as_float_array(x, "x", ndim=4)
    c = as_float_array(c, "c", ndim=2)
    if (c < 0).any():
        raise InputError(f"c must be non-negative connection weights, got a minimum of {c.min():g}", argument="c")
    return vcell_unchecked(x, c, padding, method=method, device=device)


def vcell_unchecked(x, c, padding, *, method="direct", device="auto") -> np.ndarray:
    """:func:`vcell` on checked arrays (the S-layers call it on every forward pass)."""
    energy = np.einsum("nchw,nchw->nhw", x, x)[:, None]
    v2 = signal.correlate_batch(energy, c[None, None], padding=padding, method=method, device=device)
    return np.sqrt(np.maximum(v2, 0.0, out=v2), out=v2)
