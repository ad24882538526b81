"""Neocognitron: what the S-cells of each layer learned, seen in the input's pixels.

S1 is fixed: eight edge templates over the ON and OFF contrast planes
(shown as ON minus OFF weights; red: the side that must be bright). S2 and S3
learned without labels (winner-take-all competitive learning with
add-if-silent plane generation); their weights live in the space of the
C-layer below, so each plane is shown by the mean input patch at its
strongest responses over the training digits (the response-weighted
average of the 30 best positions, each at most once per digit; a
receptive-field picture in pixels, 9x9 for S2 and 15x15 for S3). S4 holds
labelled prototypes of whole digits: for each class, the five prototypes
that absorbed most training digits, each shown as the mean of the training
digits nearest to it, with that number above.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from v1sim.datasets import load_digits
from v1sim.hierarchy import Neocognitron, NeocognitronConfig
from v1sim.plotting import kernel_mosaic, paper_style, save_figure

N_TRAIN = 1000
N_UNSUPERVISED = 500
TOP = 30  # positions averaged per plane
PER_CLASS = 5


def _receptive_averages(maps, images, half, stride):
    """Per plane, the response-weighted mean input patch (2 half + 1)^2 at its TOP best positions."""
    n, k, h, w = maps.shape
    pad = np.pad(images[:, 0], ((0, 0), (half, half), (half, half)))
    peak = maps.reshape(n, k, -1).max(axis=2)  # one position per digit: its best
    where = maps.reshape(n, k, -1).argmax(axis=2)
    out = np.zeros((k, 2 * half + 1, 2 * half + 1))
    for p in range(k):
        best = np.argsort(-peak[:, p], kind="stable")[:TOP]
        weights = peak[best, p]
        if weights.sum() <= 0:
            continue
        for img, pos, wgt in zip(best, where[best, p], weights):
            cy, cx = (pos // w) * stride, (pos % w) * stride
            out[p] += wgt * pad[img, cy : cy + 2 * half + 1, cx : cx + 2 * half + 1]
        out[p] /= weights.sum()
    return out


def main(out_dir, quick=False) -> Path:
    x, y = load_digits("train")
    n = 100 if quick else N_TRAIN
    cfg = NeocognitronConfig(n_unsupervised=60 if quick else N_UNSUPERVISED)
    net = Neocognitron(cfg).fit(x[:n], y[:n], rng=0)
    images = x[:n]
    maps = net.forward(images, upto="US3")
    # receptive-field half-widths and strides in input pixels (S-layers 'same', C-layers centred windows)
    half1 = cfg.s1_size // 2
    half2 = half1 + cfg.c1_size // 2 * 1 + cfg.s2_size // 2 * cfg.c1_stride
    stride2 = cfg.c1_stride
    stride3 = stride2 * cfg.c2_stride
    half3 = half2 + cfg.c2_size // 2 * stride2 + cfg.s3_size // 2 * stride3
    s2 = _receptive_averages(maps["US2"], images, half2, stride2)
    s3 = _receptive_averages(maps["US3"], images, half3, stride3)
    s1 = net.layers["US1"].templates[:, 0] - net.layers["US1"].templates[:, 1]

    c3 = net.features(images, "UC3")
    sims = net.classifier.similarity(c3)
    nearest = sims.argmax(axis=1)
    members = np.bincount(nearest, minlength=len(net.classifier.labels))
    labels = net.classifier.labels
    tiles, titles = [], []
    for k in range(10):
        protos = np.flatnonzero(labels == k)
        protos = protos[np.argsort(-members[protos], kind="stable")][:PER_CLASS]
        for p in range(PER_CLASS):
            if p < len(protos) and members[protos[p]]:
                tiles.append(images[nearest == protos[p], 0].mean(axis=0))
                titles.append(f"{members[protos[p]]}")
            else:
                tiles.append(np.zeros(images.shape[2:]))
                titles.append("")

    with paper_style():
        fig = plt.figure(figsize=(12.4, 7.8))
        grid = fig.add_gridspec(
            2,
            3,
            width_ratios=[1.0, 1.35, 1.45],
            height_ratios=[1, 3.2],
            wspace=0.1,
            hspace=0.2,
            left=0.02,
            right=0.99,
            top=0.88,
            bottom=0.02,
        )
        ax = fig.add_subplot(grid[0, 0])
        kernel_mosaic(ax, s1, 4, titles=[f"{360 * k // len(s1)}°" for k in range(len(s1))], vgap=0.3)
        ax.set_title(f"S1: {len(s1)} fixed edge templates\n(ON − OFF weights, {cfg.s1_size}×{cfg.s1_size})", pad=14)
        ax = fig.add_subplot(grid[1, 0])
        kernel_mosaic(
            ax,
            s2,
            4,
            cmap="gray_r",
            symmetric=False,
            titles=[f"#{k} ({net.counts['S2'][k]})" for k in range(len(s2))],
            vgap=0.28,
        )
        ax.set_title(
            f"S2: {len(s2)} learned planes, mean {s2.shape[-1]}×{s2.shape[-1]} input\nat best responses "
            "(#plane (patches learned))",
            pad=14,
        )
        ax = fig.add_subplot(grid[:, 1])
        kernel_mosaic(
            ax,
            s3,
            6,
            cmap="gray_r",
            symmetric=False,
            titles=[f"#{k} ({net.counts['S3'][k]})" for k in range(len(s3))],
            vgap=0.3,
        )
        ax.set_title(
            f"S3: {len(s3)} learned planes, mean {s3.shape[-1]}×{s3.shape[-1]} input at best responses\n"
            "(#plane (patches learned))",
            pad=14,
        )
        ax = fig.add_subplot(grid[:, 2])
        kernel_mosaic(
            ax,
            tiles,
            PER_CLASS,
            cmap="gray_r",
            symmetric=False,
            titles=titles,
            vgap=0.25,
            row_labels=[str(k) for k in range(10)],
            fontsize=7,
        )
        ax.set_title(
            f"S4: {len(labels)} labelled prototypes; per class the {PER_CLASS} with most\n"
            "training digits nearest (their mean; count above)",
            pad=14,
        )
        fig.suptitle(
            f"Neocognitron templates after one pass over {n} digits (S2, S3 from the first "
            f"{cfg.n_unsupervised}, without labels)",
            fontsize=10,
        )
        return save_figure(fig, Path(out_dir) / "neocognitron_templates.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures", quick="--quick" in sys.argv))
