"""``v1sim info`` (versions, threads, devices) and ``v1sim warmup`` (compile every kernel ahead of use)."""

from __future__ import annotations

import json
import sys

__all__ = ["add_parser", "info", "warmup"]


def info(args) -> int:
    """``v1sim info``: versions, threads and devices; returns the exit code."""
    import numba
    import numpy as np
    import scipy

    from .. import __version__
    from ..backend import cuda_available, resolve_device, thread_owners
    from ..kernels.blas import routines

    facts = {
        "v1sim": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "numba_threading_layer": numba.config.THREADING_LAYER,
        "default_device": resolve_device("auto"),
        "cuda_available": cuda_available(),
        "threads": thread_owners(),  # the one-owner rule: which pool runs which work (v1sim.backend)
        # the ?gemm the convolutions call from inside Numba kernels (v1sim.kernels.blas), one thread per call
        "kernel_gemm": routines().library,
    }
    if args.json:
        print(json.dumps(facts))
        return 0
    threads = facts.pop("threads")
    for key, value in facts.items():
        print(f"{key:<22} {value}")
    print("threads (one owner at a time: Numba's pool or BLAS's, never both spinning)")
    for work, owner in threads.pop("owners").items():
        print(f"  {work}: {owner}")
    for lib in threads.pop("blas"):
        print(
            f"  BLAS {lib['internal_api']} {lib['version']}, kernel {lib['architecture']}, "
            f"{lib['threading_layer']}, {lib['num_threads']} threads of its own"
        )
    for key, value in threads.items():
        print(f"  {key:<24} {value}")
    return 0


def warmup(args) -> int:
    """``v1sim warmup``: compile every kernel now and print first-call times; returns the exit code."""
    from .. import kernels

    records = kernels.warmup(devices=args.devices, progress=not args.json)
    if args.json:
        print(json.dumps(records))
        return 0
    total = sum(r["first_call_s"] for r in records)
    print(f"{'kernel':<22} {'device':<9} {'dtype':<8} {'first call':>11} {'steady':>10}")
    for r in records:
        print(
            f"{r['kernel']:<22} {r['device']:<9} {r['dtype']:<8} {r['first_call_s'] * 1e3:>9.1f}ms "
            f"{r['steady_s'] * 1e6:>8.1f}us"
        )
    print(f"total first-call time {total:.2f} s (compilation, or loading Numba's cache when warm)")
    return 0


def add_parser(sub) -> None:
    """Add the ``info`` and ``warmup`` subcommands to the subparsers ``sub``."""
    p = sub.add_parser(
        "info",
        help="versions, threads and devices",
        description=(
            "Report the runtime environment: versions, devices, and which thread pool owns which work (Numba's "
            "for the kernels, one-thread BLAS on v1sim's workers for matrix products), with the BLAS library "
            "and the kernel it chose for this processor."
        ),
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=info)

    p = sub.add_parser(
        "warmup",
        help="compile every kernel now and report first-call times",
        description=(
            "Compile every Numba kernel (serial and parallel, float32 and float64). The machine code is "
            "cached on disk (cache=True), so later processes load it instead of compiling."
        ),
    )
    p.add_argument("--devices", nargs="+", default=["cpu", "parallel"], choices=["cpu", "parallel"])
    p.add_argument("--json", action="store_true", help="print the timings as JSON")
    p.set_defaults(func=warmup)
