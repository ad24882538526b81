"""``v1sim train``: its flags, help text and what it runs (ConvNets by SGD, S/C hierarchies in one pass)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from functools import partial

__all__ = ["EPILOG", "FLAG_NAMES", "RUN_FLAGS", "SGD_FLAGS", "TRANSFER_FLAGS", "add_parser", "run"]

EPILOG = """\
models:
  ConvNets, minibatch SGD on softmax cross-entropy (--epochs --batch-size --lr --momentum --weight-decay
  --lr-step --lr-gamma --warmup-steps --log-every --shift --flip override the model's recipe):
    lenet5          LeCun et al. 1998 (recipe: 20 epochs, SGD lr 0.05, momentum 0.9, step decay)
    resnet20..110   He et al. 2016, CIFAR-style; plain20..110 the same without shortcuts
                    (digits zero-padded to 32x32; recipe: 6 epochs, batch 128, lr 0.1, step decay;
                    depth 110 warms up over 400 steps as He et al. did)
  Natural images, unlabelled (default --dataset images: scikit-image's photographs, or --data-dir DIR),
  minibatch SGD on a sparse-coding objective; the result reports gabor_fraction (conv1 filters whose
  Gabor fit reaches r^2 >= 0.7):
    sparse_conv     sparse convolutional autoencoder, Olshausen & Field 1996: 64 unit-norm 12x12
                    filters, ReLU codes with an L1 cost, tied decoder; whitened patches (recipe: 20
                    epochs of 64,000 patches, batch 64, SGD lr 0.1, momentum 0.9)
  S/C hierarchies, one learning pass without SGD (the SGD flags above are refused):
    neocognitron    Fukushima 2003: fixed edge cells, US2/US3 competitive learning, US4 labelled
                    prototypes; --classifier intvec (Fukushima 2007, default), nearest or ridge
    hmax            Riesenhuber & Poggio 1999, Serre et al. 2007: S1 Gabor, C1 max, S2 prototypes
                    imprinted from training images, C2 global max; a ridge readout

The embedded digits (5,000 train / 1,000 test MNIST images) need no download; --dataset mnist
reads --data-dir or downloads with --download.

The run folder (--out, default runs/MODEL) holds run.json (how the run was started; written once),
metrics.jsonl, last.npz (the newest checkpoint, one atomic file), previous.npz (the one before) and
best.npz; ConvNets also log steps.jsonl (training loss and error every --log-every steps, default
50). ConvNets checkpoint after every epoch, hierarchies after every learned stage. A new run refuses
a folder that holds one. Ctrl-C at any point finishes the step, test or write in hand, saves last.npz
and exits 130 (a second Ctrl-C exits at once, keeping the last checkpoint).

--resume continues the run in --out exactly as it was started: settings not given are taken from
run.json; a flag that contradicts it (--lr, --batch-size, --seed, --limit, --dataset, --classifier,
...) is refused, naming the saved and the given value. Without --epochs a ConvNet trains to the
run's target (run.json, or a later --epochs that extended it, recorded in the checkpoints); a larger
--epochs extends it. It loads last.npz, or previous.npz if last.npz is damaged (saying so). On a
finished run --resume prints its result, says it is finished and exits 0.

transfer learning (ConvNets; the lecture's "CNN codes, freeze, fine-tune"):
  --init RUN_DIR     start from that run's best.npz (else last.npz), same architecture; the classifier
                     (the last Linear) is replaced for the new task's classes
  --classes 5-9      train and test on these labels only ('5-9', '0,2,4', '0-2,7'), renumbered 0..k-1
                     in the order given; --limit then counts their images
  --freeze c1,c3     layers left untrained (names or prefixes as 'v1sim summary MODEL' prints them,
                     e.g. stage1): bit-identical after training
  --lr-mult c5=0.1   a layer's learning rate times a factor (several: --lr-mult c1=0.01 c3=0.1;
                     0 equals --freeze); all four are recorded in run.json and checked by --resume
  'v1sim codes RUN_DIR' writes a run's CNN codes and their nearest-neighbour retrieval.

peak memory: the summary line and the JSON result ('peak_rss_mb') give the largest resident set
size of the process over the whole run, in MB (10^6 bytes): getrusage's ru_maxrss, i.e. the
physical memory held at the worst moment (data, arrays, Python, libraries, compiled kernels).

exit codes: 0 done; 1 training failed (diverged, download or device error); 2 usage (bad flag,
contradicting or corrupt run folder); 130 interrupted (after the checkpoint).

examples:
  v1sim train lenet5                                   offline, a minute or two on 2 cores
  v1sim train lenet5 --dataset mnist --data-dir ~/mnist --out runs/lenet5-mnist
  v1sim train resnet20 --epochs 3 --out runs/r20 --json
  v1sim train lenet5 --out runs/lenet5 --resume        continue an interrupted run
  v1sim train neocognitron --limit 1000                the Neocognitron on 1,000 digits
  v1sim train hmax --json
  v1sim train lenet5 --classes 0-4 --out runs/digits04           source task: digits 0-4
  v1sim train lenet5 --init runs/digits04 --classes 5-9 --limit 100 --freeze c1,c3,c5,f6 --out runs/frozen
  v1sim train lenet5 --init runs/digits04 --classes 5-9 --lr-mult c1=0.1 c3=0.1 c5=0.1 f6=0.1 --out runs/ft
"""

#: glibc's default M_MMAP_THRESHOLD and M_TRIM_THRESHOLD (bytes): what an S/C hierarchy's training runs with
GLIBC_DEFAULT_THRESHOLD = 128 * 1024

#: argparse dests of the flags that override a ConvNet recipe; the S/C hierarchies refuse them
SGD_FLAGS = (
    "epochs",
    "batch_size",
    "lr",
    "momentum",
    "weight_decay",
    "lr_step",
    "lr_gamma",
    "warmup_steps",
    "log_every",
    "freeze",
    "lr_mult",
    "shift",
    "flip",
)
#: argparse dests of the transfer-learning flags that are not recipe settings (run.json facts)
TRANSFER_FLAGS = ("init", "classes")


#: the flags a resumed run takes from its run.json, and their spelling in messages
RUN_FLAGS = (*SGD_FLAGS, "seed", "limit", "dataset", "classifier", *TRANSFER_FLAGS)
FLAG_NAMES = {k: "--" + k.replace("_", "-") for k in RUN_FLAGS}


def run(args) -> int:
    """``v1sim train``: train, print the result, return the exit code (one line on stderr for every failure)."""
    from .. import hierarchy
    from ..errors import (
        CheckpointError,
        CudaUnavailableError,
        DownloadError,
        InputError,
        TrainingError,
        TrainingInterrupted,
    )
    from ..nn import models

    if args.model in hierarchy.MODELS:
        train_one = _hierarchy
    elif args.model in models.MODELS:
        train_one = _convnet
    else:
        known = f"ConvNets {', '.join(models.names())}; S/C hierarchies {', '.join(hierarchy.MODELS)}"
        print(f"v1sim train: unknown model {args.model!r}; known: {known}", file=sys.stderr)
        return 2
    try:
        result = train_one(args)
    except TrainingInterrupted as exc:
        print(f"v1sim train: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:  # a second Ctrl-C: out at once; the files on disk are whole (atomic writes)
        print("v1sim train: interrupted; continue from the last checkpoint with --resume", file=sys.stderr)
        return 130
    except (InputError, CheckpointError, FileNotFoundError) as exc:
        print(f"v1sim train: {exc}", file=sys.stderr)
        return 2
    except (TrainingError, DownloadError, CudaUnavailableError, OSError) as exc:
        print(f"v1sim train: {exc}", file=sys.stderr)
        return 1
    except (ValueError, TypeError) as exc:  # a model or dataset refusing what the flags asked for
        print(f"v1sim train: {exc}", file=sys.stderr)
        return 2
    if result.get("already_finished"):
        print(
            f"v1sim train: the run in {result['out']} is already finished; nothing trained"
            + ("" if args.model in hierarchy.MODELS else " (a larger --epochs extends it)"),
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(result))
    elif args.model in hierarchy.MODELS:
        chosen = result["classifier"]
        others = "".join(f", {k} {100 * (1 - v):.2f}%" for k, v in result["accuracies"].items() if k != chosen)
        print(
            f"{args.model} on {args.dataset}: test error {100 * result['test_error']:.2f}% ({chosen}{others}) after "
            f"one pass over {result['n_train']} images ({result['train_seconds']:.0f} s, "
            f"{result['images_per_second']:.0f} images/s{_peak(result)}); run in {result['out']}"
        )
    elif "gabor_fraction" in result:  # a natural-image model: no classes, a reconstruction
        print(
            f"{args.model} on natural images: {100 * result['gabor_fraction']:.0f}% of conv1's filters Gabor-like "
            f"(fit r^2 >= 0.7), {100 * result['test_variance_explained']:.1f}% of test patch variance explained "
            f"after {result['epochs']} epochs ({result['train_seconds']:.0f} s{_peak(result)}); run in {result['out']}"
        )
    else:
        print(
            f"{args.model} on {args.dataset}: test error {100 * result['test_error']:.2f}% after {result['epochs']} "
            f"epochs ({result['train_seconds']:.0f} s, {result['images_per_second']:.0f} images/s{_peak(result)}); "
            f"run in {result['out']}"
        )
    return 0


def _peak(result) -> str:
    """The ", peak memory 812 MB" of a summary line (nothing where the platform cannot say)."""
    peak = result.get("peak_rss_mb")
    return "" if peak is None else f", peak memory {peak:.0f} MB"


def _continue(args, folder) -> dict:
    """``run.json`` of the run in ``folder``, once no flag contradicts it; fills ``args`` from it.

    Raises
    ------
    CheckpointError
        If no run was started there, it is another model's, or a flag given
        differs from the saved value (the message names both).
    """
    from .._core.runs import differences
    from ..errors import CheckpointError

    saved = folder.saved_run()
    if saved.get("model") != args.model:
        raise CheckpointError(
            f"cannot resume {folder.path}: it holds a {saved.get('model')} run, not {args.model}", path=folder.path
        )
    config = saved.get("config") if isinstance(saved.get("config"), dict) else {}
    recorded = {**config, **{k: saved[k] for k in ("seed", "dataset", "limit", *TRANSFER_FLAGS) if k in saved}}
    given = {k: getattr(args, k) for k in RUN_FLAGS if k != "epochs" and getattr(args, k) is not None}
    diff = differences(recorded, given, names=FLAG_NAMES)
    if diff:
        raise CheckpointError(
            f"cannot resume {folder.path}: {'; '.join(diff)} (leave a flag out to keep the saved value)",
            path=folder.path,
        )
    for key in ("seed", "dataset", "limit", *TRANSFER_FLAGS):
        if getattr(args, key) is None and recorded.get(key) is not None:
            setattr(args, key, recorded[key])
    return saved


def _convnet(args) -> dict:
    from .. import hierarchy
    from .._core.runs import RunFolder
    from ..nn import recipes, train

    if args.classifier is not None:
        hierarchies = ", ".join(hierarchy.MODELS)
        raise ValueError(f"--classifier applies to the S/C hierarchies ({hierarchies}), not to {args.model}")
    folder = RunFolder(args.out or f"runs/{args.model}")
    settings = recipes.recipe(args.model)
    if args.resume:
        saved = _continue(args, folder)
        fields = {f.name for f in dataclasses.fields(train.TrainConfig)}
        settings = {k: v for k, v in saved["config"].items() if k in fields}
        latest = (folder.peek() or {}).get("config") or {}  # an extended run's target is in its checkpoints
        settings["epochs"] = max(settings["epochs"], latest.get("epochs", 0))
    for key in (*SGD_FLAGS, "seed"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    from ..nn.natural import NATURAL_MODELS

    args.dataset = args.dataset or ("images" if args.model in NATURAL_MODELS else "digits")
    if args.model in NATURAL_MODELS and (args.init is not None or args.classes is not None):
        raise ValueError(f"--init and --classes apply to classifiers; {args.model} learns without labels or classifier")
    transfer = {"init": args.init, "classes": args.classes}
    train_one = recipes.train_model
    if args.init is not None or args.classes is not None:
        from ..nn.transfer import train_transfer

        train_one = partial(train_transfer, **transfer)
    return train_one(
        args.model,
        dataset=args.dataset,
        data_dir=args.data_dir,
        download=args.download,
        config=train.TrainConfig(**settings),
        device=args.device,
        out=folder.path,
        resume=args.resume,
        progress=not args.quiet,
        limit=args.limit,
    )


def _hierarchy(args) -> dict:
    """Neocognitron or HMAX: one learning pass (:func:`v1sim.hierarchy.train`), no SGD flags."""
    from .. import hierarchy
    from .._core.runs import RunFolder
    from .._core.validate import check_positive_int
    from ..backend import retain_freed_memory
    from ..datasets import load_dataset

    given = [
        k
        for k in (*SGD_FLAGS, *TRANSFER_FLAGS)
        if getattr(args, k) is not None and not (k == "epochs" and args.epochs == 1)
    ]
    refused = [FLAG_NAMES[k] for k in given]
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
    if args.limit is not None:
        check_positive_int(args.limit, "--limit")
    # A hierarchy allocates a few large arrays once, not the same ones every step: glibc's own thresholds
    # (128 KiB) give freed arrays back at once. The v1sim command's 1 GB retention kept up to 1 GB of them
    # resident beside the live ones (Neocognitron, 20,000 MNIST digits: peak 1.50 GB, 1.28 GB without).
    retain_freed_memory(GLIBC_DEFAULT_THRESHOLD)
    folder = RunFolder(args.out or f"runs/{args.model}")
    if args.resume:  # the configuration the run was started with, whole
        config = _continue(args, folder).get("config") or {}
        overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}
    args.dataset = args.dataset or "digits"
    x, y = load_dataset(args.dataset, "train", data_dir=args.data_dir, download=args.download)
    test = load_dataset(args.dataset, "test", data_dir=args.data_dir, download=args.download)
    if args.limit is not None:
        x, y = x[: args.limit], y[: args.limit]
    result = hierarchy.train(
        args.model,
        (x, y),
        test,
        out_dir=folder.path,
        seed=0 if args.seed is None else args.seed,
        progress=not args.quiet,
        resume=args.resume,
        device=args.device,
        meta={"dataset": args.dataset, "limit": args.limit},
        **overrides,
    )
    return {"model": args.model, "dataset": args.dataset, **result}


def _classes(text) -> tuple:
    from ..errors import InputError
    from ..nn.transfer import parse_classes

    try:
        return parse_classes(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _layers(text) -> tuple:
    names = tuple(n.strip() for n in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected layer names separated by commas (e.g. c1,c3), got {text!r}")
    return names


def _layer_factor(text) -> tuple:
    import math

    layer, sep, factor = text.partition("=")
    try:
        value = float(factor)
    except ValueError:
        value = math.nan
    if not sep or not layer.strip() or not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"expected LAYER=FACTOR with a finite factor >= 0 (e.g. c1=0.1), got {text!r}")
    return layer.strip(), value


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the ``train`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser(
        "train",
        help="train a ConvNet or an S/C hierarchy (Neocognitron, HMAX) on handwritten digits",
        description=(
            "Train a model on handwritten digits and test it: a ConvNet of the model zoo with minibatch SGD\n"
            "(flags override the model's recipe), or an S/C hierarchy (neocognitron, hmax) in one learning pass."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="ConvNet (lenet5, resnet20..110, plain20..110) or S/C hierarchy (neocognitron, hmax)")
    p.add_argument(
        "--dataset",
        choices=["digits", "mnist", "fashion-mnist", "images"],
        help="embedded offline digits (default), MNIST, Fashion-MNIST, or natural images (unlabelled photographs "
        "for the natural-image models: scikit-image's bundled ones, or --data-dir)",
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder holding the MNIST / Fashion-MNIST IDX files (gz or raw), or, with --dataset images, "
        "any folder of PNG/JPEG photographs (searched recursively)",
    )
    p.add_argument("--download", action="store_true", help="download MNIST (checksum-verified) if absent")
    p.add_argument("--epochs", type=int, help="passes over the training set (S/C hierarchies: 1 only)")
    p.add_argument("--batch-size", type=int, help="images per SGD step")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--momentum", type=float, help="SGD momentum")
    p.add_argument("--weight-decay", type=float, help="L2 weight decay")
    p.add_argument("--lr-step", type=int, help="divide the learning rate every N epochs (0: never)")
    p.add_argument("--lr-gamma", type=float, help="factor applied every --lr-step epochs")
    p.add_argument("--warmup-steps", type=int, metavar="N", help="raise the lr linearly from lr/10 over N steps")
    p.add_argument("--log-every", type=int, metavar="N", help="log mean loss and error of every N steps (0: off)")
    p.add_argument("--shift", type=int, metavar="N", help="augment: move images by up to N px, zero-filled")
    p.add_argument("--flip", action="store_const", const=True, help="augment: mirror half the images (not digits)")
    p.add_argument(
        "--seed", type=int, help="seed of weights, batch order and dropout; hierarchies: presentation order (default 0)"
    )
    p.add_argument(
        "--classifier",
        metavar="NAME",  # checked against v1sim.hierarchy.CLASSIFIERS when it runs
        help="S/C hierarchies: the readout reported (default: the model's own; see models below)",
    )
    p.add_argument("--init", metavar="RUN_DIR", help="ConvNets: start from this run's weights, a new classifier")
    p.add_argument(
        "--classes", type=_classes, metavar="LIST", help="train and test on these labels only, e.g. 5-9 or 0,2,4"
    )
    p.add_argument("--freeze", type=_layers, metavar="LAYERS", help="layers left untrained, e.g. c1,c3 or stage1")
    p.add_argument(
        "--lr-mult",
        type=_layer_factor,
        nargs="+",
        metavar="LAYER=FACTOR",
        help="a layer's learning-rate multiplier, e.g. c1=0.1 (0: frozen)",
    )
    p.add_argument("--device", choices=["auto", "cpu", "parallel", "cuda"], default="auto")
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/MODEL)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--limit", type=int, help="use only the first N training images (quick runs)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print the final result as one JSON line")
    p.set_defaults(func=run)
    return p
