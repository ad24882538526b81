"""``v1sim record``: virtual electrophysiology on a model cell (rasters, tuning curves, metrics)."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_parser", "epilog", "run"]


def epilog() -> str:
    """The help's list of cells and protocols (from the numpy-free catalogue) and examples."""
    from ..physiology.catalog import CELLS, PROTOCOLS, listing

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


def run(args) -> int:
    """``v1sim record``: run the protocol on the cell, write the figure, print the metrics; returns the exit code."""
    from ..physiology.recording import write_recording

    result = write_recording(
        args.cell,
        args.protocol,
        out_dir=args.out,
        seed=args.seed,
        theta_deg=args.theta,
        frequency=args.frequency,
        size=args.size,
        trials=args.trials,
        frames=args.frames,
    )
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            if key != "data":
                print(f"{key:<26} {value:.4g}" if isinstance(value, float) else f"{key:<26} {value}")
    return 0


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the ``record`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser(
        "record",
        help="record from a model cell: rasters, tuning curves, metrics",
        description=(
            "Run a virtual electrophysiology experiment on a model neuron, as in the lecture's recording\n"
            "slides: write a raster/PSTH or tuning-curve figure and print the metrics."
        ),
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("cell", metavar="CELL", help="on-center, off-center, simple, complex or hypercomplex")
    p.add_argument("--protocol", required=True, metavar="PROTOCOL", help="the experiment (listed below)")
    p.add_argument("--out", metavar="DIR", default="recordings", help="folder for the figure (default: ./recordings)")
    p.add_argument("--seed", type=int, default=0, help="seed of the spikes and the noise (default 0)")
    p.add_argument(
        "--theta",
        type=float,
        default=0.0,
        metavar="DEG",
        help="V1 cells' preferred orientation, degrees clockwise from vertical (default 0)",
    )
    p.add_argument(
        "--frequency",
        type=float,
        default=0.125,
        metavar="CPP",
        help="V1 cells' carrier frequency, cycles/pixel (default 0.125)",
    )
    p.add_argument("--size", type=int, default=64, metavar="PX", help="screen side, pixels (default 64)")
    p.add_argument("--trials", type=int, default=10, metavar="N", help="spike-train repeats in rasters (default 10)")
    p.add_argument(
        "--frames",
        type=int,
        default=20000,
        metavar="N",
        help="noise frames for reverse-correlation (default 20000)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object (metrics and the curve)")
    p.set_defaults(
        func=run,
        flags={
            "cell": "CELL",
            "protocol": "--protocol",
            "out_dir": "--out",
            "seed": "--seed",
            "theta_deg": "--theta",
            "frequency": "--frequency",
            "size": "--size",
            "trials": "--trials",
            "frames": "--frames",
        },
    )
    return p
