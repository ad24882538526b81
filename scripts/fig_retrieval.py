"""Nearest neighbours in CNN-code space against pixel space: test digits and their five closest.

The lecture's "CNN code" slide (Krizhevsky et al. 2012, Fig. 4): images
whose last-hidden-layer vectors are close are alike to the network, even
where their pixels differ. Here LeNet-5 is trained on the embedded digits
(5,000 images, ``STEPS`` SGD steps of the lenet5 recipe), its code is F6's
84 tanh units (the input of the classifier, ``v1sim.nn.codes.code_layer``),
and for each of eight test digits (drawn with a fixed seed from eight
different classes) the figure shows the five nearest other test digits by
Euclidean distance in code space (left) and in pixel space (784 values,
right); a red frame marks a neighbour of another class. The title gives the
retrieval precision over all 1,000 test digits (the share of each digit's
five nearest neighbours with its label, ``v1sim.nn.codes.retrieval_precision``)
in both spaces, as ``v1sim codes RUN_DIR --neighbours 5`` reports it for a
trained run. Quick mode trains for a few steps only.

References: A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet
classification with deep convolutional neural networks", NIPS 2012;
J. Donahue et al., "DeCAF", ICML 2014.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from v1sim.datasets import load_digits
from v1sim.nn.codes import code_layer, extract_codes, nearest_neighbours, retrieval_precision
from v1sim.nn.recipes import prepare_images, train_steps
from v1sim.plotting import paper_style, save_figure

STEPS = 150
K = 5
QUERIES = 8


def main(out_dir, quick=False) -> Path:
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    net = train_steps("lenet5", x, y, steps=20 if quick else STEPS, seed=0)
    layer = code_layer(net)
    codes = extract_codes(net, prepare_images(xt, (1, 32, 32)), layer)
    pixels = xt.reshape(len(xt), -1)
    spaces = {
        f"code space ({layer}, {codes.shape[1]}-D)": codes,
        f"pixel space ({pixels.shape[1]}-D)": pixels,
    }
    precision = {name: retrieval_precision(points, yt, K) for name, points in spaces.items()}
    rng = np.random.default_rng(2)
    classes = rng.choice(10, QUERIES, replace=False)
    queries = np.array([rng.choice(np.flatnonzero(yt == c)) for c in classes])
    neighbours = {
        name: nearest_neighbours(points, points, K, exclude_self=True)[queries] for name, points in spaces.items()
    }
    with paper_style():
        fig = plt.figure(figsize=(9.0, 0.95 * QUERIES + 0.9))
        grid = fig.add_gridspec(QUERIES, 2 * K + 2, width_ratios=[1] + [1] * K + [0.35] + [1] * K, wspace=0.08)
        for row, q in enumerate(queries):
            ax = fig.add_subplot(grid[row, 0])
            ax.imshow(xt[q, 0], cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(True)
                spine.set_linewidth(1.5)
            if row == 0:
                ax.set_title("query", fontsize=8)
            for s, (name, found) in enumerate(neighbours.items()):
                for j, n in enumerate(found[row]):
                    ax = fig.add_subplot(grid[row, 1 + j + s * (K + 1)])
                    ax.imshow(xt[n, 0], cmap="gray_r", vmin=0, vmax=1)
                    ax.set_xticks([])
                    ax.set_yticks([])
                    wrong = yt[n] != yt[q]
                    for spine in ax.spines.values():
                        spine.set_visible(True)
                        spine.set_color("red" if wrong else "0.7")
                        spine.set_linewidth(2.0 if wrong else 0.6)
                    if row == 0 and j == K // 2:
                        ax.set_title(f"{K} nearest in {name}", fontsize=8)
        code_p, pixel_p = precision.values()
        fig.suptitle(
            f"LeNet-5 codes vs pixels over {len(yt)} test digits: {100 * code_p:.1f}% of the {K} nearest neighbours "
            f"share the query's label in code space,\n{100 * pixel_p:.1f}% in pixel space (red frame: another digit)",
            fontsize=9,
        )
        return save_figure(fig, Path(out_dir) / "retrieval.png")


if __name__ == "__main__":
    start = time.perf_counter()
    args = [a for a in sys.argv[1:] if a != "--quick"]
    path = main(args[0] if args else "figures", quick="--quick" in sys.argv)
    print(f"{path} ({time.perf_counter() - start:.1f} s)")
