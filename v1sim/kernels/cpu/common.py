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
    ``fastmath``).

    Both use numpy's error model: a float division by zero gives inf or NaN as numpy's would, instead of
    Python's check before every division, a branch that can keep LLVM from vectorising a serial loop (tanh's
    rational approximation compiled alone, 301,056 float32: 903 -> 145 us, the same bits; a LeNet-5
    training step was the same within noise).
    """
    name = body.__name__
    flags = {"error_model": "numpy", **flags}
    SERIAL[name] = njit(cache=True, nogil=True, **flags)(body)
    copy = types.FunctionType(body.__code__, body.__globals__, name + "_parallel", body.__defaults__, body.__closure__)
    copy.__qualname__ = body.__qualname__ + "_parallel"
    PARALLEL[name] = njit(cache=True, nogil=True, parallel=True, **flags)(copy)
    return body
