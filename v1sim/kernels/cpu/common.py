"""The one place CPU kernels are compiled: :func:`twin` builds a serial and a parallel variant of a body.

Caching: Numba's on-disk cache keys a function by its qualified name and
signature, not by its compile flags, so the parallel twin is compiled from a
*copy* of the body under a distinct name; otherwise the two variants would
overwrite each other's cache entries.
"""

from __future__ import annotations

import types

from numba import njit

__all__ = ["PARALLEL", "SERIAL", "twin"]

SERIAL: dict[str, object] = {}
PARALLEL: dict[str, object] = {}


def twin(body, **flags):
    """Compile ``body`` as a serial and a parallel kernel and register both (``flags``: more Numba options, e.g.
    ``fastmath``)."""
    name = body.__name__
    SERIAL[name] = njit(cache=True, nogil=True, **flags)(body)
    copy = types.FunctionType(body.__code__, body.__globals__, name + "_parallel", body.__defaults__, body.__closure__)
    copy.__qualname__ = body.__qualname__ + "_parallel"
    PARALLEL[name] = njit(cache=True, nogil=True, parallel=True, **flags)(copy)
    return body
