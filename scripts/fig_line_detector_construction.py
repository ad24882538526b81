"""Building a line detector from centre-surround cells, and its orientation tuning.

Hubel & Wiesel's (1962) proposal, simulated: a simple cell sums the
(rectified) outputs of LGN cells whose centre-surround fields lie along a
line. Left: the row of 7 ON-centre difference-of-Gaussians units (centre
radius 2 px, surround 6 px, 2 px apart). Middle: their sum, an elongated
light-line receptive field with inhibitory flanks (+: unit centres).
Bottom: light bars (3 px wide, 40 px long) at several orientations over the
field (red outline: where the field is excitatory) with the cell's rate to
each. Right: rate against bar orientation for rows of 1 to 9 units; a single
unit is untuned, and the longer the row, the sharper the tuning (half-width
at half-height above the minimum, in the legend). Rates of the LN model
(peak 34 spikes/s, spontaneous 0.8, dotted).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm

from v1sim import cells, physiology, stimuli
from v1sim.plotting import paper_style, save_figure, set_frame, show_image

RADIUS, SURROUND, WIDTH, LENGTH = 2.0, 6.0, 3.0, 40.0  # pixels


def _cell(n):
    return cells.HubelWieselCell(kind="light-line", center_radius=RADIUS, surround_radius=SURROUND, n_subunits=n)


def main(out_dir, quick=False) -> Path:
    size = 49 if quick else 65
    shape = (size, size)
    c = size // 2
    counts = (1, 3, 7) if quick else (1, 3, 5, 7, 9)
    n_orient = 12 if quick else 36
    orientations = np.arange(n_orient) * np.pi / n_orient
    cell = _cell(7)
    units = cell.subunits(shape) * cell.unit_drive  # (7, H, W) unit DoGs
    rf = cell.receptive_field(shape)
    centres = cell.subunit_centres(shape)
    tuning = {
        n: physiology.orientation_tuning(
            _cell(n), shape, stimulus="bar", orientations=orientations, length=LENGTH, width=WIDTH
        )
        for n in counts
    }
    shown = np.radians([0.0, 15.0, 30.0, 45.0, 90.0])
    bars = [stimuli.bar(shape, LENGTH, WIDTH, theta=t) for t in shown]
    bar_rates = cell.response(np.stack(bars))

    with paper_style():
        fig = plt.figure(figsize=(11.5, 6.6))
        g = fig.add_gridspec(
            2,
            6,
            width_ratios=[0.55, 1.3, 1.3, 0.2, 1.3, 1.3],
            height_ratios=[1.5, 1],
            left=0.03,
            right=0.98,
            bottom=0.06,
            top=0.86,
            wspace=0.3,
            hspace=0.35,
        )
        half = 8
        strip = []
        for k in range(units.shape[0]):
            uy, ux = int(round(c + centres[k][1])), int(round(c + centres[k][0]))
            strip.append(units[k, uy - half : uy + half + 1, ux - half : ux + half + 1])
            strip.append(np.full((2, 2 * half + 1), np.nan))
        strip = np.concatenate(strip[:-1])
        ax = fig.add_subplot(g[0, 0])
        lim = np.nanmax(np.abs(strip))
        show_image(ax, strip, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, np.nanmin(strip), lim))
        ax.set_title("7 ON-centre\nunits (LGN) →")
        ax.set_xlabel(f"each {2 * half + 1}×{2 * half + 1} px")
        set_frame(ax)

        ax = fig.add_subplot(g[0, 1:3])
        half = 16
        crop = rf[c - half : c + half + 1, c - half : c + half + 1]
        ext = (-half - 0.5, half + 0.5, half + 0.5, -half - 0.5)
        im = show_image(ax, crop, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, crop.min(), crop.max()), extent=ext)
        for dx, dy, _ in centres:
            ax.plot(dx, dy, "+", color="k", ms=5, mew=0.9)
        ax.set_title("Σ rectified units = a light-line detector\n(simple-cell receptive field; +: unit centres)")
        ax.set_xticks([-15, 0, 15])
        ax.set_yticks([-15, 0, 15])
        ax.set_xlabel("x (px)")
        ax.set_ylabel("y (px)")
        cb = fig.colorbar(im, ax=ax, shrink=0.75, pad=0.02, ticks=[crop.min(), 0, crop.max()])
        cb.ax.set_yticklabels(["−", "0", "+"])

        ax = fig.add_subplot(g[0, 4:])
        colors = plt.cm.viridis(np.linspace(0.0, 0.85, len(counts)))
        for color, n in zip(colors, counts):
            res = tuning[n]
            deg = np.concatenate([res.orientations_deg, [180.0]])
            rate = np.concatenate([res.rates, res.rates[:1]])
            deg = np.where(deg > 90, deg - 180, deg)
            order = np.argsort(deg)
            bw = "untuned" if res.bandwidth_deg is None else f"half-width {res.bandwidth_deg:.0f}°"
            ax.plot(deg[order], rate[order], "-", color=color, lw=1.4, label=f"{n} unit{'s' if n > 1 else ''} ({bw})")
        ax.axhline(cell.spontaneous_rate, color="0.5", ls=":", lw=0.8)
        ax.set_xlim(-90, 90)
        ax.set_xticks([-90, -45, 0, 45, 90])
        ax.set_xlabel("bar orientation (deg from vertical, clockwise)")
        ax.set_ylabel("firing rate (spikes/s)")
        ax.set_ylim(0, 1.45 * max(r.rates.max() for r in tuning.values()))
        ax.legend(frameon=False, fontsize=7.5, loc="upper left", ncol=2, columnspacing=0.8, handlelength=1.5)
        ax.set_title("orientation tuning grows with the row's length")

        outline = rf > 0.25 * rf.max()
        bottom = g[1, :].subgridspec(1, 5, wspace=0.15)
        for j, (t, img, r) in enumerate(zip(shown, bars, bar_rates)):
            ax = fig.add_subplot(bottom[j])
            sub = slice(c - 20, c + 21)
            show_image(ax, img[sub, sub], vmin=0, vmax=1)
            ax.contour(outline[sub, sub].astype(float), levels=[0.5], colors="tab:red", linewidths=0.8)
            set_frame(ax)
            ax.set_title(f"bar at {np.degrees(t):.0f}°: {r:.1f} spikes/s", fontsize=8.5)
        fig.suptitle(
            "Constructing a line detector from centre-surround cells (Hubel & Wiesel 1962): the row of DoG units, "
            "their summed field,\nand its response to light bars of several orientations "
            f"(bars {WIDTH:g} px wide, {LENGTH:g} px long, centred on the field)"
        )
        return save_figure(fig, Path(out_dir) / "line_detector_construction.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures"))
