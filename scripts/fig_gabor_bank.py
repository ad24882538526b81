"""A Gabor filter bank: even (line) and odd (edge) simple-cell receptive fields over orientations and frequencies.

Top: Gabor kernels (1-octave bandwidth, DC-free) at three spatial frequencies
x eight orientations, each in even (cosine, phase 0: a line/bar detector) and
odd (sine, phase pi/2: an edge detector) phase; each row is cropped to its
own support (+-3 sigma). Bottom left: a bright line and a dark-to-light edge,
and the responses along a horizontal cut of the even and odd vertical
filters at 1/8 cycles/pixel: the even filter peaks on the line, the odd on
the edge, and their quadrature energy sqrt(even^2 + odd^2) responds to both.
Bottom right: the same filters on a photograph.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import v1sim
from v1sim import filters, stimuli
from v1sim.plotting import kernel_mosaic, paper_style, save_figure, set_frame, show_image

FREQUENCIES = (1 / 16, 1 / 8, 1 / 4)  # cycles/pixel, one octave apart
N_ORIENT = 8
PHASES = (0.0, math.pi / 2)
DEMO_FREQUENCY = 1 / 8


def _ffmt(f: float) -> str:
    return str(Fraction(f).limit_denominator(64))


def _line_and_edge(shape=(48, 192)):
    """A bright 4-pixel line (half a period at 1/8 c/pixel) at x = W/4 and a dark-to-light edge at x = 3W/4."""
    h, w = shape
    edge = stimuli.edge(shape, position=w / 4, contrast=0.5, background=0.5)
    line = stimuli.bar(shape, length=2 * h, width=4, center=(w / 4 - 0.5, (h - 1) / 2), contrast=1.0, background=0.5)
    return edge + (line - 0.5)


def main(out_dir, quick=False) -> Path:
    bank = filters.gabor_bank(FREQUENCIES, n_orientations=N_ORIENT, phases=PHASES, bandwidth=1.0)
    p = bank.params
    centre = bank.kernels.shape[1] // 2

    def index(i_f, i_t, i_p):
        return (i_f * N_ORIENT + i_t) * len(PHASES) + i_p

    # The bank at the demo frequency (all orientations, both phases) for the responses.
    i_demo = FREQUENCIES.index(DEMO_FREQUENCY)
    demo = bank[[index(i_demo, i_t, i_p) for i_t in range(N_ORIENT) for i_p in range(len(PHASES))]]

    stim = _line_and_edge((32, 128) if quick else (48, 192))
    r_stim = v1sim.apply_bank(stim, demo[[0, 1]], mode="nearest")  # theta = 0: even, odd
    cut = r_stim[:, stim.shape[0] // 2]
    energy_cut = np.hypot(cut[0], cut[1])

    image = stimuli.natural_image("camera", size=128 if quick else 384)
    r_img = v1sim.apply_bank(image, demo, mode="reflect").reshape(N_ORIENT, len(PHASES), *image.shape)
    energy = np.hypot(r_img[:, 0], r_img[:, 1])  # (orientations, H, W)
    maps = [
        (r_img[0, 0], "even, θ = 0°\n(line detector)", True),
        (r_img[0, 1], "odd, θ = 0°\n(edge detector)", True),
        (energy[0], "energy, θ = 0°\n√(even² + odd²)", False),
        (energy[N_ORIENT // 2], "energy, θ = 90°\n√(even² + odd²)", False),
        (energy.max(axis=0), f"max energy over\nthe {N_ORIENT} orientations", False),
    ]
    slim = float(np.percentile(np.abs(r_img[0]), 98.0)) or 1.0
    elim = float(np.percentile(energy, 99.5)) or 1.0

    with paper_style():
        fig = plt.figure(figsize=(10.5, 11.6), constrained_layout=True)
        top, bottom = fig.subfigures(2, 1, height_ratios=[6.0, 4.2], hspace=0.02)

        axes = top.subplots(len(FREQUENCIES), 1)
        for i_f, (ax, f) in enumerate(zip(axes, FREQUENCIES)):
            i0 = index(i_f, 0, 0)
            half = int(math.ceil(3.0 * p[i0]["sigma_x"]))
            crop = np.s_[centre - half : centre + half + 1, centre - half : centre + half + 1]
            tiles, titles = [], []
            for i_p in range(len(PHASES)):
                for i_t in range(N_ORIENT):
                    tiles.append(bank[index(i_f, i_t, i_p)][crop])
                    first = i_f == 0 and i_p == 0
                    titles.append(f"θ = {math.degrees(p[index(0, i_t, 0)]['theta']):.1f}°" if first else "")
            labels = [
                f"f = {_ffmt(f)} c/pixel, {phase}\nσ = {p[i0]['sigma_x']:.1f} pixels, {2 * half + 1}×{2 * half + 1}"
                for phase in ("even (cos): line", "odd (sin): edge")
            ]
            kernel_mosaic(ax, tiles, N_ORIENT, gap=0.12, titles=titles, row_labels=labels)
        top.suptitle(
            f"(a) Gabor bank: {len(FREQUENCIES)} frequencies × {N_ORIENT} orientations × even/odd phase "
            "(bandwidth 1 octave); θ: carrier direction, 0° = vertical stripes, turning clockwise",
            fontsize=9,
        )

        left, right = bottom.subfigures(1, 2, width_ratios=[1.0, 1.25], wspace=0.02)
        ax_s, ax_c = left.subplots(2, 1, height_ratios=[1, 2.2], sharex=True)
        ax_s.imshow(stim, cmap="gray", vmin=0, vmax=1, aspect="auto")
        ax_s.set_yticks([])
        ax_s.axhline(stim.shape[0] // 2, color="tab:orange", lw=0.8, ls="--")
        ax_s.set_title("stimulus: a bright line and an edge (dashed: the cut)")
        x = np.arange(stim.shape[1])
        ax_c.axhline(0, color="0.6", lw=0.5)
        ax_c.plot(x, cut[0], color="tab:red", lw=1.1, label="even (cos)")
        ax_c.plot(x, cut[1], color="tab:blue", lw=1.1, label="odd (sin)")
        ax_c.plot(x, energy_cut, color="k", lw=1.1, ls="--", label="energy")
        ax_c.set_xlabel("x (pixels)")
        ax_c.set_ylabel("response")
        ax_c.set_title(f"vertical Gabors (θ = 0°), f = {_ffmt(DEMO_FREQUENCY)} c/pixel, along the cut")
        ax_c.legend(frameon=False, fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, 1.02))
        ymin, ymax = ax_c.get_ylim()
        ax_c.set_ylim(ymin, ymax + 0.3 * (ymax - ymin))
        left.suptitle("(b) even = line detector, odd = edge detector", fontsize=9)

        axes = right.subplots(2, 3)
        show_image(axes[0, 0], image, vmin=0, vmax=1, title=f"input\n({image.shape[0]}×{image.shape[1]} pixels)")
        for ax, (m, title, signed) in zip(axes.ravel()[1:], maps):
            if signed:
                im_s = show_image(ax, m, symmetric=True, vmin=-slim, vmax=slim, title=title)
            else:
                im_e = show_image(ax, m, cmap="magma", vmin=0, vmax=elim, title=title)
        set_frame(axes)
        right.colorbar(im_s, ax=axes[0, :], shrink=0.8, pad=0.02, aspect=15, label="response\n(clipped, 98th pct)")
        right.colorbar(im_e, ax=axes[1, :], shrink=0.8, pad=0.02, aspect=15, label="energy\n(clipped, 99.5th pct)")
        right.suptitle(f"(c) responses to a photograph, f = {_ffmt(DEMO_FREQUENCY)} cycles/pixel", fontsize=9)
        fig.suptitle("Gabor filters as V1 simple-cell receptive fields", fontsize=11)
        return save_figure(fig, Path(out_dir) / "gabor_bank.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures"))
