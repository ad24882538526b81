"""Can you match the texture to the response? Three LM filters, three textures, mean |response| bar charts.

The lecture's quiz. Three filters of the Leung-Malik bank (a horizontal edge,
a vertical bar and a small spot) are cross-correlated with three textures
(each normalised to zero mean and unit standard deviation); each bar chart
shows the mean |response| of the three filters over one texture. Textures
(A, B, C) and charts (1, 2, 3) are shuffled with a fixed seed; the answer
key at the bottom is computed by matching each chart to the texture whose
responses it shows.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import v1sim
from v1sim import filters, stimuli
from v1sim.plotting import paper_style, save_figure, set_frame, show_image

SEED = 7
COLOURS = ("tab:blue", "tab:orange", "tab:green")


def _shuffles(rng, n=3):
    """Texture order behind letters A, B, C and chart order behind 1, 2, 3, never matching position-wise."""
    letters = rng.permutation(n)
    while True:
        charts = rng.permutation(n)
        if np.all(charts != letters):
            return letters, charts


def main(out_dir, quick=False) -> Path:
    lm = filters.leung_malik()
    # (index in the bank, name, short name for the charts, parameters)
    elongated = "σx = 2, σy = 6 pixels"
    chosen = [
        (lm.index(kind="edge", sigma_x=2.0, theta=-math.pi / 2), "horizontal edge", "edge —", elongated),
        (lm.index(kind="bar", sigma_x=2.0, theta=0.0), "vertical bar", "bar |", elongated),
        (lm.index(kind="log", sigma=1.0), "spot (LoG)", "spot ●", "σ = 1 pixel"),
    ]
    bank = lm[[i for i, *_ in chosen]]

    tex = stimuli.textures(size=128 if quick else None)
    names = sorted(tex)
    images = np.stack([(tex[n] - tex[n].mean()) / tex[n].std() for n in names])
    mean_abs = np.abs(v1sim.apply_bank(images, bank, mode="reflect")).mean(axis=(-2, -1))  # (texture, filter)

    letters, charts = _shuffles(np.random.default_rng(SEED), len(names))
    # The key: each chart goes with the lettered texture whose mean |responses| it shows.
    key = []
    for j, t in enumerate(charts):
        dist = [np.linalg.norm(mean_abs[t] - mean_abs[letters[k]]) for k in range(len(letters))]
        key.append(f"{j + 1} → {'ABC'[int(np.argmin(dist))]} ({names[t]})")

    crop = 12  # show the central 25x25 pixels of the 49x49 kernels (the filters act at full size)
    c = lm.kernels.shape[1] // 2
    with paper_style():
        fig, axes = plt.subplots(
            3, 3, figsize=(7.2, 8.0), constrained_layout=True, gridspec_kw={"height_ratios": [0.8, 1, 1]}
        )
        for ax, (i, name, _, params), colour in zip(axes[0], chosen, COLOURS):
            show_image(ax, lm[i][c - crop : c + crop + 1, c - crop : c + crop + 1], symmetric=True)
            ax.set_title(f"{name}\n{params}", color=colour)
            set_frame(ax, color=colour, linewidth=2.0)
        for k, (ax, t) in enumerate(zip(axes[1], letters)):
            show_image(ax, tex[names[t]], vmin=0, vmax=1)
            ax.set_title("ABC"[k], fontsize=14, fontweight="bold")
            set_frame(ax)
        top = float(mean_abs.max()) * 1.15
        for j, (ax, t) in enumerate(zip(axes[2], charts)):
            ax.bar(range(len(chosen)), mean_abs[t], color=COLOURS, width=0.7)
            ax.set_xticks(range(len(chosen)), [short for _, _, short, _ in chosen])
            ax.set_ylim(0, top)
            ax.set_title(str(j + 1), fontsize=14, fontweight="bold")
            ax.set_box_aspect(1)
            if j == 0:
                ax.set_ylabel("mean |response|")
            else:
                ax.tick_params(labelleft=False)
        axes[0, 0].set_ylabel("filters\n(central 25×25 pixels)")
        axes[1, 0].set_ylabel("textures")
        fig.suptitle(
            "Can you match the texture (A, B, C) to its filter responses (1, 2, 3)?\n"
            f"Leung–Malik filters on {images.shape[1]}×{images.shape[2]}-pixel textures, "
            "each normalised to zero mean and unit s.d.",
            fontsize=10,
        )
        fig.supxlabel("Answer: " + ",  ".join(key), x=0.99, ha="right", fontsize=6, color="0.45")
        return save_figure(fig, Path(out_dir) / "texture_quiz.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures"))
