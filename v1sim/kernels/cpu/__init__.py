"""CPU kernels: each body written once, compiled serial and parallel.

Every kernel here writes into a preallocated output; shapes, padding and
allocation are the caller's business (see :mod:`v1sim.signal` and
:mod:`v1sim.pooling`). Arrays are C-contiguous float32 or float64, NCHW.

The bodies use ``prange`` over independent (image, channel/filter) planes; the
``"cpu"`` variant compiles the same body without ``parallel=True`` (where
``prange`` is a plain ``range``), so both variants compute the same sums in
the same order and results do not depend on the number of threads.

Modules by topic, mirrored file for file by :mod:`v1sim.kernels.cuda`:
:mod:`.conv` (correlation), :mod:`.layout` (im2col, col2im, swap01),
:mod:`.norm` (batch norm), :mod:`.elementwise` (tanh), :mod:`.pool`, :mod:`.scells` (S-cells
unrolled over the connection area's width);
:mod:`.common` compiles each body twice (:func:`~.common.twin`).

See Also
--------
v1sim.kernels.cuda : numba-cuda twins with the same signatures.
"""

from __future__ import annotations

from . import conv, elementwise, layout, norm, pool, scells  # noqa: F401  (importing them registers their kernels)
from .common import PARALLEL, SERIAL

__all__ = ["PARALLEL", "SERIAL"]
