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
Two thread pools share the cores: Numba's (OpenMP) for the kernels and the
BLAS library's for matrix products. Each spins for a while after its work,
so alternating them steals cores from the other: on two cores a parallel
kernel followed by a multithreaded GEMM was measured 5-24x slower than
either alone, worse on a loaded machine. v1sim picks one owner at a time:

* Numba's workers spin briefly, then sleep: ``OMP_WAIT_POLICY=PASSIVE``
  with ``GOMP_SPINCOUNT=10000`` (GNU OpenMP's spins before sleeping, about
  0.25 ms here), set on ``import v1sim`` unless the user set either. Waking
  a sleeping pool costs about 60 us a parallel region on these machines,
  and a ResNet-20 step runs more than a hundred of them back to back: fully passive
  workers made the step 8-12% slower (148-155 against 136-141 ms, batch 64,
  2 threads), while a quarter of a millisecond of spinning still yields the
  cores to a BLAS call soon after a kernel ends (the default, 300,000
  spins, keeps them for milliseconds);
* v1sim's matrix products (:func:`matmul`: every ConvNet layer, GEMM
  correlation) run with BLAS limited to one thread (:func:`blas_threads`,
  through threadpoolctl), so no BLAS worker is ever left spinning when the
  next kernel starts; products of at least :data:`SMALL_GEMM_MACS`
  multiply-accumulates (VGG, AlexNet layers) are split into column or row
  blocks computed by v1sim's own worker threads, one single-threaded BLAS
  call each, which sleep when idle.

Memory: training allocates the same large arrays every step, and glibc
hands arrays above its mmap threshold back to the system when freed, so each
step pays page faults again (22 ms of system time per LeNet-5 step at batch
256). :func:`retain_freed_memory` raises glibc's thresholds; it is an
application's choice, made by the ``v1sim`` command and the benchmarks,
never on import.

Measured on two busy cores (LeNet-5 training step, batch 64): 113-144 ms
with BLAS's own threads, 13-18 ms with one BLAS thread.
"""

from __future__ import annotations

import contextlib
import functools
import os

from ._core.validate import check_choice
from .errors import CudaUnavailableError

__all__ = [
    "DEVICES",
    "SMALL_GEMM_MACS",
    "blas_threads",
    "matmul",
    "peak_rss_mb",
    "retain_freed_memory",
    "resolve_device",
    "thread_owners",
    "cuda_available",
    "require_cuda",
    "CudaUnavailableError",
]

#: From this many multiply-accumulates on, :func:`matmul` splits a product over threads (see "Threads").
SMALL_GEMM_MACS = 5e7

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
    """Raise :class:`CudaUnavailableError`, explaining how to get CUDA, unless it is usable."""
    if cuda_available():
        return
    raise CudaUnavailableError(
        "device='cuda' was requested but no CUDA GPU is usable. Install the CUDA target with "
        "`pip install numba-cuda` (extra: `pip install v1sim[cuda]`) on a machine with an NVIDIA GPU "
        "and driver, or set NUMBA_ENABLE_CUDASIM=1 to run the kernels in Numba's CUDA simulator "
        "(slow; for tests). Use device='parallel' or 'cpu' to stay on the CPU."
    )


@functools.cache
def _blas_controllers():
    """threadpoolctl's controllers of the BLAS libraries loaded now (numpy's at least)."""
    from threadpoolctl import ThreadpoolController

    return tuple(ThreadpoolController().select(user_api="blas").lib_controllers)


@contextlib.contextmanager
def blas_threads(n: int = 1):
    """Run the body with BLAS limited to ``n`` threads, then restore the previous counts.

    Costs a few microseconds (a C call per library). Not thread-safe: the
    limit is process-wide while the body runs.

    >>> import numpy as np
    >>> with blas_threads(1):
    ...     _ = np.ones((4, 4)) @ np.ones((4, 4))
    """
    libs = _blas_controllers()
    before = [lib.num_threads for lib in libs]
    for lib in libs:
        lib.set_num_threads(n)
    try:
        yield
    finally:
        for lib, k in zip(libs, before):
            lib.set_num_threads(k)


@functools.cache
def _workers(n: int):
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=n, thread_name_prefix="v1sim-gemm")


def matmul(a, b, out=None):
    """``a @ b`` the way v1sim multiplies matrices: BLAS on one thread, big products split.

    Parameters
    ----------
    a : (M, K) or (..., M, K) ndarray
    b : (K, N) or (..., K, N) ndarray
    out : ndarray, optional
        Written in place (views with a unit inner stride, such as column
        blocks, are fine).

    Returns
    -------
    ndarray
        ``out``, or a new array.

    Notes
    -----
    2-D products of at least :data:`SMALL_GEMM_MACS` multiply-accumulates
    are cut into ``numba.get_num_threads()`` blocks along the larger of M
    and N, each a one-thread BLAS call on a v1sim worker thread (numpy
    releases the GIL in BLAS). Each output element is one BLAS dot product
    either way, so the split changes nothing but the time.
    """
    import numba
    import numpy as np

    if out is None:
        out = np.empty(
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1]), dtype=np.result_type(a, b)
        )
    threads = numba.get_num_threads()
    with blas_threads(1):
        m, k = a.shape[-2:]
        n = b.shape[-1]
        if a.ndim != 2 or b.ndim != 2 or threads < 2 or m * k * n < SMALL_GEMM_MACS:
            return np.matmul(a, b, out=out)
        rows = m > n
        edges = np.linspace(0, m if rows else n, threads + 1).astype(int)
        blocks = [slice(lo, hi) for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]
        if rows:
            jobs = [_workers(threads).submit(np.matmul, a[s], b, out=out[s]) for s in blocks]
        else:
            jobs = [_workers(threads).submit(np.matmul, a, b[:, s], out=out[:, s]) for s in blocks]
        for job in jobs:
            job.result()
    return out


def retain_freed_memory(limit_bytes: int = 1 << 30) -> bool:
    """Let glibc keep freed blocks up to ``limit_bytes`` for reuse instead of unmapping them.

    Sets ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` with ``mallopt``, so
    the arrays a training step frees are reused by the next step without
    page faults. Process-wide, and the memory is not returned to the system
    while the process runs, so this is for applications (the ``v1sim``
    command calls it), not for library code.

    Returns
    -------
    bool
        False where the C library is not glibc (nothing changed).
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    return bool(mallopt(m_mmap_threshold, int(limit_bytes)) and mallopt(m_trim_threshold, int(limit_bytes)))


def peak_rss_mb() -> float | None:
    """The largest resident set size this process has had so far, in MB (10^6 bytes).

    ``resource.getrusage(RUSAGE_SELF).ru_maxrss``: the peak of the physical
    memory the process held (its arrays, Python, the loaded libraries and
    Numba's compiled code), as the operating system counted it; memory
    mapped but never touched does not count. It never falls, so it measures
    a whole run (``v1sim train`` reports it). None where the ``resource``
    module is missing (Windows).
    """
    import sys

    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kibibytes on Linux, bytes on macOS
    return peak * (1 if sys.platform == "darwin" else 1024) / 1e6


def thread_owners() -> dict:
    """Which thread pool owns which work, and how many threads each has (``v1sim info`` prints it).

    The one-owner rule of "Threads" above, as data: Numba's pool runs the
    kernels and its workers sleep when a kernel ends (``OMP_WAIT_POLICY``);
    v1sim's matrix products run BLAS on one thread, split over v1sim's own
    ``gemm_workers`` when large; BLAS's own pool (``blas``: the library, its
    version, the kernel it chose for this processor and its default thread
    count) serves only numpy calls made outside v1sim.

    Returns
    -------
    dict
        ``owners`` (work -> pool), ``numba_threads``, ``numba_threading_layer``
        (the layer asked for, and the one running once a parallel kernel has
        run), ``omp_wait_policy``, ``gomp_spincount``, ``blas_threads_in_v1sim`` (1),
        ``gemm_workers``, ``small_gemm_macs`` and ``blas`` (a list: one dict
        per BLAS library loaded, threadpoolctl's ``internal_api``,
        ``version``, ``architecture``, ``threading_layer``, ``num_threads``),
        ``forced_blas_kernel`` (``OPENBLAS_CORETYPE`` if set, else None).
    """
    import numba
    from threadpoolctl import threadpool_info

    try:
        running = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet in this process
        running = None
    threads = numba.get_num_threads()
    return {
        "owners": {
            "Numba kernels (correlation, pooling, S-cells, the ConvNet kernels)": "numba",
            "v1sim matrix products (matmul: ConvNet layers, GEMM correlation, S4 cosines)": (
                "BLAS on 1 thread" + (f", split over {threads} v1sim-gemm workers when large" if threads > 1 else "")
            ),
            "numpy linear algebra outside v1sim.backend.matmul": "BLAS's own pool",
        },
        "numba_threads": threads,
        "numba_threading_layer": {"asked": numba.config.THREADING_LAYER, "running": running},
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "gomp_spincount": os.environ.get("GOMP_SPINCOUNT"),
        "blas_threads_in_v1sim": 1,
        "gemm_workers": threads,
        "small_gemm_macs": SMALL_GEMM_MACS,
        "blas": [
            {k: lib.get(k) for k in ("internal_api", "version", "architecture", "threading_layer", "num_threads")}
            for lib in threadpool_info()
            if lib.get("user_api") == "blas"
        ],
        "forced_blas_kernel": os.environ.get("OPENBLAS_CORETYPE"),
    }
