"""The ``v1sim`` command line.

Subcommands
-----------
figures   regenerate the figure gallery (the main job)
summary   a model's layers: output shapes, parameters, activation memory, MACs
train     train a ConvNet, the Neocognitron or HMAX on digits (checkpoints, resume)
record    virtual electrophysiology on a model cell: rasters, tuning curves, metrics
info      versions, threads, Numba threading layer, CUDA availability
warmup    compile every kernel ahead of use and report first-call times

Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted, 141 stdout
closed early (``v1sim summary --list | head -1``: 128 + SIGPIPE, what a
shell reports for ``yes | head -1``, so ``set -o pipefail`` scripts see the
output was cut short). A user's mistake (a bad flag or value, an unknown
name, an ``--out`` that is a file) prints one line on stderr naming the flag
and exits 2, never a traceback: argparse's complaints and any
:class:`v1sim.errors.InputError` or :class:`~v1sim.errors.CheckpointError`
a subcommand raises end there. Any other exception is a bug and keeps its
traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ._train_cli import add_train_parser

__all__ = ["main", "build_parser"]

_EPILOG_FIGURES = """\
examples:
  v1sim figures                 every figure into ./figures (of the checkout)
  v1sim figures --list          what there is, with titles
  v1sim figures dog lm_bank     a subset, by name
  v1sim figures --quick --out /tmp/figs   small, fast versions (for tests)
"""

_EPILOG_SUMMARY = """\
examples:
  v1sim summary --list                  the models, with their papers
  v1sim summary vgg16                   the lecture's VGG-16 table: 138M params, 15.2M values/image
  v1sim summary alexnet                 [55x55x96] ... [6x6x256], shown as (C, H, W)
  v1sim summary resnet50 --depth 1      one row per stage; MACs = He et al.'s "FLOPs"
  v1sim summary resnet20 --input 3,64,64    another input size
  v1sim summary fc-vs-conv --variant fc     1.6 billion weights, none allocated
  v1sim summary googlenet --json        one JSON object (totals and every layer)

Nothing is computed on data and no weights are allocated: shapes, sizes and
multiply-accumulates come from each layer's formulas, W2 = (W1 - F + 2P)/S + 1.
Activations count the values a forward pass stores per image (input included,
in-place ReLU/dropout not again); memory is 4 bytes each (float32).
"""


def _summary(args) -> int:
    from .nn import models
    from .nn.summary import summarize

    if args.list:
        for name, info in models.MODELS.items():
            shape = ",".join(map(str, info.input_shape))
            print(f"{name:<15} {shape:<10} {info.description}")
        return 0
    if args.model is None:
        print("v1sim summary: give a MODEL name (or --list); known: " + ", ".join(models.MODELS), file=sys.stderr)
        return 2
    options = {} if args.variant is None else {"variant": args.variant}
    result = summarize(args.model, args.input, **options)  # InputErrors name the argument: main maps it to a flag
    if args.json:
        print(json.dumps(result.to_dict(depth=args.depth)))
    else:
        print(result.to_text(depth=2 if args.depth is None else args.depth))
    return 0


def _figures(args) -> int:
    from . import figures

    scripts = figures.discover(args.scripts)
    if args.list:
        for s in scripts:
            print(f"{s.name:<22} {s.title}")
        return 0
    if args.names:
        known = {s.name: s for s in scripts}
        unknown = [n for n in args.names if n not in known]
        if unknown:
            print(
                f"v1sim figures: unknown figure name(s) {', '.join(unknown)}; known: {', '.join(known)}",
                file=sys.stderr,
            )
            return 2
        scripts = [known[n] for n in args.names]
    out = Path(args.out) if args.out else (Path(args.scripts).parent if args.scripts else _repo_root()) / "figures"
    records = figures.run(scripts, out, quick=args.quick, progress=not args.json)
    if args.json:
        print(json.dumps({"out": str(out), "figures": records}))
    else:
        total = sum(r["seconds"] for r in records)
        print(f"wrote {len(records)} figure(s) to {out} in {total:.1f} s", file=sys.stderr)
    return 0


def _repo_root() -> Path:
    from .figures import default_scripts_dir

    scripts = default_scripts_dir()
    return scripts.parent if scripts is not None else Path.cwd()


def _info(args) -> int:
    import numba
    import numpy as np
    import scipy

    from . import __version__
    from .backend import cuda_available, resolve_device

    info = {
        "v1sim": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "numba_threading_layer": numba.config.THREADING_LAYER,
        "default_device": resolve_device("auto"),
        "cuda_available": cuda_available(),
    }
    if args.json:
        print(json.dumps(info))
    else:
        for key, value in info.items():
            print(f"{key:<22} {value}")
    return 0


def _warmup(args) -> int:
    from . import kernels

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


def _record_epilog() -> str:
    from ._record_catalog import CELLS, PROTOCOLS, listing

    return f"""\
cells (pixel units, receptive field at the centre of a --size x --size screen):
{listing(CELLS)}

protocols:
{listing(PROTOCOLS)}

examples:
  v1sim record on-center --protocol spot-annulus        the lecture's ON-cell recordings
  v1sim record simple --protocol orientation --theta 30
  v1sim record complex --protocol drifting-grating --json    F1/F0 < 1: complex
  v1sim record hypercomplex --protocol length --out /tmp/rec
  v1sim record simple --protocol reverse-correlation --frames 40000 --seed 3

Rates are the linear-nonlinear model's expected rates (spikes/s); rasters draw Poisson
spikes (--trials, --seed). Each run writes CELL_PROTOCOL.png into --out and prints the
metrics; --json prints one JSON object instead: cell, protocol, figure, the metrics the
protocol measures (preferred_orientation_deg, bandwidth_deg, circular_variance, f1_f0,
suppression_index, end_stopping_index, sta_correlation, ...; null where undefined, e.g.
no preferred value for a flat curve) and its curve under "data".
"""


def _record(args) -> int:
    from ._recording import record

    result = record(args.cell, args.protocol, out_dir=args.out, seed=args.seed, theta_deg=args.theta,
                    frequency=args.frequency, size=args.size, trials=args.trials, frames=args.frames)  # fmt: skip
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            if key != "data":
                print(f"{key:<26} {value:.4g}" if isinstance(value, float) else f"{key:<26} {value}")
    return 0


class _UsageError(Exception):
    """argparse's complaint about the command line, carried to :func:`main` to print as one line."""

    def __init__(self, prog: str, message: str):
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors reach :func:`main` (one line, exit 2) instead of exiting with the usage."""

    def error(self, message):
        raise _UsageError(self.prog, message)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``v1sim`` command."""
    parser = _Parser(
        prog="v1sim",
        description=(
            "v1sim: the visual system from retina to V1 (filters as simple cells, pooling as complex "
            "cells), carried on into ConvNets, on Numba kernels for the CPU and CUDA."
        ),
        epilog="Run 'v1sim COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "figures",
        help="regenerate the figure gallery (the main job)",
        description="Run the figure scripts (scripts/fig_*.py); each writes one PNG.",
        epilog=_EPILOG_FIGURES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("names", nargs="*", help="figure names to make (default: all; see --list)")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    p.add_argument("--out", metavar="DIR", help="output folder (default: figures/ of the checkout)")
    p.add_argument("--quick", action="store_true", help="small, fast versions (for tests and previews)")
    p.add_argument("--scripts", metavar="DIR", help="folder of fig_*.py scripts (default: scripts/ of the checkout)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the written files")
    p.set_defaults(func=_figures, flags={"scripts_dir": "--scripts", "out_dir": "--out"})

    p = sub.add_parser(
        "summary",
        help="a model's layers: shapes, parameters, memory, MACs",
        description=(
            "Print a model of the zoo layer by layer: output shape (C, H, W), parameters (biases\n"
            "included), activations stored per image and their float32 memory, and multiply-accumulates\n"
            "(MACs; FLOPs = 2 x MACs, while He et al.'s ResNet 'FLOPs' are MACs). Containers (residual\n"
            "blocks, Inception modules) show their totals, with their layers indented below them."
        ),
        epilog=_EPILOG_SUMMARY,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", nargs="?", metavar="MODEL", help="model name (see --list), e.g. vgg16, resnet50, lenet5")
    p.add_argument("--input", metavar="C,H,W", help="per-sample input shape (default: the model's own, e.g. 3,224,224)")
    p.add_argument("--variant", choices=["fc", "lc", "conv"], help="fc-vs-conv only: which of the three layers")
    p.add_argument("--depth", type=int, metavar="N",
                   help="rows nested at most N deep (0: totals only; default 2 in the table, all in JSON)")  # fmt: skip
    p.add_argument("--list", action="store_true", help="list the models and exit")
    p.add_argument("--json", action="store_true", help="print one JSON object (totals and layers)")
    p.set_defaults(func=_summary, flags={"model_or_name": "MODEL", "input_shape": "--input", "depth": "--depth",
                                         "build_options": "--variant", "variant": "--variant"})  # fmt: skip

    add_train_parser(sub)

    p = sub.add_parser(
        "record",
        help="record from a model cell: rasters, tuning curves, metrics",
        description=(
            "Run a virtual electrophysiology experiment on a model neuron, as in the lecture's recording\n"
            "slides: write a raster/PSTH or tuning-curve figure and print the metrics."
        ),
        epilog=_record_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("cell", metavar="CELL", help="on-center, off-center, simple, complex or hypercomplex")
    p.add_argument("--protocol", required=True, metavar="PROTOCOL", help="the experiment (listed below)")
    p.add_argument("--out", metavar="DIR", default="recordings", help="folder for the figure (default: ./recordings)")
    p.add_argument("--seed", type=int, default=0, help="seed of the spikes and the noise (default 0)")
    p.add_argument("--theta", type=float, default=0.0, metavar="DEG",
                   help="V1 cells' preferred orientation, degrees clockwise from vertical (default 0)")  # fmt: skip
    p.add_argument("--frequency", type=float, default=0.125, metavar="CPP",
                   help="V1 cells' carrier frequency, cycles/pixel (default 0.125)")  # fmt: skip
    p.add_argument("--size", type=int, default=64, metavar="PX", help="screen side, pixels (default 64)")
    p.add_argument("--trials", type=int, default=10, metavar="N", help="spike-train repeats in rasters (default 10)")
    p.add_argument("--frames", type=int, default=20000, metavar="N",
                   help="white-noise frames for reverse-correlation (default 20000)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print one JSON object (metrics and the curve)")
    p.set_defaults(func=_record, flags={"cell": "CELL", "protocol": "--protocol", "out_dir": "--out", "seed": "--seed",
                                        "theta_deg": "--theta", "frequency": "--frequency", "size": "--size",
                                        "trials": "--trials", "frames": "--frames"})  # fmt: skip

    p = sub.add_parser("info", help="versions, threads and devices", description="Report the runtime environment.")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_info)

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
    p.set_defaults(func=_warmup)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def _one_line(text) -> str:
    return " ".join(str(text).split())  # one line on stderr, whatever the message's layout


def _usage_error(prog, message) -> int:
    print(f"{prog}: {_one_line(message)}", file=sys.stderr)
    return 2


def _blame(exc, flags) -> str:
    """An InputError's message headed by the flag that set its ``.argument`` (unchanged without one)."""
    argument = getattr(exc, "argument", None)
    flag = flags.get(argument, argument if argument and argument.startswith("-") else None)
    return str(exc) if flag is None else f"argument {flag}: {exc}"


def _silence_stdout():
    """Point stdout at /dev/null, so the interpreter's last flush into a closed pipe does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (captured output): nothing to flush into a pipe
        pass


def main(argv=None) -> int:
    """Run the command line; returns the process exit code (see the module docstring)."""
    from .errors import CheckpointError, InputError

    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except _UsageError as exc:
            return _usage_error(exc.prog, f"{exc} (see '{exc.prog} --help')")
        if args.command is None:
            parser.print_help()
            return 2
        from .backend import retain_freed_memory

        retain_freed_memory()  # steps reuse freed arrays without page faults (see v1sim.backend)
        prog = f"v1sim {args.command}"
        try:
            code = int(args.func(args) or 0)
        except InputError as exc:
            return _usage_error(prog, _blame(exc, getattr(args, "flags", {})))
        except CheckpointError as exc:
            return _usage_error(prog, exc)
        except _UsageError as exc:  # a subcommand's own parser.error()
            return _usage_error(exc.prog, exc)
        sys.stdout.flush()  # a reader that went away shows here, inside the handler below
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `v1sim ... | head`: the reader has what it wanted
        _silence_stdout()
        return 141
