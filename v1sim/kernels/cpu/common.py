"""The one place CPU kernels are compiled: :func:`twin` builds a serial and a parallel variant of a body.

Caching: Numba's on-disk cache keys a function by its qualified name, source
file and signature, not by its compile flags. Each twin is therefore compiled
from a *copy* of the body under a name of its own that also carries a digest
of the flags: the two variants do not overwrite each other's cache entries, and
code cached under other flags is never loaded (a serial tanh cached before the
numpy error model, with Python's division check, kept running scalar: 968
against 166 us on 301,056 float32 until the cache was cleared).
"""

from __future__ import annotations

import hashlib
import types

from numba import njit

__all__ = ["PARALLEL", "SERIAL", "by_device", "compile_twins", "twin"]

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
    tag = "_" + hashlib.sha1(repr(sorted(flags.items())).encode()).hexdigest()[:8]
    serial, parallel = _renamed(body, tag), _renamed(body, "_parallel" + tag)
    return njit(cache=True, nogil=True, **flags)(serial), njit(cache=True, nogil=True, parallel=True, **flags)(parallel)


def _renamed(body, suffix):
    """A copy of the function ``body`` named ``body.__name__ + suffix`` (its own entry in Numba's cache)."""
    copy = types.FunctionType(
        body.__code__, body.__globals__, body.__name__ + suffix, body.__defaults__, body.__closure__
    )
    copy.__qualname__ = body.__qualname__ + suffix
    copy.__doc__ = body.__doc__
    return copy


def twin(body, **flags):
    """Compile ``body`` as a serial and a parallel kernel (:func:`compile_twins`) and register both."""
    SERIAL[body.__name__], PARALLEL[body.__name__] = compile_twins(body, **flags)
    return body


def by_device(body, **flags) -> dict:
    """``{"cpu": serial, "parallel": parallel}`` compilations of ``body`` (:func:`compile_twins`), for drivers
    outside the registry (the convolutions that call BLAS from Numba)."""
    return dict(zip(("cpu", "parallel"), compile_twins(body, **flags)))
