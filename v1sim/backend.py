"""Where the work runs: resolve ``device`` arguments to a kernel backend.

Every array function of v1sim takes ``device="auto" | "cpu" | "parallel" | "cuda"``:

``"cpu"``
    Serial Numba kernels (one core; results independent of threads).
``"parallel"``
    The same kernel bodies compiled with ``parallel=True`` (``prange`` over
    images and filters).
``"cuda"``
    ``numba.cuda`` twins of the kernels (package ``numba-cuda``). Without a
    GPU they run in Numba's CUDA simulator when ``NUMBA_ENABLE_CUDASIM=1`` is
    set (slow; meant for tests).
``"auto"``
    The environment variable ``V1SIM_DEVICE`` if set, otherwise
    ``"parallel"``. CUDA is never chosen implicitly: host/device transfers
    dominate small problems, so using a GPU is an explicit decision.

Threads
-------
Numba's OpenMP workers spin after a parallel region and fight a following
multithreaded BLAS call for the cores (measured many times slower on two
cores). v1sim therefore asks for a passive OpenMP wait policy before Numba
starts its thread pool (``OMP_WAIT_POLICY=PASSIVE`` unless the user set it),
and leaves BLAS its own threads: parallel kernels and BLAS calls alternate,
never nest.
"""

from __future__ import annotations

import functools
import os

from ._validate import check_choice

__all__ = ["DEVICES", "resolve_device", "cuda_available", "require_cuda"]

# Must happen before Numba launches its OpenMP pool (first parallel call).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

DEVICES = ("auto", "cpu", "parallel", "cuda")


def resolve_device(device: str = "auto") -> str:
    """Resolve a ``device`` argument to ``"cpu"``, ``"parallel"`` or ``"cuda"``.

    Parameters
    ----------
    device : {"auto", "cpu", "parallel", "cuda"}
        Requested backend. ``"auto"`` reads ``V1SIM_DEVICE`` and falls back
        to ``"parallel"``.

    Returns
    -------
    str
        One of ``"cpu"``, ``"parallel"``, ``"cuda"``.

    Raises
    ------
    ValueError
        For an unknown name, or ``V1SIM_DEVICE`` holding one.
    RuntimeError
        If ``"cuda"`` is requested and no GPU (nor the simulator) is usable.
    """
    check_choice(device, "device", DEVICES)
    if device == "auto":
        env = os.environ.get("V1SIM_DEVICE", "parallel").strip().lower() or "parallel"
        if env not in DEVICES[1:]:
            raise ValueError(f"environment variable V1SIM_DEVICE must be one of 'cpu', 'parallel', 'cuda'; got {env!r}")
        device = env
    if device == "cuda":
        require_cuda()
    return device


def _simulator_enabled() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1"


@functools.lru_cache(maxsize=1)
def cuda_available() -> bool:
    """True if ``numba.cuda`` is importable and a GPU (or the simulator) is usable."""
    try:
        from numba import cuda
    except Exception:
        return False
    try:
        return bool(cuda.is_available())
    except Exception:
        return False


def require_cuda() -> None:
    """Raise a RuntimeError that explains how to get CUDA, unless it is usable."""
    if cuda_available():
        return
    raise RuntimeError(
        "device='cuda' was requested but no CUDA GPU is usable. Install the CUDA target with "
        "`pip install numba-cuda` (extra: `pip install v1sim[cuda]`) on a machine with an NVIDIA GPU "
        "and driver, or set NUMBA_ENABLE_CUDASIM=1 to run the kernels in Numba's CUDA simulator "
        "(slow; for tests). Use device='parallel' or 'cpu' to stay on the CPU."
    )
