"""The ``v1sim`` command line.

Subcommands
-----------
figures   regenerate the figure gallery (the main job)
summary   a model's layers: output shapes, parameters, activation memory, MACs
train     train a ConvNet, the Neocognitron or HMAX on digits (checkpoints, resume)
record    virtual electrophysiology on a model cell: rasters, tuning curves, metrics
info      versions, threads, Numba threading layer, CUDA availability
warmup    compile every kernel ahead of use and report first-call times

Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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
    from .nn.summary import parse_shape, summarize

    if args.list:
        for name, info in models.MODELS.items():
            shape = ",".join(map(str, info.input_shape))
            print(f"{name:<15} {shape:<10} {info.description}")
        return 0
    if args.model is None:
        print("v1sim summary: give a MODEL name (or --list); known: " + ", ".join(models.MODELS), file=sys.stderr)
        return 2
    if args.model not in models.MODELS:
        print(f"v1sim summary: unknown model {args.model!r}; known: {', '.join(models.MODELS)}", file=sys.stderr)
        return 2
    options = {} if args.variant is None else {"variant": args.variant}
    try:
        shape = None if args.input is None else parse_shape(args.input)
        result = summarize(args.model, shape, **options)
    except ValueError as exc:
        print(f"v1sim summary: {exc}", file=sys.stderr)
        return 2
    if args.json:
        data = result.to_dict()
        if args.depth is not None:
            data["layers"] = [row for row in data["layers"] if row["depth"] <= args.depth]
        print(json.dumps(data))
    else:
        print(result.to_text(depth=2 if args.depth is None else args.depth))
    return 0


def _figures(args) -> int:
    from . import figures

    try:
        scripts = figures.discover(args.scripts)
    except FileNotFoundError as exc:
        print(f"v1sim figures: {exc}", file=sys.stderr)
        return 2
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


_EPILOG_TRAIN = """\
models:
  ConvNets, minibatch SGD on softmax cross-entropy (--epochs --batch-size --lr --momentum
  --weight-decay --lr-step --lr-gamma --warmup-steps --log-every override the model's recipe):
    lenet5          LeCun et al. 1998 (recipe: 20 epochs, SGD lr 0.05, momentum 0.9, step decay)
    resnet20..110   He et al. 2016, CIFAR-style; plain20..110 the same without shortcuts
                    (digits zero-padded to 32x32; recipe: 6 epochs, batch 128, lr 0.1, step decay;
                    depth 110 warms up over 400 steps as He et al. did)
  S/C hierarchies, one learning pass without SGD (the SGD flags above are refused):
    neocognitron    Fukushima 2003: fixed edge cells, US2/US3 competitive learning, US4 labelled
                    prototypes; --classifier intvec (Fukushima 2007, default), nearest or ridge
    hmax            Riesenhuber & Poggio 1999, Serre et al. 2007: S1 Gabor, C1 max, S2 prototypes
                    imprinted from training images, C2 global max; a ridge readout

The embedded digits (5,000 train / 1,000 test MNIST images) need no download; --dataset mnist
reads --data-dir or downloads with --download.

The run folder gets metrics.jsonl, last.npz/json and best.npz/json (atomic); ConvNets also log
steps.jsonl (training loss and error every --log-every steps, default 50) and write last.*
after every epoch, hierarchies after every learned stage. Ctrl-C finishes the current step (a
hierarchy: the current batch), writes last.* and exits 130; --resume continues exactly where it
stopped.

examples:
  v1sim train lenet5                                   offline, a minute or two on 2 cores
  v1sim train lenet5 --dataset mnist --data-dir ~/mnist --out runs/lenet5-mnist
  v1sim train resnet20 --epochs 3 --out runs/r20 --json
  v1sim train lenet5 --out runs/lenet5 --resume        continue an interrupted run
  v1sim train neocognitron --limit 1000                the Neocognitron on 1,000 digits
  v1sim train hmax --json
"""

#: argparse dests of the flags that override a ConvNet recipe; the S/C hierarchies refuse them
_SGD_FLAGS = ("epochs", "batch_size", "lr", "momentum", "weight_decay", "lr_step", "lr_gamma", "warmup_steps",
              "log_every")


def _train(args) -> int:
    from . import hierarchy
    from ._io import CheckpointError
    from .backend import CudaUnavailableError
    from .datasets import DownloadError
    from .nn import models, train

    if args.model in hierarchy.MODELS:
        run = _train_hierarchy
    elif args.model in models.MODELS:
        run = _train_convnet
    else:
        known = f"ConvNets {', '.join(models.names())}; S/C hierarchies {', '.join(hierarchy.MODELS)}"
        print(f"v1sim train: unknown model {args.model!r}; known: {known}", file=sys.stderr)
        return 2
    try:
        result = run(args)
    except train.TrainingInterrupted as exc:
        print(f"v1sim train: {exc}", file=sys.stderr)
        return 130
    except (CheckpointError, FileNotFoundError, ValueError, TypeError) as exc:
        print(f"v1sim train: {exc}", file=sys.stderr)
        return 2
    except (train.TrainingError, DownloadError, CudaUnavailableError) as exc:
        print(f"v1sim train: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result))
    elif args.model in hierarchy.MODELS:
        chosen = result["classifier"]
        others = "".join(f", {k} {100 * (1 - v):.2f}%" for k, v in result["accuracies"].items() if k != chosen)
        print(
            f"{args.model} on {args.dataset}: test error {100 * result['test_error']:.2f}% ({chosen}{others}) after "
            f"one pass over {result['n_train']} images ({result['train_seconds']:.0f} s, "
            f"{result['images_per_second']:.0f} images/s); run in {result['out']}"
        )
    else:
        print(
            f"{args.model} on {args.dataset}: test error {100 * result['test_error']:.2f}% after {result['epochs']} "
            f"epochs ({result['train_seconds']:.0f} s, {result['images_per_second']:.0f} images/s); run in {result['out']}"
        )
    return 0


def _train_convnet(args) -> dict:
    from .nn import recipes, train

    if args.classifier is not None:
        raise ValueError(f"--classifier applies to the S/C hierarchies (neocognitron, hmax), not to {args.model}")
    settings = recipes.recipe(args.model)
    for key in (*_SGD_FLAGS, "seed"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    return recipes.train_model(
        args.model, dataset=args.dataset, data_dir=args.data_dir, download=args.download,
        config=train.TrainConfig(**settings), device=args.device, out=args.out or f"runs/{args.model}",
        resume=args.resume, progress=not args.quiet, limit=args.limit,
    )  # fmt: skip


def _train_hierarchy(args) -> dict:
    """Neocognitron or HMAX: one learning pass (:func:`v1sim.hierarchy.train`), no SGD flags."""
    import dataclasses

    from . import hierarchy
    from ._validate import check_positive_int
    from .datasets import load_dataset

    given = [k for k in _SGD_FLAGS if getattr(args, k) is not None and not (k == "epochs" and args.epochs == 1)]
    refused = ["--" + k.replace("_", "-") for k in given]
    if refused:
        raise ValueError(
            f"{', '.join(refused)} {'does' if len(refused) == 1 else 'do'} not apply to {args.model}: an S/C "
            "hierarchy learns in one pass, without SGD (see 'v1sim train --help')"
        )
    overrides = {}
    if args.classifier is not None:
        offered = hierarchy.CLASSIFIERS[args.model]
        if args.classifier not in offered:
            raise ValueError(
                f"--classifier {args.classifier} does not apply to {args.model} (it offers {', '.join(offered)})"
            )
        if "classifier" in {f.name for f in dataclasses.fields(hierarchy.MODELS[args.model][1])}:
            overrides["classifier"] = args.classifier
    x, y = load_dataset(args.dataset, "train", data_dir=args.data_dir, download=args.download)
    test = load_dataset(args.dataset, "test", data_dir=args.data_dir, download=args.download)
    if args.limit is not None:
        n = check_positive_int(args.limit, "--limit")
        x, y = x[:n], y[:n]
    result = hierarchy.train(
        args.model, (x, y), test, out_dir=args.out or f"runs/{args.model}", seed=0 if args.seed is None else args.seed,
        progress=not args.quiet, resume=args.resume, device=args.device, **overrides,
    )  # fmt: skip
    return {"model": args.model, "dataset": args.dataset, **result}


def _record_epilog() -> str:
    from ._recording import CELLS, PROTOCOLS, listing

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


_RECORD_FLAGS = {"seed": "--seed", "theta_deg": "--theta", "frequency": "--frequency", "size": "--size",
                 "trials": "--trials", "frames": "--frames"}  # fmt: skip


def _record(args) -> int:
    from ._recording import record

    try:
        result = record(args.cell, args.protocol, out_dir=args.out, seed=args.seed, theta_deg=args.theta,
                        frequency=args.frequency, size=args.size, trials=args.trials, frames=args.frames)  # fmt: skip
    except (ValueError, TypeError) as exc:
        message = str(exc)
        name = message.split(" ", 1)[0]  # record()'s argument -> the flag that sets it
        print(f"v1sim record: {_RECORD_FLAGS.get(name, name)}{message[len(name):]}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            if key != "data":
                print(f"{key:<26} {value:.4g}" if isinstance(value, float) else f"{key:<26} {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``v1sim`` command."""
    parser = argparse.ArgumentParser(
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
    p.set_defaults(func=_figures)

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
    p.add_argument(
        "--depth", type=int, metavar="N", help="show rows nested at most N deep (default 2 for the table, all in JSON)"
    )
    p.add_argument("--list", action="store_true", help="list the models and exit")
    p.add_argument("--json", action="store_true", help="print one JSON object (totals and layers)")
    p.set_defaults(func=_summary)

    p = sub.add_parser(
        "train",
        help="train a ConvNet or an S/C hierarchy (Neocognitron, HMAX) on handwritten digits",
        description=(
            "Train a model on handwritten digits and test it: a ConvNet of the model zoo with minibatch SGD\n"
            "(flags override the model's recipe), or an S/C hierarchy (neocognitron, hmax) in one learning pass."
        ),
        epilog=_EPILOG_TRAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="ConvNet (lenet5, resnet20..110, plain20..110) or S/C hierarchy (neocognitron, hmax)")
    p.add_argument("--dataset", choices=["digits", "mnist"], default="digits",
                   help="embedded offline digits (default) or MNIST")
    p.add_argument("--data-dir", metavar="DIR", help="folder holding the MNIST IDX files (gz or raw)")
    p.add_argument("--download", action="store_true", help="download MNIST (checksum-verified) if absent")
    p.add_argument("--epochs", type=int, help="passes over the training set (S/C hierarchies: 1 only)")
    p.add_argument("--batch-size", type=int, help="images per SGD step")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--momentum", type=float, help="SGD momentum")
    p.add_argument("--weight-decay", type=float, help="L2 weight decay")
    p.add_argument("--lr-step", type=int, help="divide the learning rate every N epochs (0: never)")
    p.add_argument("--lr-gamma", type=float, help="factor applied every --lr-step epochs")
    p.add_argument("--warmup-steps", type=int, metavar="N",
                   help="raise the learning rate linearly from lr/10 over the first N steps (0: none)")
    p.add_argument("--log-every", type=int, metavar="N",
                   help="write the mean training loss and error of every N steps to steps.jsonl (0: off)")
    p.add_argument("--seed", type=int,
                   help="seed of weights, batch order and dropout; hierarchies: presentation order (default 0)")
    p.add_argument("--classifier", choices=["intvec", "nearest", "ridge"],
                   help="S/C hierarchies: the readout reported (neocognitron: intvec, nearest or ridge; hmax: ridge)")
    p.add_argument("--device", choices=["auto", "cpu", "parallel", "cuda"], default="auto")
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/MODEL)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--limit", type=int, help="use only the first N training images (quick runs)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print the final result as one JSON line")
    p.set_defaults(func=_train)

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
    p.set_defaults(func=_record)

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


def main(argv=None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from .backend import retain_freed_memory

    retain_freed_memory()  # steps reuse freed arrays without page faults (see v1sim.backend)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
