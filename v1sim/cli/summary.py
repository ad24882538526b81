"""``v1sim summary``: a model's layers, shapes, parameters, activation memory and MACs, without computing."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["EPILOG", "add_parser", "run"]

EPILOG = """\
examples:
  v1sim summary --list                  the models, with their papers
  v1sim summary vgg16                   the lecture's VGG-16 table: 138M params, 15.2M values/image
  v1sim summary alexnet                 [55x55x96] ... [6x6x256], shown as (C, H, W)
  v1sim summary resnet50 --depth 1      one row per stage; MACs = He et al.'s "FLOPs"
  v1sim summary resnet20 --input 3,64,64    another input size
  v1sim summary fc-vs-conv --variant fc     1.6 billion weights, none allocated
  v1sim summary googlenet --json        one JSON object (totals and every layer)
  v1sim summary resnet50 --weights resnet50.npz   check a torchvision export loads (every tensor by name)

Nothing is computed on data and no weights are allocated: shapes, sizes and
multiply-accumulates come from each layer's formulas, W2 = (W1 - F + 2P)/S + 1.
Activations count the values a forward pass stores per image (input included,
in-place ReLU/dropout not again); memory is 4 bytes each (float32).
"""


def run(args) -> int:
    """``v1sim summary``: print the table (or JSON, or the list of models); returns the exit code."""
    from ..nn import models
    from ..nn.summary import summarize

    if args.list:
        for name, info in models.MODELS.items():
            shape = ",".join(map(str, info.input_shape))
            print(f"{name:<15} {shape:<10} {info.description}")
        return 0
    if args.model is None:
        print("v1sim summary: give a MODEL name (or --list); known: " + ", ".join(models.MODELS), file=sys.stderr)
        return 2
    options = {} if args.variant is None else {"variant": args.variant}
    loaded = None
    if args.weights is not None:  # built shape-only and filled from the file: every tensor checked by name
        loaded = models.build(args.model, weights=args.weights, **options)
        norm = loaded.input_normalization
        loaded = {"weights": args.weights, "input_normalization": {"mean": norm.mean, "std": norm.std}}
        loaded["input_normalization"]["channels"] = norm.channels
    result = summarize(args.model, args.input, **options)  # InputErrors name the argument: main maps it to a flag
    if args.json:
        print(json.dumps(result.to_dict(depth=args.depth) | ({} if loaded is None else loaded)))
    else:
        print(result.to_text(depth=2 if args.depth is None else args.depth))
        if loaded is not None:
            norm = loaded["input_normalization"]
            print(
                f"weights: {args.weights} (every tensor loaded by name); inputs {norm['channels']} in [0, 1], "
                f"normalised (x - mean) / std, mean {norm['mean']}, std {norm['std']}"
            )
    return 0


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the ``summary`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser(
        "summary",
        help="a model's layers: shapes, parameters, memory, MACs",
        description=(
            "Print a model of the zoo layer by layer: output shape (C, H, W), parameters (biases\n"
            "included), activations stored per image and their float32 memory, and multiply-accumulates\n"
            "(MACs; FLOPs = 2 x MACs, while He et al.'s ResNet 'FLOPs' are MACs). Containers (residual\n"
            "blocks, Inception modules) show their totals, with their layers indented below them."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", nargs="?", metavar="MODEL", help="model name (see --list), e.g. vgg16, resnet50, lenet5")
    p.add_argument("--input", metavar="C,H,W", help="per-sample input shape (default: the model's own, e.g. 3,224,224)")
    p.add_argument("--variant", choices=["fc", "lc", "conv"], help="fc-vs-conv only: which of the three layers")
    p.add_argument(
        "--depth",
        type=int,
        metavar="N",
        help="rows nested at most N deep (0: totals only; default 2 in the table, all in JSON)",
    )
    p.add_argument(
        "--weights", metavar="NPZ", help="an .npz of a torchvision state dict to load (checked by name and shape)"
    )
    p.add_argument("--list", action="store_true", help="list the models and exit")
    p.add_argument("--json", action="store_true", help="print one JSON object (totals and layers)")
    p.set_defaults(
        func=run,
        flags={
            "model_or_name": "MODEL",
            "input_shape": "--input",
            "depth": "--depth",
            "build_options": "--variant",
            "variant": "--variant",
            "weights": "--weights",
            "name": "MODEL",
        },
    )
    return p
