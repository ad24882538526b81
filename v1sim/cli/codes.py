"""``v1sim codes``: a trained ConvNet's "CNN codes" of a dataset, written to .npz, with nearest-neighbour retrieval."""

from __future__ import annotations

import argparse
import json
import sys
import time

__all__ = ["EPILOG", "add_parser", "run"]

EPILOG = """\
The code of an image is a layer's output, flattened: by default the input of the classifier (the
last Linear), the lecture's "CNN code" (AlexNet's 4096-D vector; LeNet-5's 84 F6 units). Retrieval:
for each image, the share of its K nearest other images (Euclidean distance) with its label, in
code space and in pixel space; chance is the share of same-label pairs.

The .npz (written atomically, no pickle) holds codes (N, D) float32, labels (N,) int64, the
dataset indices of the images (N,), and neighbours (N, K): each image's K nearest in code space.

examples:
  v1sim codes runs/lenet5                              test-set codes of F6, 5 neighbours
  v1sim codes runs/digits04 --layer c5 --neighbours 10 --json
  v1sim codes runs/lenet5 --dataset mnist --data-dir ~/mnist --split train --limit 5000
"""


def run(args) -> int:
    """``v1sim codes``: extract, write, report; returns the exit code (usage errors: one line, exit 2)."""
    import numpy as np

    from .._core.io import write_reproducible_npz
    from .._core.validate import check_positive_int
    from ..datasets import load_dataset
    from ..errors import CheckpointError, DownloadError, InputError
    from ..nn import codes
    from ..nn.recipes import prepare_images
    from ..nn.transfer import load_trained

    try:
        start = time.perf_counter()
        k = check_positive_int(args.neighbours, "--neighbours")
        model, saved = load_trained(args.run_dir, checkpoint=args.checkpoint, device=args.device)
        if "num_classes" in saved and saved["num_classes"] is None:  # natural-image runs: no classifier, no labels
            raise InputError(
                f"{args.run_dir} holds a {saved.get('model')} run, trained without labels: v1sim codes reads a "
                "classifier's codes of labelled images (see v1sim visualize for this run)",
                argument="RUN_DIR",
            )
        x, y = load_dataset(args.dataset, args.split, data_dir=args.data_dir, download=args.download)
        if args.limit is not None:
            x, y = x[: check_positive_int(args.limit, "--limit")], y[: args.limit]
        layer = args.layer or codes.code_layer(model)
        features = codes.extract_codes(
            model,
            prepare_images(x, tuple(saved["input_shape"])),
            layer,
            batch_size=BATCH,
            progress=not (args.quiet or args.json),
        )
        if k >= len(y):
            raise InputError(f"--neighbours must be below the {len(y)} images, got {k}", argument="--neighbours")
        neighbours = codes.nearest_neighbours(features, features, k, exclude_self=True)
        code_precision = float((y[neighbours] == y[:, None]).mean())
        pixel_precision = codes.retrieval_precision(x.reshape(len(x), -1), y, k)
        counts = [int((y == c).sum()) for c in set(y.tolist())]
        chance = sum(c * (c - 1) for c in counts) / (len(y) * (len(y) - 1))
        out = args.out or f"{args.run_dir}/codes_{layer}_{args.split}.npz"
        arrays = {"codes": features, "labels": y, "indices": np.arange(len(y)), "neighbours": neighbours}
        write_reproducible_npz(out, arrays)
    except (InputError, CheckpointError, FileNotFoundError, ValueError, TypeError) as exc:  # a run or data refused
        print(f"v1sim codes: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except (DownloadError, OSError) as exc:
        print(f"v1sim codes: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    result = {
        "run": str(args.run_dir),
        "model": saved["model"],
        "layer": layer,
        "checkpoint": args.checkpoint,
        "dataset": args.dataset,
        "split": args.split,
        "n_images": len(y),
        "dimensions": int(features.shape[1]),
        "neighbours": k,
        "code_precision": code_precision,
        "pixel_precision": pixel_precision,
        "chance": chance,
        "out": str(out),
        "seconds": time.perf_counter() - start,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{saved['model']} {layer} codes of {len(y)} {args.dataset} {args.split} images ({features.shape[1]}-D) "
            f"-> {out}\nshare of the {k} nearest neighbours with the query's label: codes {100 * code_precision:.1f}%, "
            f"pixels {100 * pixel_precision:.1f}% (chance {100 * chance:.1f}%)"
        )
    return 0


BATCH = 256  # images per forward pass (and per step of the progress bar)


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the ``codes`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser(
        "codes",
        help="a trained ConvNet's CNN codes of a dataset, and nearest-neighbour retrieval in them",
        description=(
            "Write the codes (a layer's outputs; default: the input of the classifier) of a trained run's\n"
            "network for a dataset to an .npz, and compare nearest-neighbour retrieval in code and pixel space."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder of 'v1sim train' (a zoo ConvNet)")
    p.add_argument(
        "--layer", metavar="NAME", help="layer to read, as 'v1sim summary' names it (default: before the classifier)"
    )
    p.add_argument("--checkpoint", choices=["best", "last"], default="best", help="which weights (default best)")
    p.add_argument("--dataset", choices=["digits", "mnist", "fashion-mnist"], default="digits", help="default digits")
    p.add_argument("--data-dir", metavar="DIR", help="folder holding the MNIST / Fashion-MNIST IDX files")
    p.add_argument("--download", action="store_true", help="download the dataset (checksum-verified) if absent")
    p.add_argument("--split", choices=["train", "test"], default="test", help="which images (default test)")
    p.add_argument("--limit", type=int, help="only the first N images")
    p.add_argument("--neighbours", type=int, default=5, metavar="K", help="neighbours per query (default 5)")
    p.add_argument("--out", metavar="FILE", help="the .npz to write (default RUN_DIR/codes_LAYER_SPLIT.npz)")
    p.add_argument("--device", choices=["auto", "cpu", "parallel", "cuda"], default="auto")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--json", action="store_true", help="print the result as one JSON line")
    p.set_defaults(func=run)
    return p
