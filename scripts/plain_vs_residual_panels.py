"""Plain vs residual networks: reading v1sim train's run folders and drawing their curves (not a figure script).

The lecture's ResNet slides (He et al. 2016, Fig. 1 and Fig. 6, CIFAR-10):
a 56-layer "plain" network (the same convolution + batch-norm + ReLU layers,
no shortcuts) has *higher training error* than a 20-layer one, so depth hurts
optimisation, not just generalisation; with identity shortcuts (ResNet) the
deeper network trains as well as or better than the shallower one. Left:
plain nets; right: ResNets; colour: depth. Top row: classification error,
bottom row: cross-entropy loss (log scale); thin lines: training, bold lines
with dots: test; dotted: chance (90%, ln 10 nats).

This module serves ``fig_plain_vs_residual_mnist.py``, which draws the
committed logs of four ``v1sim train`` runs (``scripts/data/
plain_vs_residual_mnist``), and draws any folder of run folders
(``plainN`` and ``resnetN``, N = 20, 32, 44, 56 or 110)::

    v1sim train plain20 --dataset mnist --epochs 3 --out runs/plain20   # and resnet20, plain56, resnet56
    python scripts/plain_vs_residual_panels.py runs figures

Its name does not start with ``fig_``, so ``v1sim figures`` does not run it.
It replaces ``fig_plain_vs_residual.py``, which trained the four networks
for 60 steps of 16 embedded digits inside ``v1sim figures``: a window in
which the result did not hold across seeds (the plain half held for seeds 0
and 2 only: plain-32 minus plain-8 +0.23, -0.14, +0.65 nats), so the
three-epoch MNIST runs are the figure instead (issue 14).

References: K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for
image recognition", CVPR 2016, section 4.2.
"""

from __future__ import annotations

import json
import os
import re
import sys
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, MaxNLocator, NullFormatter, ScalarFormatter

from v1sim.nn.models import MODELS
from v1sim.nn.runlog import load_run
from v1sim.plotting import paper_style, save_figure

RUNS_ENV = "V1SIM_RUNS"  # folder holding the run folders (default ./runs)
KINDS = ("plain", "resnet")
LABELS = {"plain": "plain", "resnet": "ResNet"}

_RUN_NAME = re.compile(r"(plain|resnet)(\d+)")


# --------------------------------------------------------------------------
# curves from v1sim train's run folders
# --------------------------------------------------------------------------


def runs_dir() -> Path:
    """Where run folders are looked for: ``$V1SIM_RUNS`` or ``./runs``."""
    return Path(os.environ.get(RUNS_ENV) or "runs")


def read_runs(folder) -> list[dict]:
    """Curves of the ``plainN`` / ``resnetN`` run folders under ``folder`` (see :func:`v1sim.nn.runlog.load_run`).

    Only the CIFAR networks of the model zoo (``plain20..110``,
    ``resnet20..110``; not the ImageNet ``resnet18..152``) with a non-empty
    ``metrics.jsonl`` count. With a step log (``steps.jsonl``) the training
    curves are per step (each point the mean of ``log_every`` minibatches)
    and the test points sit at the ends of the epochs; otherwise both are
    per epoch.
    """
    folder = Path(folder)
    curves = []
    if not folder.is_dir():
        return curves
    for run in sorted(folder.iterdir()):
        match = _RUN_NAME.fullmatch(run.name)
        if not (run.is_dir() and match and (run / "metrics.jsonl").is_file()):
            continue
        if run.name not in MODELS or MODELS[run.name].input_shape[1:] != (32, 32):
            continue  # e.g. runs/resnet50: the ImageNet ResNet-50, not a CIFAR net
        try:
            logs = load_run(run)
            epochs, steps = logs["epochs"], logs["steps"]
            ep = {
                k: np.array([r[k] for r in epochs], dtype=float)
                for k in ("epoch", "train_loss", "train_accuracy", "test_loss", "test_error")
            }
            st = {
                k: np.array([r[k] for r in steps], dtype=float) for k in ("step", "epoch", "train_loss", "train_error")
            }
        except (ValueError, KeyError, TypeError) as exc:
            warnings.warn(f"skipping {run}: not a v1sim train run folder ({exc!r})", stacklevel=2)
            continue
        if not epochs:
            continue
        info = logs["run"]
        if not info and (run / "last.json").is_file():  # runs from before run.json: the checkpoint's metadata
            try:
                info = json.loads((run / "last.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                info = {}
        config = info.get("config") or {}
        curve = {
            "kind": match.group(1),
            "depth": int(match.group(2)),
            "dataset": info.get("dataset"),
            "n_train": info.get("n_train"),
            "batch_size": config.get("batch_size"),
            "lr": config.get("lr"),
            "momentum": config.get("momentum"),
            "weight_decay": config.get("weight_decay"),
            "warmup": config.get("warmup_steps", 0),
            "log_every": config.get("log_every"),
            "test_loss": ep["test_loss"],
            "test_error": ep["test_error"],
            "seconds": float(sum(r.get("seconds", 0.0) for r in epochs)),
        }
        if len(steps):  # per step; epoch e ends at step e * (steps per epoch)
            per_epoch = st["step"][-1] / st["epoch"][-1]
            curve.update(
                unit="iteration",
                x_train=st["step"],
                train_loss=st["train_loss"],
                train_error=st["train_error"],
                x_test=np.round(ep["epoch"] * per_epoch),
            )
        else:
            curve.update(
                unit="epoch",
                x_train=ep["epoch"],
                train_loss=ep["train_loss"],
                train_error=1.0 - ep["train_accuracy"],
                x_test=ep["epoch"],
            )
        curve["source"] = "runs"
        curves.append(curve)
    return curves


# --------------------------------------------------------------------------
# the figure
# --------------------------------------------------------------------------


def ema(values, span) -> np.ndarray:
    """Exponential moving average with bias correction (it starts at the first value, not at 0)."""
    values = np.asarray(values, dtype=float)
    alpha = 2.0 / (span + 1.0)
    out, acc, weight = np.empty_like(values), 0.0, 0.0
    for i, v in enumerate(values):
        acc = (1 - alpha) * acc + alpha * v
        weight = (1 - alpha) * weight + alpha
        out[i] = acc / weight
    return out


def final_train(curve, key="train_loss") -> float:
    """A curve's final training value: the last epoch, or the mean of the last quarter of the minibatches."""
    v = curve[key]
    return float(v[-1]) if curve["unit"] == "epoch" else float(np.mean(v[-max(1, len(v) // 4) :]))


def verdict(curves) -> str:
    """One line on what the curves show, judged on the final training losses (never assumed)."""
    by = {k: sorted((c for c in curves if c["kind"] == k), key=lambda c: c["depth"]) for k in KINDS}
    if not all(len(by[k]) >= 2 for k in KINDS):
        return "fewer than two depths of each kind: nothing to compare across depth"
    (ps, pd), (rs, rd) = (by["plain"][0], by["plain"][-1]), (by["resnet"][0], by["resnet"][-1])
    tol = 0.05  # nats: smaller differences are noise at this budget
    plain_worse = final_train(pd) > final_train(ps) + tol
    resnet_ok = final_train(rd) <= final_train(rs) + tol
    ds, dd = ps["depth"], pd["depth"]
    if plain_worse and resnet_ok:
        return (
            f"as in the lecture: plain-{dd} trains worse than plain-{ds}; "
            f"ResNet-{rd['depth']} trains as well as or better than ResNet-{rs['depth']}"
        )
    gap_plain, gap_res = final_train(pd) - final_train(ps), final_train(rd) - final_train(rs)
    if plain_worse and gap_res < gap_plain / 4:  # depth still costs the ResNet, but far less
        return (
            f"half as in the lecture: plain-{dd} trains far worse than plain-{ds} ({gap_plain:+.2f} nats); "
            f"shortcuts almost close the gap (ResNet-{rd['depth']} {gap_res:+.2f} nats from "
            f"ResNet-{rs['depth']}) but do not yet reverse it"
        )
    parts = [
        f"plain-{dd} {'trains worse than' if plain_worse else 'does NOT train worse than'} plain-{ds}",
        f"ResNet-{rd['depth']} {'does not degrade' if resnet_ok else 'ALSO trains worse'}",
    ]
    return "the lecture's effect is not (fully) visible at this budget: " + "; ".join(parts)


def _colors(depths):
    palette = ("tab:orange", "tab:red", "tab:purple", "tab:blue", "tab:green")
    return {d: palette[i % len(palette)] for i, d in enumerate(sorted(depths))}


def plot(curves, out_path, *, source) -> Path:
    """Draw the 2x2 figure (columns: plain, ResNet; rows: error, loss) and save it."""
    colors = _colors({c["depth"] for c in curves})
    per_iteration = any(c["unit"] == "iteration" for c in curves)
    if per_iteration:
        last, every = max(1, len(curves[0]["x_train"]) // 4), curves[0].get("log_every") or 1
        final = f"final values (training: mean of the last {last * every} steps)"
    else:
        final = "final values (last epoch)"
    with paper_style():
        fig, axes = plt.subplots(2, 2, figsize=(8.6, 6.6), sharex=True, sharey="row", layout="constrained")
        for col, kind in enumerate(KINDS):
            mine = sorted((c for c in curves if c["kind"] == kind), key=lambda c: c["depth"])
            for row, (key, scale) in enumerate((("error", 100.0), ("loss", 1.0))):
                ax = axes[row, col]
                for c in mine:
                    color, name = colors[c["depth"]], f"{LABELS[kind]}-{c['depth']}"
                    train = c[f"train_{key}"] * scale
                    if c["unit"] == "iteration":
                        ax.plot(c["x_train"], train, color=color, lw=0.5, alpha=0.3)
                        train = ema(train, span=max(3, len(train) // 6))
                    label = f"{name}: train {final_train(c):.2f} nats, {100 * final_train(c, 'train_error'):.1f}%"
                    if len(c["x_test"]):
                        label += f"; test {c['test_loss'][-1]:.2f} nats, {100 * c['test_error'][-1]:.1f}%"
                    ax.plot(
                        c["x_train"],
                        train,
                        color=color,
                        lw=1.0,
                        marker="." if c["unit"] == "epoch" else None,
                        label=label,
                    )
                    if len(c["x_test"]):
                        ax.plot(c["x_test"], c[f"test_{key}"] * scale, color=color, lw=2.6, marker="o", ms=4)
                if not mine:
                    ax.text(
                        0.5,
                        0.5,
                        f"no {kind} runs\n(v1sim train {kind}20 ...)",
                        transform=ax.transAxes,
                        ha="center",
                        va="center",
                        color="0.4",
                    )
                if key == "error":
                    ax.set_title(
                        f"{LABELS[kind]} networks" + (" (no shortcuts)" if kind == "plain" else " (identity shortcuts)")
                    )
                    ax.axhline(90.0, color="0.6", lw=0.6, ls=":")  # chance: 10 classes
                    ax.set_ylim(0, 100)
                    if col == 0:
                        ax.set_ylabel("error (%)")
                else:
                    ax.set_yscale("log")
                    ax.yaxis.set_major_locator(FixedLocator([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 3, 5, 10]))
                    ax.yaxis.set_major_formatter(ScalarFormatter())
                    ax.yaxis.set_minor_formatter(NullFormatter())
                    ax.axhline(np.log(10), color="0.6", lw=0.6, ls=":")  # chance: ln 10
                    if col == 0:
                        ax.set_ylabel("cross-entropy loss (nats, log scale)")
                    ax.set_xlabel("iteration (minibatch)" if per_iteration else "epoch")
                    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
                    if mine:
                        handles, _ = ax.get_legend_handles_labels()
                        handles.append(Line2D([], [], color="0.3", lw=1.0, label="thin: training"))
                        if any(len(c["x_test"]) for c in mine):
                            handles.append(Line2D([], [], color="0.3", lw=2.6, marker="o", ms=4, label="bold: test"))
                        ax.legend(
                            handles=handles,
                            loc="upper center",
                            bbox_to_anchor=(0.5, -0.2),
                            frameon=False,
                            title=final,
                            title_fontsize=8,
                        )
        if per_iteration:
            c = curves[0]
            datasets = ", ".join(sorted({c["dataset"] or "?" for c in curves}))
            n_train = {c["n_train"] for c in curves}
            images = (
                f"{n_train.pop():,} training images" if len(n_train) == 1 and None not in n_train else "training set"
            )
            warm = f" after a warm-up from {c['lr'] / 10:g} over {c['warmup']} steps" if c["warmup"] else ""
            what = (
                f"v1sim train runs in {source}, one per network and seed ({datasets}: {images} padded to 32x32)\n"
                f"batch {c['batch_size']}, "
                f"lr {c['lr']:g}{warm}, momentum {c['momentum']:g}, weight decay {c['weight_decay']:g}\nfaint: mean of "
                f"every {c['log_every']} minibatches before their updates, thin: moving average; bold dots: the "
                "test set after each epoch (eval mode); dotted: chance"
            )
        else:
            datasets = sorted({c["dataset"] or "?" for c in curves})
            what = (
                f"v1sim train runs in {source} ({', '.join(datasets)}, padded to 32x32); "
                "training values are epoch averages in train mode; dotted: chance"
            )
        title = "Plain vs residual networks (He et al. 2016, Fig. 1 and 6, on handwritten digits)"
        fig.suptitle(f"{title}\n{verdict(curves)}\n{what}", fontsize=9)
        return save_figure(fig, out_path)


def draw_runs(folder, out_dir, name="plain_vs_residual.png") -> Path:
    """Draw the ``plainN``/``resnetN`` run folders under ``folder`` into ``out_dir/name``.

    Raises
    ------
    FileNotFoundError
        If ``folder`` holds no such run folder.
    """
    curves = read_runs(folder)
    if not curves:
        raise FileNotFoundError(f"no plainN/resnetN run folders with metrics.jsonl under {folder}")
    return plot(curves, Path(out_dir) / name, source=str(folder))


if __name__ == "__main__":
    args = sys.argv[1:]
    print(draw_runs(args[0] if args else runs_dir(), args[1] if len(args) > 1 else "figures"))
