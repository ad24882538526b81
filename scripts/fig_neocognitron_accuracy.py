"""Neocognitron: test error against the number of labelled training digits, beside LeNet-5, and its confusion matrix.

Left: test error on embedded MNIST test digits as the number N of labelled
training digits grows (log axes). The Neocognitron's S2 and S3 are learned
once, without labels, from the first 500 training digits; for each N only the
labelled top is trained: S4 prototypes classified by interpolating vectors
(IntVec, Fukushima 2007) or by the nearest prototype, and, for comparison, a
ridge-regression readout of UC3. Beside it: LeNet-5 (LeCun et al. 1998;
``v1sim.nn``, backpropagation from random weights on the same N digits,
zero-padded to 32x32, with its ``v1sim train`` recipe: SGD, batch 64,
learning rate 0.05, momentum 0.9, weight decay 5e-4, the rate divided by 5
for the last quarter of the steps; a short schedule of 8 epochs, at least
100 and at most 250 steps, to keep the figure fast, so its large-N errors are
above what longer training gives); HMAX (Serre et al. 2007: Gabor S1, max
C1, 400 S2 prototypes imprinted from the same 500 digits, global-max C2,
ridge readout) and the nearest training digit in pixel space (cosine
similarity). Right: the confusion matrix of the IntVec Neocognitron at the
largest N (rows: true class; cells: counts; the diagonal holds the correct
answers).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from v1sim.datasets import load_digits
from v1sim.hierarchy import HMAX, HMAXConfig, Neocognitron, NeocognitronConfig
from v1sim.nn import models
from v1sim.nn.recipes import predict_labels, train_steps
from v1sim.plotting import MODEL_STYLES, paper_style, save_figure

SIZES = (20, 50, 100, 200, 500, 1000, 2000)  # labelled training digits
N_UNSUPERVISED = 500  # unlabelled digits for S2/S3 (and HMAX's imprinting)
N_TEST = 500


def train_lenet5(x, y, *, steps, seed=0):
    """LeNet-5 after ``steps`` SGD steps of the ``v1sim train lenet5`` recipe (:func:`v1sim.nn.recipes.train_steps`)."""
    return train_steps("lenet5", x, y, steps=steps, seed=seed)


def lenet_predict(model, images):
    """Class labels (N,) of LeNet-5 for digits (N, 1, 28, 28)."""
    return predict_labels(model, images, models.default_input_shape("lenet5"))


def lenet_steps(n, quick=False):
    """SGD steps for N training digits: 8 epochs of 64, at least 100 and at most 250 (quick: 10)."""
    return 10 if quick else int(np.clip(round(8 * n / 64), 100, 250))


def lenet_errors(sizes, train, test, quick=False):
    """LeNet-5 test errors for each training set size (the first N digits of ``train``)."""
    (x, y), (xt, yt) = train, test
    return [
        float(np.mean(lenet_predict(train_lenet5(x[:n], y[:n], steps=lenet_steps(n, quick)), xt) != yt)) for n in sizes
    ]


def _pixel_nn_error(x, y, xt, yt):
    a = x.reshape(len(x), -1)
    b = xt.reshape(len(xt), -1)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float(np.mean(y[(b @ a.T).argmax(axis=1)] != yt))


def main(out_dir, quick=False) -> Path:
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    sizes = (20, 50, 100) if quick else SIZES
    n_unsup, n_test = (60, 100) if quick else (N_UNSUPERVISED, N_TEST)
    xt, yt = xt[:n_test], yt[:n_test]
    n_max = max(sizes)

    net = Neocognitron(NeocognitronConfig(n_unsupervised=n_unsup))
    for stage in ("S2", "S3"):
        net.learn_stage(stage, x[:n_unsup], y[:n_unsup], seed=0)
    f_train, f_test = net.features(x[:n_max], "UC3"), net.features(xt, "UC3")
    hmax = HMAX(HMAXConfig(n_imprint=n_unsup))
    hmax.learn_stage("S2", x[:n_unsup], y[:n_unsup], seed=0)
    h_train, h_test = hmax.features(x[:n_max], "UC2"), hmax.features(xt, "UC2")

    curves = {k: [] for k in ("intvec", "nearest", "ridge", "hmax", "pixels")}
    for n in sizes:
        net.fit_top(f_train[:n], y[:n], rng=0)
        for kind in ("intvec", "nearest", "ridge"):
            curves[kind].append(float(np.mean(net.predict_features(f_test, classifier=kind) != yt)))
        hmax.fit_top(h_train[:n], y[:n])
        curves["hmax"].append(float(np.mean(hmax.predict_features(h_test) != yt)))
        curves["pixels"].append(_pixel_nn_error(x[:n], y[:n], xt, yt))
    pred = net.predict_features(f_test, classifier="intvec")  # the model of the largest N
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (yt, pred), 1)
    curves["lenet"] = lenet_errors(sizes, (x, y), (xt, yt), quick=quick)

    styles = MODEL_STYLES
    with paper_style():
        fig, (ax, axc) = plt.subplots(
            1, 2, figsize=(11.2, 4.6), gridspec_kw={"width_ratios": [1.25, 1]}, constrained_layout=True
        )
        for kind, errs in curves.items():
            label, colour, marker, ls = styles[kind]
            ax.plot(sizes, 100 * np.asarray(errs), marker=marker, ls=ls, color=colour, ms=4, lw=1.2, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(sizes)
        ax.set_xticklabels([str(s) for s in sizes])
        lo = 100 * max(min(min(v) for v in curves.values()), 1e-3) * 0.8
        hi = 100 * max(max(v) for v in curves.values()) * 1.25
        ticks = [t for t in (0.5, 1, 2, 5, 10, 20, 50, 100) if lo <= t <= hi]
        ax.set_ylim(lo, hi)
        ax.set_yticks(ticks)
        ax.set_yticklabels([f"{t:g}%" for t in ticks])
        ax.minorticks_off()
        ax.grid(True, which="major", color="0.9", lw=0.6)
        ax.set_xlabel("labelled training digits N")
        ax.set_ylabel(f"test error ({n_test} test digits)")
        ax.set_title(f"Error against training set size (S2, S3, HMAX S2: {n_unsup} unlabelled digits)")
        ax.legend(frameon=False, loc="lower left")
        for kind in ("intvec", "lenet", "pixels"):
            ax.annotate(
                f"{100 * curves[kind][-1]:.1f}%",
                (sizes[-1], 100 * curves[kind][-1]),
                xytext=(5, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                color=styles[kind][1],
            )
        im = axc.imshow(confusion, cmap="Blues", vmin=0)
        for (i, j), v in np.ndenumerate(confusion):
            if v:
                axc.text(
                    j,
                    i,
                    str(v),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if v > 0.6 * confusion.max() else "black",
                )
        axc.set_xticks(range(10))
        axc.set_yticks(range(10))
        axc.set_xlabel("predicted class")
        axc.set_ylabel("true class")
        err = 100 * curves["intvec"][-1]
        axc.set_title(
            f"Confusion matrix, IntVec, N = {sizes[-1]} (error {err:.1f}%, {len(net.classifier.labels)} S4 prototypes)"
        )
        fig.colorbar(im, ax=axc, shrink=0.85, label="test digits")
        return save_figure(fig, Path(out_dir) / "neocognitron_accuracy.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures", quick="--quick" in sys.argv))
