"""Shared helpers for the benchmarks: medians, ratios, peers, compile timing.

Machines here are shared and noisy, so every benchmark runs v1sim and its
peer on the same work in the same run, alternating, and reports the ratio of
medians. PyTorch runs in a process of its own (:class:`TorchPeer`): in one
process the two would share one OpenMP runtime, set up by whichever loads it
first.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

#: The environment as the user gave it, before v1sim's import adds its OpenMP defaults: PyTorch's process
#: (:class:`TorchPeer`) starts from it, so that it runs as in a session without v1sim.
USER_ENVIRONMENT = dict(os.environ)
if "v1sim" in sys.modules:
    raise ImportError("import benchmarks/_common.py before v1sim: it keeps the environment v1sim's import changes")

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


#: Seconds of untimed calls before each paired sample: longer than an OpenMP runtime's default spinning after
#: its work (the other side's threads), and busy, not asleep (an idle virtual CPU is slow for milliseconds after).
SETTLE_SECONDS = 0.02


def settle_in(f, seconds) -> None:
    """Call ``f()`` at least once and until ``seconds`` have passed."""
    start = time.perf_counter()
    f()
    while time.perf_counter() - start < seconds:
        f()


def paired_medians(fn, peer, *, repeat=5, warmup=1, block=1) -> tuple[float, float]:
    """Medians of ``fn()`` and ``peer()`` timed alternately, so load drifting
    on a shared machine hits both alike (``peer`` may be None: then NaN).

    ``peer`` may be a :class:`TorchPeer` case, timed in its own process.
    Each sample is the mean time of ``block`` consecutive calls, after
    untimed calls of the same function for :data:`SETTLE_SECONDS`
    (:func:`settle_in`): both are timed in steady state, as in a loop of
    their own, rather than while the other library's worker threads still
    spin (each OpenMP runtime keeps them busy for a while after its work) or
    just after they slept (waking an idle virtual CPU costs about 0.4 ms on
    these machines).
    """

    def sample(f, settle=SETTLE_SECONDS):
        if hasattr(f, "sample"):  # a TorchPeer's case: timed in its own process
            return f.sample(block, settle)
        settle_in(f, settle)
        start = time.perf_counter()
        for _ in range(block):
            f()
        return (time.perf_counter() - start) / block

    for _ in range(warmup):
        sample(fn, 0.0)
        if peer is not None:
            sample(peer, 0.0)
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


_PEER = """
import importlib, json, sys, time
try:
    import torch  # first: its OpenMP runtime reads the environment as in a session of the user's own
except ImportError:
    print(json.dumps({"torch": None}), flush=True)
    raise SystemExit
from _common import settle_in  # and, on import, glibc keeps freed blocks as on the v1sim side
torch.set_num_threads(int(sys.argv[2]))
module = importlib.import_module(sys.argv[1])
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
cases = []
for line in sys.stdin:
    ask = json.loads(line)
    if "call" in ask:
        print(json.dumps(getattr(module, ask["call"])(torch, *ask["args"])), flush=True)
        continue
    if "build" in ask:
        cases.append(getattr(module, ask["build"])(torch, *ask["args"]))
        print(json.dumps({"id": len(cases) - 1}), flush=True)
        continue
    run = cases[ask["id"]]
    settle_in(run, ask["settle"])
    start = time.perf_counter()
    for _ in range(ask["block"]):
        run()
    print(json.dumps({"seconds": (time.perf_counter() - start) / ask["block"]}), flush=True)
"""


class TorchPeer:
    """PyTorch timed in a process of its own, beside v1sim in this one.

    In one process the two libraries would share one OpenMP runtime, set up by whichever loads first: under
    v1sim's wait policy PyTorch's ResNet-20 step ran 15% slower than in a session of its own, and with PyTorch
    loaded first v1sim's kernels ran on PyTorch's defaults, not its own. Here each runs as its users run it.
    ``module`` (a benchmark, importable from this folder) defines the cases: ``builder(torch, *args)`` returns
    the function to time (:meth:`case`), or a function returns its own results (:meth:`call`). The process
    gets Numba's thread count; :attr:`version` is None without PyTorch.
    """

    def __init__(self, module: str):
        import numba

        here = os.path.dirname(os.path.abspath(__file__))
        self._process = subprocess.Popen(
            [sys.executable, "-c", _PEER, module, str(numba.get_num_threads())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=here,
            env={**USER_ENVIRONMENT, "PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))},
        )
        hello = self._ask(None)
        self.version, self.threads = hello["torch"], hello.get("threads")

    def _ask(self, message):
        if message is not None:
            self._process.stdin.write(json.dumps(message) + "\n")
            self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the PyTorch peer process ended early (its error is above)")
        return json.loads(line)

    def case(self, builder: str, *args) -> _PeerCase:
        """The function ``builder(torch, *args)`` returns, built in the peer process."""
        return _PeerCase(self, self._ask({"build": builder, "args": list(args)})["id"])

    def call(self, function: str, *args):
        """``function(torch, *args)`` run in the peer process; its result, through JSON."""
        return self._ask({"call": function, "args": list(args)})

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait()


@dataclasses.dataclass(frozen=True)
class _PeerCase:
    peer: TorchPeer
    id: int

    def sample(self, block: int, settle: float) -> float:
        """Mean seconds of ``block`` calls, after :func:`settle_in` for ``settle`` seconds, in the peer process."""
        return self.peer._ask({"id": self.id, "block": block, "settle": settle})["seconds"]


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
