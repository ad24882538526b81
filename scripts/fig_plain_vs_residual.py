"""Plain vs residual networks: the deeper plain net trains worse, the deeper ResNet does not.

The lecture's ResNet slides (He et al. 2016, Fig. 1 and Fig. 6, CIFAR-10):
a 56-layer "plain" network (the same convolution + batch-norm + ReLU layers,
no shortcuts) has *higher training error* than a 20-layer one, so depth hurts
optimisation, not just generalisation; with identity shortcuts (ResNet) the
deeper network trains as well as or better than the shallower one. Left:
plain nets; right: ResNets; colour: depth. Top row: classification error,
bottom row: cross-entropy loss (log scale); thin lines: training, bold lines
with dots: test; dotted: chance (90%, ln 10 nats).

Two sources, in this order:

1. Run folders of ``v1sim train`` (``plainN`` and ``resnetN``, N = 20, 32,
   44, 56 or 110, under ``$V1SIM_RUNS`` or else ``./runs``), e.g.
   ``v1sim train plain20 --dataset mnist --epochs 3`` and the same for
   ``resnet20``, ``plain56``, ``resnet56`` (MNIST zero-padded to 32x32).
   Their ``metrics.jsonl`` holds one record per epoch, so these curves are
   per epoch: training values averaged over the epoch (train mode), test
   values on the test set after it (eval mode).
2. Otherwise (the normal case inside ``v1sim figures``) the script trains
   plain and residual versions of He et al.'s CIFAR network
   (:func:`v1sim.nn.models.cifar_resnet`: 16/32/64 filters, batch norm,
   option-A shortcuts) at depths 8 and 32 itself, on the embedded digits
   zero-padded to 32x32, in about a minute on two cores: 60 SGD steps of 16
   digits (960 images, a fifth of an epoch; momentum 0.9, weight decay 1e-4;
   learning rate warmed up linearly from 0.01 to 0.1 over the first 20 steps,
   as He et al. warm up ResNet-110, then 0.1; fixed seeds and one batch order
   for all four networks). Faint:
   the loss and error of each minibatch, measured before its update; thin:
   their moving average. No image is seen twice, so this training curve is
   also a held-out estimate; there is no separate test curve, because after
   60 steps batch norm's running averages have not settled and eval-mode
   test numbers would measure that rather than learning.

   This is the first moments of training, not He et al.'s 64,000 iterations,
   and it shows the lecture's point in that window: the deep plain net
   hardly starts to learn, while the deep ResNet, after an early loss spike
   (the shortcut sums inflate the activations of a fresh deep ResNet),
   overtakes the shallow one. The figure's title is computed from the curves
   at hand (mean of the last quarter of the steps, 0.05-nat tolerance), not
   asserted. Sixty steps are a small window: the ResNet half of the pattern
   holds for seeds 0, 1 and 2 (mean training loss of the last 15 steps,
   ResNet-32 minus ResNet-8: -0.17, -0.40, -0.43 nats), the plain half for
   seeds 0 and 2 only (plain-32 minus plain-8: +0.23, -0.14, +0.65). The
   MNIST runs of ``fig_plain_vs_residual_mnist.py`` (three epochs of 20,000
   digits, 471 steps of 128, depths 20 and 56) show both halves clearly:
   plain-56 minus plain-20 +0.30 nats, ResNet-56 minus ResNet-20 0.00.

References: K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for
image recognition", CVPR 2016, section 4.2.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, MaxNLocator, NullFormatter, ScalarFormatter

from v1sim.datasets import load_digits
from v1sim.nn import SGD, CrossEntropyLoss
from v1sim.nn.models import MODELS, cifar_resnet
from v1sim.nn.recipes import prepare_images
from v1sim.nn.runlog import load_run
from v1sim.nn.train import warmup_factor
from v1sim.plotting import paper_style, save_figure

RUNS_ENV = "V1SIM_RUNS"  # folder holding the run folders (default ./runs)
KINDS = ("plain", "resnet")
LABELS = {"plain": "plain", "resnet": "ResNet"}

# The embedded-digit experiment: normal and quick (tests) settings.
SETTINGS = {
    False: {"depths": (8, 32), "iterations": 60, "batch_size": 16, "lr": 0.1, "warmup": 20},
    True: {"depths": (8, 14), "iterations": 8, "batch_size": 8, "lr": 0.1, "warmup": 3},
}
MOMENTUM, WEIGHT_DECAY, SEED = 0.9, 1e-4, 0

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
# curves from a short training run on the embedded digits
# --------------------------------------------------------------------------


def digits_32() -> tuple[np.ndarray, np.ndarray]:
    """The 5000 embedded training digits zero-padded to 32x32, as ``v1sim train`` feeds them to these nets."""
    x, y = load_digits("train")
    return prepare_images(x, (1, 32, 32)), y


def train_curve(kind, depth, data, *, iterations, batch_size, lr, warmup=0, seed=SEED) -> dict:
    """Train one plain or residual CIFAR network with SGD, recording every minibatch's loss and error.

    Each minibatch's loss and error are measured in the forward pass of its
    own step, before the update. With ``warmup`` > 0 the learning rate rises
    linearly from ``lr / 10`` to ``lr`` over the first ``warmup`` steps. The
    weights are seeded with ``seed``; the batch order (a permutation of the
    training set seeded with ``seed``) is the same for every network, and no
    image is seen twice.
    """
    x, y = data
    if iterations * batch_size > len(x):
        raise ValueError(f"{iterations} steps of {batch_size} need more than the {len(x)} training digits")
    model = cifar_resnet(depth, 10, x.shape[1], shortcuts=(kind == "resnet"), rng=seed)
    opt = SGD(model.parameters(), lr=lr, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    criterion = CrossEntropyLoss()
    order = np.random.default_rng(seed).permutation(len(x))
    losses, errors = np.empty(iterations), np.empty(iterations)
    start = time.perf_counter()
    model.train()
    for it in range(iterations):
        idx = order[it * batch_size : (it + 1) * batch_size]
        opt.lr = lr * warmup_factor(it, warmup)
        logits = model(x[idx])
        losses[it] = criterion(logits, y[idx])
        errors[it] = np.mean(logits.argmax(axis=1) != y[idx])
        model.zero_grad()
        model.backward(criterion.backward(), input_grad=False)
        opt.step()
    return {
        "kind": kind,
        "depth": depth,
        "unit": "iteration",
        "dataset": "digits",
        "batch_size": batch_size,
        "lr": lr,
        "warmup": warmup,
        "x_train": np.arange(1, iterations + 1, dtype=float),
        "train_loss": losses,
        "train_error": errors,
        "x_test": np.empty(0),
        "test_loss": np.empty(0),
        "test_error": np.empty(0),
        "seconds": time.perf_counter() - start,
        "source": "digits",
    }


def train_curves(quick=False) -> list[dict]:
    """The four embedded-digit runs (plain and ResNet at two depths) of :data:`SETTINGS`."""
    s = SETTINGS[bool(quick)]
    data = digits_32()
    return [
        train_curve(
            kind, depth, data, iterations=s["iterations"], batch_size=s["batch_size"], lr=s["lr"], warmup=s["warmup"]
        )
        for kind in KINDS
        for depth in s["depths"]
    ]


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
        if per_iteration and curves[0]["source"] == "runs":
            c = curves[0]
            datasets = ", ".join(sorted({c["dataset"] or "?" for c in curves}))
            n_train = {c["n_train"] for c in curves}
            images = (
                f"{n_train.pop():,} training images" if len(n_train) == 1 and None not in n_train else "training set"
            )
            warm = f" after a warm-up from {c['lr'] / 10:g} over {c['warmup']} steps" if c["warmup"] else ""
            what = (
                f"v1sim train runs in {source} ({datasets}: {images} padded to 32x32)\nbatch {c['batch_size']}, "
                f"lr {c['lr']:g}{warm}, momentum {c['momentum']:g}, weight decay {c['weight_decay']:g}\nfaint: mean of "
                f"every {c['log_every']} minibatches before their updates, thin: moving average; bold dots: the "
                "test set after each epoch (eval mode); dotted: chance"
            )
        elif per_iteration:
            c = curves[0]
            n, batch, lr, warmup = len(c["x_train"]), c["batch_size"], c["lr"], c["warmup"]
            rate = f"lr {lr / 10:g} to {lr:g} over {warmup} steps, then {lr:g}" if warmup else f"lr {lr:g}"
            what = (
                f"{n} SGD steps of {batch} embedded MNIST digits padded to 32x32 ({n * batch} images, each seen "
                f"once; {rate}, momentum {MOMENTUM:g})\nfaint: each minibatch before its update, thin: moving "
                "average; dotted: chance; no test curves this early (batch norm's running averages have not "
                "settled)"
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


def main(out_dir, quick=False) -> Path:
    folder = runs_dir()
    curves = read_runs(folder)
    source = str(folder)
    if not curves:
        curves, source = train_curves(quick), "embedded digits"
    return plot(curves, Path(out_dir) / "plain_vs_residual.png", source=source)


if __name__ == "__main__":
    start = time.perf_counter()
    args = [a for a in sys.argv[1:] if a != "--quick"]
    path = main(args[0] if args else "figures", quick="--quick" in sys.argv)
    print(f"{path} ({time.perf_counter() - start:.1f} s)")
