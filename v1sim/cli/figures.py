"""``v1sim figures``: the command-line front of the gallery runner :mod:`v1sim.figures`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["EPILOG", "add_parser", "run"]

EPILOG = """\
examples:
  v1sim figures                 every figure into ./figures (of the checkout)
  v1sim figures --list          what there is, with titles
  v1sim figures dog lm_bank     a subset, by name
  v1sim figures --quick --out /tmp/figs   small, fast versions (for tests)
  v1sim figures --quiet         no progress bar (for logs); errors are still printed
  v1sim figures alexnet_v1 --weights alexnet.npz   a figure of a network trained elsewhere

--weights PATH (an .npz of a torchvision state dict, exported where PyTorch is with
numpy.savez(PATH, **{k: v.numpy() for k, v in model.state_dict().items()})) goes to
the figures marked [--weights] in --list; without it they draw the untrained network.
"""


def run(args) -> int:
    """``v1sim figures``: list or make figures with the gallery runner; returns the exit code."""
    from .. import figures

    scripts = figures.discover(args.scripts)
    if args.list:
        for s in scripts:
            print(f"{s.name:<22} {s.title}" + (" [--weights]" if s.takes_weights else ""))
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
    if args.weights is not None and not any(s.takes_weights for s in scripts):
        takers = ", ".join(s.name for s in figures.discover(args.scripts) if s.takes_weights) or "none"
        print(f"v1sim figures: --weights applies to the figures that take weights ({takers})", file=sys.stderr)
        return 2
    if args.weights is not None and not Path(args.weights).is_file():  # before any figure runs
        print(f"v1sim figures: argument --weights: weights file {args.weights} does not exist", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else (Path(args.scripts).parent if args.scripts else _repo_root()) / "figures"
    records = figures.run(scripts, out, quick=args.quick, progress=not (args.json or args.quiet), weights=args.weights)
    if args.json:
        print(json.dumps({"out": str(out), "figures": records}))
    elif not args.quiet:
        total = sum(r["seconds"] for r in records)
        print(f"wrote {len(records)} figure(s) to {out} in {total:.1f} s", file=sys.stderr)
    return 0


def _repo_root() -> Path:
    from ..figures import default_scripts_dir

    scripts = default_scripts_dir()
    return scripts.parent if scripts is not None else Path.cwd()


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the ``figures`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser(
        "figures",
        help="regenerate the figure gallery (the main job)",
        description="Run the figure scripts (scripts/fig_*.py); each writes one PNG.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("names", nargs="*", help="figure names to make (default: all; see --list)")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    p.add_argument("--out", metavar="DIR", help="output folder (default: figures/ of the checkout)")
    p.add_argument("--quick", action="store_true", help="small, fast versions (for tests and previews)")
    p.add_argument("--scripts", metavar="DIR", help="folder of fig_*.py scripts (default: scripts/ of the checkout)")
    p.add_argument(
        "--weights",
        metavar="NPZ",
        help="a torchvision state dict (.npz) for the figures that take one (marked in --list), e.g. alexnet_v1",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar nor summary line (errors still printed)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the written files")
    p.set_defaults(func=run, flags={"scripts_dir": "--scripts", "out_dir": "--out", "weights": "--weights"})
    return p
