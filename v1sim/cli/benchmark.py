"""``v1sim benchmark``: score models against macaque V1 (Marques, Schrimpf & DiCarlo 2021's V1 benchmark).

The science lives in :mod:`v1sim.biology.benchmark`; this module parses the flags, prints the table or JSON,
and writes each model's ``benchmark.json`` and ``benchmark.png`` (per property, the model's histogram over the
monkeys', as Marques et al.'s Fig. 2).
"""

from __future__ import annotations

import argparse
import json
import re
import sys

__all__ = ["add_parser", "benchmark_figure", "run"]

EPILOG = """\
MODEL_OR_RUN:
  lenet5, alexnet, resnet20, ...   a ConvNet of the zoo (v1sim summary --list), untrained (--seed)
  RUN_FOLDER                       a 'v1sim train' run: a ConvNet, a Neocognitron or an HMAX
  neocognitron, hmax               the untrained hierarchies' fixed first stages (US1 / S1)
  macaque                          a VOneNet-style Gabor population sampled from macaque data (1000 units)
  v1sim-cells                      v1sim's model simple and complex cells (12 orientations x 4 SFs x 3)
  pixels                           the floor: the central pixels as ON/OFF units

examples:
  v1sim benchmark macaque pixels                       the data's own sampling vs the floor
  v1sim benchmark lenet5 --layer c3 --json
  v1sim benchmark runs/lenet5 --out /tmp/v1
  v1sim benchmark alexnet-torchvision --weights alexnet.npz    ImageNet weights exported from torchvision
  v1sim benchmark alexnet resnet20 --scheduler tcp://10.0.0.5:8786     on a Dask cluster

The score is the mean over 13 properties (orientation, spatial frequency, size tuning, F1/F0) of the
bootstrapped KS similarity of the model's distribution to the macaque's, divided by the data's ceiling:
1 is as close as the monkeys' own sampling allows. Each model writes OUT/LABEL/benchmark.json and
benchmark.png; --json prints a list of {model, score, ceiling, properties} objects.
"""


def _label(spec) -> str:
    return re.sub(r"[^\w.\-]+", "_", spec.label)  # one folder per model, whatever the run folder's path


def run(args) -> int:
    """``v1sim benchmark``: score every model, print the results, write the files; returns the exit code."""
    from ..biology.benchmark import ModelSpec, score_many
    from ..plotting import check_out_dir

    out = check_out_dir(args.out, "--out")
    options = dict(layer=args.layer, fov=args.fov, units=args.units, seed=args.seed, weights=args.weights)
    specs = [ModelSpec(m, **options) for m in args.models]
    results = score_many(specs, scheduler=args.scheduler, progress=True)
    records = []
    for spec, result in zip(specs, results):
        folder = out / _label(spec)
        record = {"model": spec.model, **result.to_dict()}
        meta = {"layer": spec.layer, "fov_deg": spec.fov, "seed": spec.seed, "seconds": round(result.seconds, 3)}
        meta |= {"n_units": result.n_units, "n_responsive": result.n_responsive}
        _write(folder, record | meta, result, spec.label)
        records.append(record)
        if not args.json:
            _print_table(spec.label, result, folder)
    if args.json:
        print(json.dumps(records))
    return 0


def _write(folder, record: dict, result, title: str) -> None:
    from .._core.io import write_json

    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "benchmark.json", record)
    benchmark_figure(result, folder / "benchmark.png", title=title)


def _print_table(label: str, result, folder) -> None:
    def num(x):
        return "-" if x != x else f"{x:.3g}"  # NaN: a property no unit could be measured on

    print(f"{label}: {result.n_responsive} of {result.n_units} units responsive ({result.seconds:.1f} s)")
    print(f"  {'property':<40}{'model median':>14}{'monkey median':>15}{'score':>8}{'units':>7}")
    for name, p in result.properties.items():
        print(f"  {name:<40}{num(p.model_median):>14}{num(p.monkey_median):>15}{num(p.score):>8}{p.n_units:>7}")
    print(f"  {'V1 score (mean of ceiled scores)':<40}{'':>29}{result.score:>8.3f}   ceiling {result.ceiling:.3f}")
    unmeasured = sum(p.n_units == 0 for p in result.properties.values())
    if unmeasured:  # they count 0 in the score
        print(f"  {f'({unmeasured} unmeasured, counted 0; measured only)':<40}{'':>29}{result.score_measured:>8.3f}")
    print(f"  wrote {folder / 'benchmark.json'} and benchmark.png", file=sys.stderr)


def benchmark_figure(result, path, *, title=None):
    """Per property, the model's histogram (fraction of units) over the monkeys' on the data's bins.

    Parameters
    ----------
    result : v1sim.biology.V1Score
    path : str or Path
        The figure file (written atomically).
    title : str, optional

    Returns
    -------
    Path

    References
    ----------
    .. [1] Marques T, Schrimpf M, DiCarlo JJ (2021). bioRxiv 10.1101/2021.03.01.433495, Fig. 2.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from ..biology import v1_property
    from ..biology.properties import bin_index
    from ..plotting import paper_style, save_figure

    names = list(result.properties)
    cols = min(len(names), 5)
    rows = -(-len(names) // cols)
    with paper_style():
        fig, axes = plt.subplots(rows, cols, figsize=(2.3 * cols, 1.9 * rows + 0.4), squeeze=False)
        for ax, name in zip(axes.ravel(), names):
            data, p = v1_property(name), result.properties[name]
            edges = np.arange(data.counts.size + 1)  # bins drawn evenly, labelled by their edges
            ax.stairs(data.counts / data.n, edges, fill=True, color="0.8", label="macaque")
            v = result.values[name]
            v = data.wrap(v[~np.isnan(v)])
            if v.size:
                counts = np.bincount(bin_index(v, data.bins), minlength=data.counts.size)
                ax.stairs(counts / v.size, edges, color="tab:red", linewidth=1.2, label="model")
            ticks = np.unique(np.linspace(0, data.counts.size, 3).round().astype(int))
            ax.set_xticks(ticks, [f"{data.bins[t]:.3g}" for t in ticks])
            score = "no unit" if p.n_units == 0 else f"{p.score:.2f} (n={p.n_units})"
            ax.set_title(f"{name.replace('_', ' ')}\n{score}", fontsize=7)
            ax.set_xlabel(data.unit, fontsize=7)
        for ax in axes.ravel()[len(names) :]:
            ax.axis("off")
        axes[0, 0].set_ylabel("fraction of cells")
        axes[0, 0].legend(frameon=False, fontsize=7)
        head = f"{title}: " if title else ""
        fig.suptitle(f"{head}V1 score {result.score:.3f} (ceiling {result.ceiling:.3f})", fontsize=9)
        fig.tight_layout()
        return save_figure(fig, path)


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the ``benchmark`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser(
        "benchmark",
        help="score models against macaque V1 (Marques et al. 2021's 13 properties)",
        description=(
            "Measure 13 single-neuron properties of a model's units with gratings, as the macaque papers did,\n"
            "and score their distributions against macaque V1 (Brain-Score's V1 benchmarks, offline)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("models", nargs="+", metavar="MODEL_OR_RUN", help="models to score (listed below)")
    p.add_argument("--layer", metavar="NAME", help="layer or stage read (default: the first conv / US1 / S1)")
    p.add_argument("--fov", type=float, default=8.0, metavar="DEG", help="field of view, degrees (default 8)")
    p.add_argument(
        "--units", type=int, metavar="N", help="keep N units, drawn with --seed (default: all; macaque 1000)"
    )
    p.add_argument(
        "--out", metavar="DIR", default="v1-benchmark", help="folder for LABEL/benchmark.{json,png} (./v1-benchmark)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON list of {model, score, ceiling, properties}")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, unit draws and the bootstrap (default 0)")
    p.add_argument("--weights", metavar="NPZ", help="torchvision weights (.npz state dict) for the zoo MODEL")
    p.add_argument("--scheduler", metavar="ADDRESS", help="score the models on this Dask scheduler ([distributed])")
    p.set_defaults(
        func=run,
        flags={
            "model": "MODEL_OR_RUN",
            "layer": "--layer",
            "stage": "--layer",
            "fov": "--fov",
            "units": "--units",
            "n_units": "--units",
            "seed": "--seed",
            "out_dir": "--out",
            "scheduler": "--scheduler",
            "weights": "--weights",
        },
    )
    return p
