"""Launch plumbing shared by the numba-cuda kernel modules (private).

Every kernel walks its index space with a grid-stride loop, so any grid
covers any size; :func:`blocks` picks the grid. Under Numba's simulator
(``NUMBA_ENABLE_CUDASIM=1``) every simulated thread is a Python thread, so
grids there are kept tiny (the grid-stride loops still visit every element
and the bounds guards still end partial blocks).
"""

from __future__ import annotations

import math

import numpy as np
from numba import config, cuda

SIMULATOR = bool(config.ENABLE_CUDASIM)
THREADS = 8 if SIMULATOR else 128
_MAX_BLOCKS = 2 if SIMULATOR else 4096


@cuda.jit(device=True)
def nchw(flat, shape):
    """(n, c, y, x) of the flat index ``flat`` into a C-contiguous (N, C, H, W) array."""
    x = flat % shape[3]
    rest = flat // shape[3]
    y = rest % shape[2]
    rest //= shape[2]
    return rest // shape[1], rest % shape[1], y, x


@cuda.jit(device=True)
def ncl(flat, n_ch, n_l):
    """(n, c, l) of the flat index ``flat`` into a C-contiguous (N, C, L) array."""
    rest = flat // n_l
    return rest // n_ch, rest % n_ch, flat % n_l


def blocks(n: int) -> int:
    """Number of blocks of :data:`THREADS` threads for ``n`` independent work items."""
    return max(1, min(math.ceil(n / THREADS), _MAX_BLOCKS))


def to_device(a: np.ndarray):
    """Copy a host array to the device (C-contiguous first).

    Views made with ``x[None]`` carry a zero stride on the new axis, which
    numba-cuda takes for a broadcast and copies element by element (measured
    30 s instead of 8 ms for 50 MB); restating the strides avoids that.
    """
    a = np.ascontiguousarray(a)
    if 0 in a.strides and a.size > 1:
        strides = np.cumprod((1,) + a.shape[:0:-1])[::-1] * a.itemsize
        a = np.lib.stride_tricks.as_strided(a, a.shape, tuple(int(s) for s in strides))
    return cuda.to_device(a)


def is_device(a) -> bool:
    """True for a numba device array (real or simulated), False for host arrays and scalars."""
    return not isinstance(a, np.ndarray) and hasattr(a, "copy_to_host")


def empty(shape, dtype):
    """An uninitialised device array."""
    return cuda.device_array(tuple(int(s) for s in shape), dtype=np.dtype(dtype))


def flat(a):
    """1-D view of a C-contiguous device array."""
    return a.reshape(a.size) if a.ndim != 1 else a


def launch(kernel, n, *args):
    """Launch ``kernel`` over ``n`` work items with device (or scalar) arguments."""
    kernel[blocks(n), THREADS](*args)


def _guard_simulator_shared_arrays():
    """Make the simulator's ``cuda.shared.array`` allocation thread-safe.

    numba-cuda's simulator (0.30) looks up a block's shared array by source
    line and creates it when missing, without a lock: two simulated threads
    that get there at once can each create their own "shared" array, and
    the block then computes garbage (seen as wrong GEMMs under a short
    ``sys.setswitchinterval``). Same lookup, under a lock.
    """
    import sys
    import threading
    import traceback

    from numba.core import types
    from numba.cuda.simulator import kernelapi
    from numba.np import numpy_support

    original = kernelapi.FakeCUDAShared.array
    if getattr(original, "_v1sim_guarded", False):
        return
    lock = threading.Lock()

    def array(self, shape, dtype, alignment=None):
        if shape == 0 or alignment is not None:
            return original(self, shape, dtype, alignment)
        caller = tuple(traceback.extract_stack(sys._getframe(1), limit=1)[-1][0:2])
        with lock:
            res = self._allocations.get(caller)
            if res is None:
                dt = numpy_support.as_dtype(dtype) if isinstance(dtype, types.Type) else dtype
                res = self._allocations[caller] = np.empty(shape, dt)
        return res

    array._v1sim_guarded = True
    kernelapi.FakeCUDAShared.array = array


if SIMULATOR:
    _guard_simulator_shared_arrays()


def launch_host(kernel, out_arrays, *args, n=None):
    """Move host arrays to the device, launch over ``n`` (default out_arrays[0].size) items, copy host outputs back.

    Device arrays pass through untouched (and results stay on the device).
    """
    dev_args = []
    host_outs = []
    for a in args:
        if isinstance(a, np.ndarray):
            d = to_device(a)
            dev_args.append(d)
            if any(a is o for o in out_arrays):
                host_outs.append((a, d))
        else:
            dev_args.append(a)
    n = out_arrays[0].size if n is None else n
    kernel[blocks(n), THREADS](*dev_args)
    for host, dev in host_outs:
        dev.copy_to_host(host)


def host_call(fn, outs, *args):
    """Run the device launcher ``fn`` on ``args``, moving host arrays in and host outputs back."""
    dev = [to_device(a) if isinstance(a, np.ndarray) else a for a in args]
    fn(*dev)
    for a, d in zip(args, dev):
        if any(a is o for o in outs) and d is not a:
            d.copy_to_host(a)
