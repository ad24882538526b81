"""Fixtures of the CUDA tests (every module here is marked ``cuda``; see ``tests/conftest.py`` for when they skip).

For every CUDA test, session-wide:

* ``V1SIM_DEVICE`` is unset, so ``device="auto"`` means what it means on a bare machine;
* under the simulator, Python threads hand the GIL over every 0.2 ms instead of 5 ms: the simulator runs
  each CUDA thread of a block as a Python thread, and the sooner a waiting thread gets the GIL, the sooner
  a block passes its barriers (about 2x faster here);
* under the simulator, device arrays are as strict as numba's real ``DeviceNDArray`` (only the attributes
  it has), so code that would silently fall back to numpy methods there fails here too.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

#: The attributes (besides dunders) of numba's real DeviceNDArray that v1sim may use.
DEVICE_ARRAY_ATTRIBUTES = frozenset(
    {
        "shape",
        "strides",
        "dtype",
        "size",
        "ndim",
        "itemsize",
        "nbytes",
        "alloc_size",
        "stream",
        "flags",
        "T",
        "bind",
        "copy_to_device",
        "copy_to_host",
        "getitem",
        "setitem",
        "is_c_contiguous",
        "is_f_contiguous",
        "ravel",
        "reshape",
        "split",
        "squeeze",
        "transpose",
        "view",
    }
)


def simulated() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


@pytest.fixture(scope="session")
def device_array_type():
    """The class of ``numba.cuda`` device arrays (the simulator's FakeCUDAArray under the simulator)."""
    from numba import cuda

    return type(cuda.device_array(1, np.float32))


@pytest.fixture(scope="session", autouse=True)
def cuda_session(device_array_type):
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("V1SIM_DEVICE", raising=False)
        if simulated():
            loose = device_array_type.__getattr__

            def strict(self, name):
                if not name.startswith("__") and name not in DEVICE_ARRAY_ATTRIBUTES:
                    raise AttributeError(f"numba device arrays have no attribute {name!r} (the simulator's would)")
                return loose(self, name)

            mp.setattr(device_array_type, "__getattr__", strict)
        interval = sys.getswitchinterval()
        if simulated():
            sys.setswitchinterval(2e-4)
        try:
            yield
        finally:
            sys.setswitchinterval(interval)


def to_host(a):
    from v1sim.nn.device import to_host as nn_to_host

    return np.asarray(nn_to_host(a))


@pytest.fixture
def assert_close():
    """``assert_close(got, want, tol=1e-5, dtype=None)``: same shape and dtype (``want``'s unless given), and
    max |got - want| <= tol * max(1, max |want|); either may be a device array."""

    def check(got, want, tol=1e-5, dtype=None):
        got, want = to_host(got), to_host(want)
        assert got.shape == want.shape, (got.shape, want.shape)
        assert got.dtype == np.dtype(dtype or want.dtype), (got.dtype, dtype or want.dtype)
        assert got.size, "empty result"
        err = float(np.max(np.abs(got.astype(np.float64) - want)))
        scale = max(1.0, float(np.max(np.abs(want))))
        assert err <= tol * scale, f"max error {err:.3g} > {tol:g} * {scale:.3g}"  # NaN fails too

    return check
