"""Shared helpers for the benchmarks: medians, ratios, peers, compile timing.

Machines here are shared and noisy, so every benchmark runs v1sim and its
peer on the same work in the same process and reports the ratio of medians.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

try:  # PyTorch, the peer, before v1sim: its OpenMP runtime reads the environment once, when it loads, and
    import torch as _torch  # v1sim's import sets its own pool's wait policy there ("Threads" in v1sim.backend):
except ImportError:  # loaded first, torch runs as in a user's session without v1sim (15% faster than under
    _torch = None  # OMP_WAIT_POLICY=PASSIVE: a ResNet-20 step 135 against 160 ms, 2 threads)

from v1sim.backend import retain_freed_memory  # noqa: E402

# Benchmarks are applications: like the v1sim command they let glibc keep
# freed blocks, so repeated large arrays cost no page faults (peers in the
# same process benefit alike). See "Threads" and memory in v1sim.backend.
retain_freed_memory()


def machine_report() -> str:
    """Where the numbers came from: load, cores, Numba threads, and which BLAS kernel ran.

    OpenBLAS picks its kernel for the processor (``architecture``, e.g. SkylakeX,
    Zen); ``OPENBLAS_CORETYPE`` forces an older, slower one that users do not
    have. Benchmarks are meant to run with it unset
    (``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/...``);
    the report says so when it is set.
    """
    import numba
    from threadpoolctl import threadpool_info

    blas = ", ".join(
        f"{m['internal_api']} {m.get('version') or ''} kernel {m.get('architecture') or '?'}, "
        f"{m['num_threads']} threads"
        for m in threadpool_info()
        if m["user_api"] == "blas"
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"machine: {os.cpu_count()} cores, load average (1, 5, 15 min) {load}; "
        f"numba {numba.__version__} ({numba.get_num_threads()} threads)",
        f"BLAS: {blas or 'none loaded'}",
    ]
    from v1sim.kernels.blas import routines

    lines.append(f"v1sim's convolutions call ?gemm from Numba kernels in: {routines().library}")
    forced = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    if forced:
        lines.append(f"WARNING: {forced} forces an older BLAS kernel than users get; unset it for the benchmark")
    return "\n".join(lines)


def median_time(fn, *, repeat=5, warmup=1) -> float:
    """Median wall time of ``fn()`` over ``repeat`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired_medians(fn, peer, *, repeat=5, warmup=1, block=1) -> tuple[float, float]:
    """Medians of ``fn()`` and ``peer()`` timed alternately, so load drifting
    on a shared machine hits both alike (``peer`` may be None: then NaN).

    Each sample is the mean time of ``block`` consecutive calls, after one
    untimed call of the same function: both are timed in steady state, as in
    a loop of their own, rather than just after the other library's worker
    threads were still spinning or had fallen asleep (each OpenMP runtime
    keeps its threads busy for a while after its work; waking an idle
    virtual CPU costs about 0.4 ms on these machines).
    """
    for _ in range(warmup):
        fn()
        if peer is not None:
            peer()

    def sample(f):
        f()
        start = time.perf_counter()
        for _ in range(block):
            f()
        return (time.perf_counter() - start) / block

    ours, theirs = [], []
    for _ in range(repeat):
        ours.append(sample(fn))
        if peer is not None:
            theirs.append(sample(peer))
    return statistics.median(ours), (statistics.median(theirs) if theirs else float("nan"))


def report(rows, title):
    """Print a table of (case, v1sim_s, peer_name, peer_s) with the peer/v1sim speed-up."""
    print(f"\n## {title}")
    print(f"{'case':<44} {'v1sim':>10} {'peer':<34} {'peer':>10} {'speed-up':>9}")
    for case, ours, peer, theirs in rows:
        speedup = theirs / ours if ours > 0 else float("nan")
        print(f"{case:<44} {ours * 1e3:>8.1f}ms {peer:<34} {theirs * 1e3:>8.1f}ms {speedup:>8.2f}x")


def torch_or_none():
    """PyTorch (CPU) with the same thread count as Numba, or None when not installed."""
    if _torch is None:
        return None
    import numba

    _torch.set_num_threads(numba.get_num_threads())
    return _torch


def first_call_seconds(snippet: str) -> dict:
    """Time the first call of ``snippet`` in fresh processes: cold cache, then warm cache.

    ``snippet`` must define ``run()``; it is imported (untimed) and then
    ``run()`` is timed once. A private NUMBA_CACHE_DIR makes the first
    process compile everything and the second load it from disk.
    """
    code = (
        "import time, json\n"
        f"{snippet}\n"
        "t = time.perf_counter(); run(); first = time.perf_counter() - t\n"
        "t = time.perf_counter(); run(); steady = time.perf_counter() - t\n"
        "print(json.dumps({'first': first, 'steady': steady}))\n"
    )
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold", "warm"):
            res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            out[label] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def print_first_calls(results: dict, title: str) -> None:
    """Print :func:`first_call_seconds`' cold- and warm-cache first calls against the steady state."""
    print(f"\n## {title}")
    for label in ("cold", "warm"):
        r = results[label]
        print(f"{label} cache: first call {r['first'] * 1e3:8.1f} ms, second call {r['steady'] * 1e3:8.2f} ms")
