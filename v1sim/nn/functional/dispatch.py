"""One dispatch point between the CPU functional pairs and their CUDA twins.

A CPU function decorated with :func:`twin` runs its CUDA twin, the function
of the same name in the mirrored module (``conv.py:conv2d_forward`` ->
``cuda/conv.py:conv2d_forward``), when its inputs live on the GPU:

* a backward pass (a function with a ``cache`` argument) runs where its
  forward pass ran: on the device when the cache says so (its ``device``
  field is ``"cuda"``, or the cache is a device array);
* any other function runs on the device when ``device`` resolves to
  ``"cuda"`` or any argument is a numba device array (host operands are
  then copied to the device once).

The twin takes the same arguments and returns the same (named) cache types.
The CUDA modules are imported on first use only (``numba.cuda`` is slow to
import and may be absent). :data:`CPU_ONLY` lists the public functions that
have no twin; a test checks that every other one has.
"""

from __future__ import annotations

import functools
import importlib
import inspect

import numpy as np

from ...backend import resolve_device

__all__ = ["CPU_ONLY", "TWINS", "any_device", "is_device", "twin", "twin_of"]

#: Public functional functions with no CUDA twin (they take host arrays only). The batch norm + ReLU pair is the
#: CPU engine's fusion of two layers (one pass each way); on the device the two layers run their own twins.
CPU_ONLY = frozenset({"batch_norm_relu_backward", "batch_norm_relu_forward", "log_softmax", "softmax"})

#: ``name -> CUDA module name`` of every function decorated with :func:`twin`.
TWINS: dict[str, str] = {}


def is_device(a) -> bool:
    """True for a numba device array (real or simulated)."""
    return not isinstance(a, np.ndarray) and hasattr(a, "copy_to_host")


def any_device(*arrays) -> bool:
    return any(is_device(a) for a in arrays)


def _cache_on_device(cache) -> bool:
    return getattr(cache, "device", None) == "cuda" or is_device(cache)


def twin_of(fn):
    """The CUDA twin of a :func:`twin`-decorated function (imports its module)."""
    return getattr(importlib.import_module(TWINS[fn.__name__]), fn.__name__)


def twin(fn):
    """Route ``fn`` to its CUDA twin when its inputs live on the GPU (see the module docstring).

    A ``device`` argument is resolved once here and handed on resolved.
    """
    head, _, leaf = fn.__module__.rpartition(".")
    TWINS[fn.__name__] = f"{head}.cuda.{leaf}"
    params = list(inspect.signature(fn).parameters)
    cache_at = params.index("cache") if "cache" in params else None
    takes_device = "device" in params

    @functools.wraps(fn)
    def dispatch(*args, **kwargs):
        if cache_at is not None:
            on_device = _cache_on_device(args[cache_at] if len(args) > cache_at else kwargs.get("cache"))
        else:
            on_device = False
            if takes_device:
                kwargs["device"] = device = resolve_device(kwargs.get("device", "auto"))
                on_device = device == "cuda"
            on_device = on_device or any_device(*args) or any_device(*kwargs.values())
        if on_device:
            return twin_of(fn)(*args, **kwargs)
        return fn(*args, **kwargs)

    return dispatch
