"""The Leung-Malik filter bank: 48 edge, bar, spot and blur filters, and their responses to a photograph.

Top: the 48 LM filters (small-scale variant LMS, 49x49 pixels) in the classic
layout of the Oxford VGG page: first-derivative (edge) filters at three scales
x six orientations, second-derivative (bar) filters likewise, then eight
Laplacian-of-Gaussian (spot) and four Gaussian filters. Every filter is
zero-mean and L1-normalised as in the reference, each shown on its own
symmetric colour scale (red positive, blue negative). Bottom: the
cross-correlation of the cameraman with a few of them, on one colour scale.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import v1sim
from v1sim import filters, stimuli
from v1sim.plotting import kernel_mosaic, paper_style, save_figure, set_frame, show_image


def fmt_sigma(value: float) -> str:
    """1.414 -> '√2', 2.828 -> '2√2', 3.0 -> '3'."""
    k = value / math.sqrt(2.0)
    if abs(k - round(k)) < 1e-6 and abs(value - round(value)) > 1e-6:
        return "√2" if round(k) == 1 else f"{round(k)}√2"
    return f"{value:g}"


def edge_orientation(theta: float) -> int:
    """Orientation of the edge/bar on screen, degrees counter-clockwise from horizontal, in [0, 180)."""
    return int(round(90.0 - math.degrees(theta))) % 180


def _kernel_row(subfig, bank, indices, titles, header):
    ax = subfig.subplots()
    kernel_mosaic(ax, bank.kernels[indices], len(indices), gap=0.12, titles=titles)
    subfig.suptitle(header, fontsize=8)


def main(out_dir, quick=False) -> Path:
    lm = filters.leung_malik(size=49, variant="LMS")
    p = lm.params
    image = stimuli.natural_image("camera", size=128 if quick else None)

    # The oriented groups as stored: 0-17 edges, 18-35 bars, each scale-major x 6 orientations.
    groups = []
    for start in range(0, 36, 6):
        first = p[start]
        kind = "first derivative (edge)" if first["kind"] == "edge" else "second derivative (bar)"
        header = f"{kind}, σx = {fmt_sigma(first['sigma_x'])}, σy = {fmt_sigma(first['sigma_y'])} pixels"
        idx = list(range(start, start + 6))
        groups.append((idx, [f"{edge_orientation(p[i]['theta'])}°" for i in idx], header))
    logs = sorted((i for i in range(len(lm)) if p[i]["kind"] == "log"), key=lambda i: p[i]["sigma"])
    gaussians = sorted((i for i in range(len(lm)) if p[i]["kind"] == "gaussian"), key=lambda i: p[i]["sigma"])

    # A few responses: edges and bars at sigma_x = 2, and a spot (all zero-mean cells).
    picks = [
        (lm.index(kind="edge", sigma_x=2.0, theta=-math.pi / 2), "horizontal edge\nσx = 2"),
        (lm.index(kind="edge", sigma_x=2.0, theta=0.0), "vertical edge\nσx = 2"),
        (lm.index(kind="edge", sigma_x=2.0, theta=-math.pi / 6), "120° edge\nσx = 2"),
        (lm.index(kind="bar", sigma_x=2.0, theta=-math.pi / 2), "horizontal bar\nσx = 2"),
        (lm.index(kind="bar", sigma_x=2.0, theta=0.0), "vertical bar\nσx = 2"),
        (lm.index(kind="log", sigma=2.0), "spot (LoG)\nσ = 2"),
    ]
    sub = lm[[i for i, _ in picks]]
    responses = v1sim.apply_bank(image, sub, mode="reflect")
    lim = float(np.percentile(np.abs(responses), 99.0)) or 1.0

    with paper_style():
        fig = plt.figure(figsize=(11.5, 8.9), constrained_layout=True)
        top, bottom = fig.subfigures(2, 1, height_ratios=[4.3, 1.75], hspace=0.02)
        rows = top.subfigures(4, 1, hspace=0.0)
        for r in range(3):
            halves = rows[r].subfigures(1, 2, wspace=0.02)
            for h in range(2):
                idx, titles, header = groups[2 * r + h]
                _kernel_row(halves[h], lm, idx, titles, header)
        last = rows[3].subfigures(1, 2, width_ratios=[len(logs), len(gaussians)], wspace=0.02)
        _kernel_row(
            last[0],
            lm,
            logs,
            [f"σ = {fmt_sigma(p[i]['sigma'])}" for i in logs],
            "Laplacian of Gaussian (spot), negative centre, σ in pixels",
        )
        _kernel_row(
            last[1],
            lm,
            gaussians,
            [f"σ = {fmt_sigma(p[i]['sigma'])}" for i in gaussians],
            "Gaussian (minus its mean), σ in pixels",
        )
        top.suptitle(
            f"The {len(lm)} Leung–Malik filters (LMS, {lm.kernels.shape[1]}×{lm.kernels.shape[2]} pixels; "
            "angles: edge/bar orientation, counter-clockwise from horizontal)",
            fontsize=10,
        )

        axes = bottom.subplots(1, len(picks) + 1)
        show_image(axes[0], image, vmin=0, vmax=1, title=f"input\n({image.shape[0]}×{image.shape[1]} pixels)")
        for ax, (i, label), resp in zip(axes[1:], picks, responses):
            im = show_image(ax, resp, symmetric=True, vmin=-lim, vmax=lim, title=f"{label} (no. {i})")
            inset = ax.inset_axes([0.0, 0.0, 0.28, 0.28])
            show_image(inset, lm[i], symmetric=True)
            set_frame(inset, color="k")
        set_frame(axes)
        bottom.colorbar(im, ax=list(axes[1:]), shrink=0.8, pad=0.01, label="response (clipped)")
        bottom.suptitle(
            "Simple-cell responses to the cameraman: six filters (inset; no. = index in the bank, from 0), "
            "one colour scale clipped at the 99th percentile of |response|",
            fontsize=10,
        )
        fig.suptitle("Modelling V1 simple cells with a filter bank: the Leung–Malik (LM) bank", fontsize=11)
        return save_figure(fig, Path(out_dir) / "lm_bank.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures"))
