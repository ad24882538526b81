"""The kernel layer: one registry over the CPU (serial, parallel) and CUDA twins.

Science modules and the ConvNet engine never import a backend module
directly; they ask :func:`get` for a kernel by name and resolved device::

    kern = kernels.get("correlate_valid", "parallel")
    kern(x, w, sy, sx, out)

All twins share one signature and write into preallocated outputs. The CUDA
module is imported only when ``"cuda"`` is asked for (``numba.cuda`` is slow
to import and may be absent).
"""

from __future__ import annotations

import importlib

__all__ = ["get", "names"]


def get(name: str, device: str):
    """Return kernel ``name`` for a resolved ``device`` ("cpu", "parallel" or "cuda")."""
    if device == "cuda":
        module = importlib.import_module(".cuda", __name__)
        try:
            return module.KERNELS[name]
        except KeyError:
            raise NotImplementedError(f"kernel {name!r} has no CUDA twin yet") from None
    cpu = importlib.import_module(".cpu", __name__)
    table = cpu.PARALLEL if device == "parallel" else cpu.SERIAL
    try:
        return table[name]
    except KeyError:
        raise KeyError(f"unknown kernel {name!r}; known: {', '.join(sorted(cpu.SERIAL))}") from None


def names() -> list[str]:
    """Names of the CPU kernels (every kernel has a CPU twin)."""
    cpu = importlib.import_module(".cpu", __name__)
    return sorted(cpu.SERIAL)
