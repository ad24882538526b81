"""Where the engine's arrays live: the one place in :mod:`v1sim.nn` that knows about device arrays.

On ``device="cuda"`` activations, caches, gradients, parameters and
optimiser state are numba device arrays; everything else in ``nn`` sees them
through the few helpers here (placement tests and moves, element-wise sums,
reshapes, channel concatenation) and through :mod:`v1sim.nn.functional`, whose
one dispatch point (:mod:`v1sim.nn.functional.dispatch`) runs the CUDA twins
of the functional pairs. Nothing here imports ``numba.cuda``
until a device array is actually made, so CPU work never pays for it.

Rule of placement: a layer computes where its parameters live, and a layer
that receives a device array computes on the device too (host operands are
moved once); a gradient is stored where its parameter lives.
"""

from __future__ import annotations

import importlib
import math

import numpy as np

from .functional.dispatch import any_device, is_device

__all__ = [
    "is_device",
    "any_device",
    "to_device",
    "to_host",
    "host_copy",
    "like",
    "add",
    "reshape",
    "concat_channels",
    "split_channels",
    "add_bias",
    "sum_batch",
    "fn",
    "kernels",
]


def kernels():
    """:mod:`v1sim.kernels.cuda` (imports numba.cuda on first use)."""
    return importlib.import_module("v1sim.kernels.cuda")


def fn():
    """:mod:`v1sim.nn.functional.cuda`, the CUDA twins (imports numba.cuda on first use)."""
    return importlib.import_module("v1sim.nn.functional.cuda")


def to_device(a):
    """``a`` as a C-contiguous device array (device arrays pass through)."""
    return a if is_device(a) else kernels().to_device(np.asarray(a))


def to_host(a):
    """``a`` as a host array (a copy for device arrays; host arrays pass through)."""
    return a.copy_to_host() if is_device(a) else a


def host_copy(a) -> np.ndarray:
    """A new host array holding ``a`` (device or host)."""
    return a.copy_to_host() if is_device(a) else np.array(a, copy=True)


def like(a, ref):
    """``a`` moved next to ``ref``: to the device if ``ref`` is a device array, else to the host."""
    if is_device(ref):
        return to_device(a)
    return to_host(a)


def add(a, b):
    """``a + b`` of two arrays of one shape (a new array; on the device if either is there)."""
    if not (is_device(a) or is_device(b)):
        return a + b
    a, b = to_device(a), to_device(b)
    k = kernels()
    dtype = np.result_type(a.dtype, b.dtype)
    return k.elementwise.add(a, b, k.empty(a.shape, dtype))


def reshape(a, shape):
    """``a.reshape(shape)`` for host or (C-contiguous) device arrays; one entry may be -1."""
    if not is_device(a):
        return np.asarray(a).reshape(shape)
    shape = tuple(int(s) for s in shape)
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        shape = tuple(a.size // max(known, 1) if s == -1 else s for s in shape)
    return a.reshape(*shape)


def concat_channels(parts):
    """Concatenate (N, C_i, H, W) arrays along channels (np.concatenate on the host)."""
    if not any_device(*parts):
        return np.concatenate(parts, axis=1)
    k = kernels()
    parts = [to_device(p) for p in parts]
    n, rest = parts[0].shape[0], parts[0].shape[2:]
    total = sum(p.shape[1] for p in parts)
    out = k.empty((n, total) + tuple(rest), parts[0].dtype)
    l, offset = math.prod(rest), 0
    for p in parts:
        k.layout.copy_channels(p.reshape(n, p.shape[1], l), out.reshape(n, total, l), offset)
        offset += p.shape[1]
    return out


def split_channels(a, sizes):
    """Split (N, C, H, W) along channels into blocks of ``sizes`` channels (contiguous copies)."""
    if not is_device(a):
        edges = np.cumsum(sizes)[:-1]
        return [np.ascontiguousarray(g) for g in np.split(np.asarray(a), edges, axis=1)]
    k = kernels()
    n, c, rest = a.shape[0], a.shape[1], a.shape[2:]
    l, offset, out = math.prod(rest), 0, []
    for s in sizes:
        part = k.empty((n, s) + tuple(rest), a.dtype)
        k.layout.copy_channels(a.reshape(n, c, l), part.reshape(n, s, l), offset, split=True)
        out.append(part)
        offset += s
    return out


def add_bias(x, b):
    """``x + b`` with ``b`` of shape ``x.shape[1:]`` (broadcast over the batch); device if either is."""
    if not (is_device(x) or is_device(b)):
        return x + b.astype(x.dtype, copy=False)
    k = kernels()
    x, b = to_device(x), to_device(b)
    return k.elementwise.add_tiled(x, b, k.empty(x.shape, x.dtype))


def sum_batch(g):
    """``g.sum(axis=0)`` (host or device)."""
    if not is_device(g):
        return np.asarray(g).sum(axis=0)
    k = kernels()
    out = k.empty(g.shape[1:], g.dtype)
    k.norm.reduce(g.reshape(g.shape[0], out.size, 1), out.reshape(out.size))
    return out
