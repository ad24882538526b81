"""Neocognitron: the response of every stage to one digit, the S-C-S-C sandwich from input to class.

A Neocognitron (Fukushima 2003, on v1sim's kernel layer) is trained on embedded
MNIST digits: S2 and S3 without labels (competitive learning, add-if-silent),
S4 with them (labelled prototypes). Rows follow one test digit up the
hierarchy: the input U0; the ON- and OFF-centre contrast layer UG; S1, eight
fixed edge detectors (arrow: direction of increasing brightness), and their
C1 blur; S2 and S3, learned features (the eight planes most active for this
digit, by total response), each followed by its C-layer, which blurs and
halves the map; and the class cells UC4 (the best S4 prototype of each class)
beside the interpolating-vector (IntVec) decision. Each row shares one
colour scale (0 to the row's maximum, printed on the left): S-maps are
sparse and exact in position, C-maps smoother and coarser.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from v1sim.datasets import load_digits
from v1sim.hierarchy import Neocognitron, NeocognitronConfig
from v1sim.plotting import paper_style, save_figure

N_TRAIN = 1000  # training digits (all of them label S4; the first N_UNSUPERVISED also train S2, S3)
N_UNSUPERVISED = 500
DIGIT = 2  # the class of the test digit followed up the hierarchy
N_COLS = 8


def _tiles(ax, planes, labels, vmax, cmap, gap=0.12):
    """Maps side by side on one axes (unit squares, one shared colour scale), labelled above, framed."""
    for i, (plane, label) in enumerate(zip(planes, labels)):
        x0 = i * (1 + gap)
        ax.imshow(plane, cmap=cmap, vmin=0, vmax=vmax, extent=(x0, x0 + 1, 1, 0), interpolation="nearest")
        ax.add_patch(plt.Rectangle((x0, 0), 1, 1, fill=False, edgecolor="0.6", linewidth=0.5))
        ax.text(x0 + 0.5, -0.04, label, ha="center", va="bottom", fontsize=7)
    ax.set_xlim(0, N_COLS * (1 + gap) - gap)
    ax.set_ylim(1, 0)
    ax.set_aspect("equal")
    ax.set_axis_off()


def main(out_dir, quick=False) -> Path:
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    n = 100 if quick else N_TRAIN
    cfg = NeocognitronConfig(n_unsupervised=60 if quick else N_UNSUPERVISED)
    net = Neocognitron(cfg).fit(x[:n], y[:n], rng=0)
    candidates = np.flatnonzero(yt == DIGIT)[:20]
    pred = net.predict(xt[candidates])
    index = int(candidates[np.argmax(pred == DIGIT)])  # the first test "2" it gets right (if any)
    maps = {k: v[0] for k, v in net.forward(xt[index : index + 1]).items()}
    c3 = net.features(xt[index : index + 1], "UC3")
    scores = net.classifier.intvec_scores(net.classifier.similarity(c3), cfg.intvec_candidates)[0]

    arrows = "→↘↓↙←↖↑↗"  # image coordinates: y points down, angles turn clockwise on screen
    k1 = cfg.s1_orientations
    directions = [(arrows[k] + " " if k1 == 8 else "") + f"{360 * k / k1:.0f}°" for k in range(k1)]
    top2 = np.argsort(-maps["US2"].sum(axis=(1, 2)), kind="stable")[:N_COLS]
    top3 = np.argsort(-maps["US3"].sum(axis=(1, 2)), kind="stable")[:N_COLS]
    rows = [
        ("U0", "input", [maps["U0"][0]], [f"{xt.shape[-1]}×{xt.shape[-1]}"]),
        ("UG", "contrast (DoG)", list(maps["UG"]), ["ON-centre", "OFF-centre"]),
        ("US1", "S1 edges, fixed", list(maps["US1"]), directions),
        ("UC1", "C1 blur", list(maps["UC1"]), directions),
        ("US2", f"S2 learned ({len(net.counts['S2'])} planes)", list(maps["US2"][top2]), [f"#{k}" for k in top2]),
        ("UC2", "C2 blur + subsample", list(maps["UC2"][top2]), [f"#{k}" for k in top2]),
        ("US3", f"S3 learned ({len(net.counts['S3'])} planes)", list(maps["US3"][top3]), [f"#{k}" for k in top3]),
        ("UC3", "C3 blur + subsample", list(maps["UC3"][top3]), [f"#{k}" for k in top3]),
    ]

    with paper_style():
        fig = plt.figure(figsize=(9.6, 12.4))
        grid = fig.add_gridspec(
            len(rows) + 1,
            2,
            width_ratios=[1.35, N_COLS * 1.12],
            height_ratios=[1] * len(rows) + [1.5],
            hspace=0.35,
            wspace=0.02,
            left=0.02,
            right=0.99,
            top=0.94,
            bottom=0.04,
        )
        for r, (name, what, planes, labels) in enumerate(rows):
            vmax = max(float(max(p.max() for p in planes)), 1e-6)
            h, w = planes[0].shape
            ax = fig.add_subplot(grid[r, 0])
            ax.axis("off")
            ax.text(
                1.0,
                0.5,
                f"{name}\n{what}\n{len(maps[name])}@{h}×{w}, max {vmax:.2g}",
                ha="right",
                va="center",
                fontsize=8,
                transform=ax.transAxes,
            )
            _tiles(fig.add_subplot(grid[r, 1]), planes, labels, vmax, "gray" if name == "U0" else "magma")
        bottom = grid[len(rows), :].subgridspec(1, 2, width_ratios=[5, 3.4], wspace=0.25)
        ax = fig.add_subplot(bottom[0])
        uc4 = maps["UC4"][:, 0, 0]
        bars = ax.bar(np.arange(10), uc4, color="0.6")
        bars[int(np.argmax(uc4))].set_color("tab:red")
        ax.set_xticks(np.arange(10))
        ax.set_xlabel("class")
        ax.set_ylabel("UC4 response")
        ax.set_title(f"UC4: best S4 prototype per class ({len(net.classifier.labels)} labelled S4 planes)")
        ax = fig.add_subplot(bottom[1])
        ax.bar(np.arange(10), scores, color=["tab:red" if k == np.argmax(scores) else "0.6" for k in range(10)])
        ax.set_ylim(min(0.5, float(scores.min()) - 0.05), 1.0)
        ax.set_xticks(np.arange(10))
        ax.set_xlabel("class")
        ax.set_title(f"IntVec similarity: class {int(np.argmax(scores))} (true {int(yt[index])})")
        fig.suptitle(
            f"Neocognitron stages for test digit #{index} (trained on {n} digits; S2, S3 "
            f"from {cfg.n_unsupervised} without labels)",
            fontsize=10,
        )
        return save_figure(fig, Path(out_dir) / "neocognitron_stages.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures", quick="--quick" in sys.argv))
