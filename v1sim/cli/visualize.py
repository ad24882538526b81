"""``v1sim visualize``: what a trained network's units respond to (filters, maps, top patches, maximisation)."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["EPILOG", "add_parser", "run"]

EPILOG = """\
examples:
  v1sim train lenet5 --out runs/lenet5 && v1sim visualize runs/lenet5
  v1sim visualize runs/lenet5 --layer c1 --units 6 --out vis/c1
  v1sim visualize runs/neocognitron --layer US2 --json
  v1sim visualize alexnet-torchvision --weights alexnet.npz --layer conv2 --out vis/alexnet

Writes into --out: filters.png (the first layer's filters; --layer's by their strongest input
channel), activations.png (test image --image through every layer), top_patches.png (the test
images that drive each of the first --units units of --layer hardest, cropped to the unit's
receptive field; Zeiler & Fergus 2014), maximization.png (the input that maximises the centre
unit, by gradient ascent with an L2 penalty, blur every 4 steps and clipping to [0, 1];
Simonyan et al. 2014, Yosinski et al. 2015; a Neocognitron's or HMAX's first 4 units by central
finite differences over their receptive field, for a --layer whose field is at most 40x40 px)
and receptive_fields.png (size / jump per layer). A unit is a channel of the layer; default
--layer: a ConvNet's second convolution, a hierarchy's highest learned S-stage.

A network trained elsewhere: a zoo name instead of RUN_DIR, with --weights NPZ (a torchvision
state dict, exported with numpy.savez(NPZ, **{k: v.numpy() for k, v in model.state_dict().items()})).
Its images are crops of the natural photographs (v1sim.datasets.natural_images, grey in every
channel, resized to the model's input), normalised with ImageNet's mean and std by a first layer
'normalize'; RGB conv1 filters are shown in colour.
"""


def run(args) -> int:
    """``v1sim visualize``: write the PNGs and print a summary (or one JSON line); returns the exit code."""
    from ..errors import CheckpointError, InputError
    from ..visualize.report import summary_lines, write_visualizations

    try:
        summary = write_visualizations(
            args.run_dir,
            args.out,
            layer=args.layer,
            units=args.units,
            image=args.image,
            k=args.top,
            steps=args.steps,
            checkpoint=args.checkpoint,
            progress=not args.quiet and not args.json,
            weights=args.weights,
        )
    except (InputError, CheckpointError):
        raise  # v1sim's own: the command line names the flag
    except (ValueError, TypeError, KeyError, IndexError, OSError) as exc:  # a run folder this network does not fit
        message = " ".join(str(exc).split())
        print(
            f"v1sim visualize: {args.run_dir}: cannot visualise this run ({type(exc).__name__}: {message})",
            file=sys.stderr,
        )
        return 2
    if args.json:
        print(json.dumps(summary))
    else:
        print("\n".join(summary_lines(summary)))
    return 0


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the ``visualize`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser(
        "visualize",
        help="feature visualisation of a trained run: filters, maps, top patches, maximisation",
        description=(
            "Show what the units of a trained network (a v1sim train run folder: a ConvNet of the zoo or\n"
            "the Neocognitron; or a zoo ConvNet with --weights trained elsewhere) respond to, as the\n"
            "lecture's Zeiler & Fergus slides do."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "run_dir", metavar="RUN_DIR", help="a run folder of v1sim train (--out DIR), or a zoo name with --weights"
    )
    p.add_argument(
        "--weights",
        metavar="NPZ",
        help="a torchvision state dict (.npz) for the zoo model RUN_DIR names (e.g. alexnet-torchvision)",
    )
    p.add_argument("--layer", metavar="NAME", help="the layer whose units are shown (an unknown name lists them)")
    p.add_argument("--out", metavar="DIR", default="visualize", help="folder for the PNGs (default ./visualize)")
    p.add_argument("--units", type=int, default=8, metavar="K", help="show the first K units (default 8)")
    p.add_argument("--image", type=int, default=0, metavar="N", help="test image for the activation maps (default 0)")
    p.add_argument("--top", type=int, default=9, metavar="K", help="top patches per unit (default 9)")
    p.add_argument(
        "--steps", type=int, metavar="N", help="activation-maximisation steps (default 60; S/C hierarchies 20)"
    )
    p.add_argument("--checkpoint", choices=["best", "last"], default="best", help="which checkpoint (default best)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print one JSON object (fields, top patches, files)")
    p.set_defaults(
        func=run,
        flags={
            "layer": "--layer",
            "out_dir": "--out",
            "units": "--units",
            "image": "--image",
            "k": "--top",
            "steps": "--steps",
            "checkpoint": "--checkpoint",
            "run_dir": "RUN_DIR",
            "weights": "--weights",
        },
    )
    return p
