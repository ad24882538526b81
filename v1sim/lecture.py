"""Inputs of the lecture's worked examples (the outputs are always computed).

The lecture's image-filtering slides run a 3x3 mean filter over a 10x10
image of 0s and 90s: a 5x5 bright square with one dark pixel inside it and
one stray bright pixel below. Only the input lives here; the 8x8 result
comes from :func:`v1sim.correlate2d`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mean_filter_example"]


def mean_filter_example() -> np.ndarray:
    """The lecture's 10x10 input image f[., .] (float32, values 0 and 90).

    Returns
    -------
    (10, 10) ndarray of float32

    Examples
    --------
    >>> import numpy as np, v1sim
    >>> from v1sim.lecture import mean_filter_example
    >>> g = v1sim.correlate2d(mean_filter_example(), np.ones((3, 3)) / 9, mode="valid")
    >>> g.shape
    (8, 8)
    """
    f = np.zeros((10, 10), dtype=np.float32)
    f[2:7, 3:8] = 90  # the bright square
    f[5, 4] = 0  # a dark hole inside it
    f[8, 2] = 90  # an isolated bright pixel
    return f
