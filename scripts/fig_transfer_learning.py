"""Transfer learning: test accuracy against the number of labelled target examples.

The lecture's table as a measurement (CS231n; Yosinski et al. 2014): with
little target data, keep a trained network as a fixed feature extractor and
train only a new classifier; with more, fine-tune the pretrained layers at a
smaller learning rate; with much, training from scratch catches up.

Left panel, on the embedded digits: LeNet-5 is trained on digits 0-4 (the
source task: 2,500 images, ``SOURCE_STEPS`` SGD steps, the lenet5 recipe's
lr 0.05, momentum 0.9, weight decay 5e-4) and then on digits 5-9 (the
target task, relabelled 0-4) from n labelled images, class-balanced, n = 10
... all 2,500, in four ways, each for ``TARGET_STEPS`` steps of batch
min(64, n):

- **scratch**: a fresh LeNet-5 (lr 0.05);
- **frozen**: the source network with every layer frozen and a new
  classifier (``--freeze c1,c3,c5,f6``). Its frozen layers do not change,
  so the classifier is trained on the source network's F6 codes, computed
  once (the same numbers, without the backward passes through frozen layers);
- **fine-tune 1/10, 1/100**: the source network with a new classifier at lr
  0.05 and every other layer at 0.1 or 0.01 of it (``--lr-mult c1=0.1 ...``).

A fifth curve freezes only up to S4 and trains a linear classifier on S4's
400 values (Yosinski et al.: lower layers are more general, higher ones
more specific to the source task). Each point is the mean test accuracy on
the 500 test images of digits 5-9 over ``SEEDS`` seeds (the draw of the n
images, the classifier's initialisation and the batch order); the band
spans their minimum to maximum.

The measurement (110 trainings, a few minutes on two cores: over this
figure's time budget) is kept in ``scripts/data/transfer_learning.json``,
written by ``python scripts/fig_transfer_learning.py --measure``; the full
figure is drawn from it, and quick mode measures a small version live. The
same comparison from the shell::

    v1sim train lenet5 --classes 0-4 --out runs/digits04
    v1sim train lenet5 --init runs/digits04 --classes 5-9 --limit 100 --freeze c1,c3,c5,f6 --out runs/frozen

Right panel, MNIST -> Fashion-MNIST (a farther task): LeNet-5 trained on
all ten embedded digits, then the same four ways on Fashion-MNIST's training
images (n = 10 ... 5,000; tested on its first 1,000 test images). It is
drawn when ``$V1SIM_FASHION_MNIST_DIR`` names a folder holding the
Fashion-MNIST IDX files (read by ``v1sim.datasets.load_dataset("fashion-mnist",
data_dir=...)``); otherwise the panel says so.

Quick mode: two sizes, two seeds and a few steps (a smoke test, not a result).
The title ranks the methods at the smallest and the largest n, from the
measurement.

What it shows (the recorded measurement, mean of 5 seeds): the lecture's
rule needs a source task whose top layers still fit the target. Digits 5-9
are not digits 0-4, and F6 of a network that never saw them is specific to
its source: a classifier on frozen F6 codes reaches 54% at n = 10 and levels
off at 85%, below training from scratch (71% at n = 10, 95% with all 2,500).
Frozen up to S4 (general, lower-level features) is best with little data
(75% at n = 10, 83% at n = 30) and level with scratch from n = 300 on;
fine-tuning at 1/10 of the rate is level with scratch from n = 30 on, and
1/100 is too small a rate for 100 steps to move the pretrained layers.

References: A. Karpathy, CS231n "Transfer learning" notes; J. Yosinski, J.
Clune, Y. Bengio, H. Lipson, "How transferable are features in deep neural
networks?", NIPS 2014; J. Donahue et al., "DeCAF", ICML 2014.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from v1sim._core.io import write_json
from v1sim.datasets import load_dataset, load_digits
from v1sim.nn import Linear, models
from v1sim.nn.codes import extract_codes
from v1sim.nn.optim import set_layer_rates
from v1sim.nn.recipes import prepare_images, sgd_steps, train_steps
from v1sim.nn.transfer import classifier_name, replace_classifier, select_classes
from v1sim.plotting import paper_style, save_figure

RECORDED = Path(__file__).resolve().parent / "data" / "transfer_learning.json"
SOURCE_STEPS = 200
TARGET_STEPS = 100
SEEDS = 5
SIZES = (10, 30, 100, 300, 1000, None)  # None: every target training image
LR = 0.05  # the lenet5 recipe's
FASHION_ENV = "V1SIM_FASHION_MNIST_DIR"
METHODS = {  # label -> learning-rate multiplier of the pretrained layers (None: from scratch)
    "scratch": None,
    "frozen feature extractor": 0.0,
    "frozen up to S4, classifier on S4": 0.0,
    "fine-tune at 1/10 lr": 0.1,
    "fine-tune at 1/100 lr": 0.01,
}
SHORT = dict(zip(METHODS, ("scratch", "frozen (F6)", "frozen (S4)", "fine-tune 1/10", "fine-tune 1/100"), strict=True))
CODE_LAYER = {"frozen feature extractor": "tanh6", "frozen up to S4, classifier on S4": "s4"}
COLOURS = dict(zip(METHODS, ("0.35", "C0", "C2", "C3", "C1"), strict=True))


def _sgd(model, x, y, steps, seed):
    """``steps`` SGD steps of batch min(64, N) at the lenet5 recipe's constant rate, no decay."""
    return sgd_steps(
        model, x, y, steps=steps, seed=seed, lr=LR, momentum=0.9, weight_decay=5e-4, batch_size=64, lr_gamma=None
    )


def _accuracy(model, x, y) -> float:
    return float(np.mean(np.asarray(model(x)).argmax(axis=1) == y))


def _balanced(labels, n, k, rng):
    """Indices of n images, n // k of each class (all images when n is None)."""
    if n is None:
        return np.arange(len(labels))
    return np.concatenate([rng.choice(np.flatnonzero(labels == c), n // k, replace=False) for c in range(k)])


def measure(source, target, test, sizes, *, seeds, steps, source_steps):
    """Test accuracies ``{method: (len(sizes), seeds) list}`` of the ways to learn ``target`` after ``source``."""
    (xs, ys), (x, y), (xt, yt) = source, target, test
    k = int(y.max()) + 1
    net = train_steps("lenet5", xs, ys, steps=source_steps, seed=0)
    x, xt = prepare_images(x, (1, 32, 32)), prepare_images(xt, (1, 32, 32))
    head = classifier_name(net)  # every other weighted layer is "pretrained": c1, c3, c5, f6
    pretrained = sorted({key.rpartition(".")[0] for key, _ in net.named_parameters()} - {head})
    # what a frozen network feeds its classifier, computed once: frozen layers do not change
    codes = {m: (extract_codes(net, x, layer), extract_codes(net, xt, layer)) for m, layer in CODE_LAYER.items()}
    out = {m: np.full((len(sizes), seeds), np.nan) for m in METHODS}
    for i, n in enumerate(sizes):
        for seed in range(seeds):
            idx = _balanced(y, n, k, np.random.default_rng([seed, i]))
            for method, mult in METHODS.items():
                if method in codes:
                    c, ct = codes[method]
                    model = _sgd(Linear(c.shape[1], k, init="xavier", rng=seed), c[idx], y[idx], steps, seed)
                    out[method][i, seed] = _accuracy(model, ct, yt)
                    continue
                if mult is None:
                    model = models.build("lenet5", num_classes=k, rng=seed + 1)
                else:
                    model = models.build("lenet5", rng=0)
                    model.load_state_dict(net.state_dict())
                    replace_classifier(model, k, rng=seed)
                    set_layer_rates(model, lr_mult=[(name, mult) for name in pretrained])
                out[method][i, seed] = _accuracy(_sgd(model, x[idx], y[idx], steps, seed), xt, yt)
    return {m: a.tolist() for m, a in out.items()}


def _digits_task():
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    return select_classes(x, y, range(5)), select_classes(x, y, range(5, 10)), select_classes(xt, yt, range(5, 10))


def record(path=RECORDED) -> Path:
    """Measure the digits panel in full and write it to ``path`` (``fig_transfer_learning.py --measure``)."""
    start = time.perf_counter()
    source, target, test = _digits_task()
    accuracies = measure(source, target, test, SIZES, seeds=SEEDS, steps=TARGET_STEPS, source_steps=SOURCE_STEPS)
    log = {
        "command": "python scripts/fig_transfer_learning.py --measure",
        "sizes": [n or len(target[1]) for n in SIZES],
        "seeds": SEEDS,
        "steps": TARGET_STEPS,
        "source_steps": SOURCE_STEPS,
        "test_images": len(test[1]),
        "accuracies": accuracies,
        "seconds": round(time.perf_counter() - start, 1),
    }
    return write_json(path, log)


def _fashion(quick):
    """The MNIST -> Fashion-MNIST measurement, or the reason it is not drawn."""
    folder = os.environ.get(FASHION_ENV)
    if not folder:
        return f"not drawn: set ${FASHION_ENV} to a folder\nholding the Fashion-MNIST IDX files"
    try:
        x, y = load_dataset("fashion-mnist", "train", data_dir=folder)
        xt, yt = load_dataset("fashion-mnist", "test", data_dir=folder)
    except (ValueError, OSError) as exc:  # no loader or no files: say why instead of failing the figure
        return f"not drawn: Fashion-MNIST could not be read\nfrom ${FASHION_ENV}:\n{str(exc)[:120]}"
    sizes = (10, 100) if quick else (10, 30, 100, 300, 1000, 5000)
    seeds, steps = (2, 8) if quick else (SEEDS, TARGET_STEPS)
    source_steps = 30 if quick else SOURCE_STEPS
    test = (xt[:1000], yt[:1000])
    acc = measure(load_digits("train"), (x, y), test, sizes, seeds=seeds, steps=steps, source_steps=source_steps)
    return list(sizes), acc


def _panel(ax, sizes, accuracies, title, chance):
    for method, acc in accuracies.items():
        acc = np.asarray(acc)
        ax.plot(sizes, acc.mean(axis=1), "o-", color=COLOURS[method], label=method, lw=1.5, ms=3.5)
        ax.fill_between(sizes, acc.min(axis=1), acc.max(axis=1), color=COLOURS[method], alpha=0.18, lw=0)
    ax.axhline(chance, color="0.6", ls=":", lw=1)
    ax.text(sizes[0], chance + 0.015, "chance", fontsize=7, color="0.45")
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.minorticks_off()
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("labelled target examples (n)")
    ax.set_ylabel("test accuracy")
    ax.set_title(title, fontsize=9)


def _ranking(accuracies, i) -> str:
    """The methods' mean accuracies at size index ``i``, best first."""
    means = sorted(((float(np.mean(a[i])), m) for m, a in accuracies.items()), reverse=True)
    return ", ".join(f"{SHORT[m]} {100 * v:.0f}%" for v, m in means)


def main(out_dir, quick=False) -> Path:
    if quick:  # a smoke test of the measurement, not a result
        source, target, test = _digits_task()
        sizes = [10, 100]
        log = {"sizes": sizes, "seeds": 2, "steps": 8, "source_steps": 30}
        log["accuracies"] = measure(source, target, test, sizes, seeds=2, steps=8, source_steps=30)
    else:
        if not RECORDED.is_file():
            raise FileNotFoundError(f"{RECORDED} is missing: run 'python scripts/fig_transfer_learning.py --measure'")
        log = json.loads(RECORDED.read_text())
    sizes = log["sizes"]
    digits = {m: log["accuracies"][m] for m in METHODS if m in log["accuracies"]}  # the legend's order
    fashion = _fashion(quick)
    with paper_style():
        fig, axes = plt.subplots(1, 2, figsize=(10.0, 4.2), constrained_layout=True)
        _panel(axes[0], sizes, digits, "MNIST digits 0-4 -> 5-9 (embedded digits)", 0.2)
        if isinstance(fashion, str):
            axes[1].text(0.5, 0.5, fashion, ha="center", va="center", fontsize=8, transform=axes[1].transAxes)
            axes[1].set_axis_off()
            axes[1].set_title("MNIST -> Fashion-MNIST", fontsize=9)
        else:
            _panel(axes[1], *fashion, "MNIST -> Fashion-MNIST", 0.1)
        axes[0].legend(fontsize=7, loc="lower right", bbox_to_anchor=(1.0, 0.24), frameon=False)
        fig.suptitle(
            f"Transfer learning with LeNet-5, {log['steps']} SGD steps per run, mean of {log['seeds']} seeds "
            f"(band: min-max), digits 0-4 -> 5-9\nn = {sizes[0]}: {_ranking(digits, 0)}\n"
            f"n = {sizes[-1]}: {_ranking(digits, -1)}",
            fontsize=9,
        )
        return save_figure(fig, Path(out_dir) / "transfer_learning.png")


if __name__ == "__main__":
    start = time.perf_counter()
    if "--measure" in sys.argv:
        print(f"{record()} ({time.perf_counter() - start:.1f} s)")
        sys.exit(0)
    args = [a for a in sys.argv[1:] if a != "--quick"]
    path = main(args[0] if args else "figures", quick="--quick" in sys.argv)
    print(f"{path} ({time.perf_counter() - start:.1f} s)")
