"""The one place CPU kernels are compiled: :func:`twin` builds a serial and a parallel variant of a body.

Caching: Numba's on-disk cache keys a function by its qualified name and
signature, not by its compile flags, so the parallel twin is compiled from a
*copy* of the body under a distinct name; otherwise the two variants would
overwrite each other's cache entries.
"""

from __future__ import annotations

import types

from numba import njit

__all__ = ["PARALLEL", "SERIAL", "compile_twins", "twin"]

SERIAL: dict[str, object] = {}
PARALLEL: dict[str, object] = {}


def compile_twins(body, **flags):
    """``(serial, parallel)``: ``body`` compiled twice, cached, ``nogil`` (``flags``: more Numba options, e.g.
    ``fastmath``); the parallel one from a renamed copy, so the two do not share a cache entry.

    Both use numpy's error model: a float division by zero gives inf or NaN as numpy's would, instead of
    Python's check before every division, a branch that can keep LLVM from vectorising a serial loop (tanh's
    rational approximation compiled alone, 301,056 float32: 903 -> 145 us, the same bits; a LeNet-5
    training step was the same within noise).
    """
    flags = {"error_model": "numpy", **flags}
    copy = types.FunctionType(
        body.__code__, body.__globals__, body.__name__ + "_parallel", body.__defaults__, body.__closure__
    )
    copy.__qualname__ = body.__qualname__ + "_parallel"
    return njit(cache=True, nogil=True, **flags)(body), njit(cache=True, nogil=True, parallel=True, **flags)(copy)


def twin(body, **flags):
    """Compile ``body`` as a serial and a parallel kernel (:func:`compile_twins`) and register both."""
    SERIAL[body.__name__], PARALLEL[body.__name__] = compile_twins(body, **flags)
    return body
