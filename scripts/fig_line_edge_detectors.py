"""Line and edge detectors: firing rate against the horizontal position of bars and edges.

The four kinds of simple cell in the lecture (after Hubel & Wiesel 1962),
each built as Hubel & Wiesel proposed from a vertical row of centre-surround
units (:class:`v1sim.cells.HubelWieselCell`, rectified LGN inputs summed):
a light-line detector (a row of ON-centre units), a dark-line detector (OFF
units), a dark-to-light edge detector (an OFF row left of an ON row) and a
light-to-dark edge detector (the mirror image). Top: each receptive field
(red: ON, light excites; blue: OFF; each sign scaled to its peak). Bottom:
the rate as a vertical stimulus is stepped across the field, for a light
bar, a dark bar (both 6 px wide, about the units' centre diameter, and
spanning the screen) and the two edges (position = where the luminance
steps). Each detector fires most to its own stimulus centred on its field,
and the opposite-polarity stimulus there silences it. A single row of units
is not a pure line detector, though: an edge whose bright side covers the
ON row drives it as well as the best bar (dashed curves peaking 3 px off
centre), because the row's only flanks are the units' weak surrounds; the
edge detectors, with an ON and an OFF row side by side, prefer their edge
to either bar by nearly 2:1. Away from the field the edge detectors keep a
residual rate: uniform light or dark over one row drives it through the
surround's incomplete cancellation (surround gain 0.55). Dotted:
spontaneous rate.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm

from v1sim import cells, physiology
from v1sim.plotting import paper_style, save_figure, set_frame, show_image

KINDS = [
    ("light-line", "light-line detector", "light bar"),
    ("dark-line", "dark-line detector", "dark bar"),
    ("dark-to-light", "dark-to-light edge detector", "dark-to-light edge"),
    ("light-to-dark", "light-to-dark edge detector", "light-to-dark edge"),
]
STYLE = {
    "light bar": ("tab:orange", "-"),
    "dark bar": ("k", "-"),
    "dark-to-light edge": ("tab:blue", "--"),
    "light-to-dark edge": ("tab:purple", "--"),
}
RADIUS = 2.0  # centre radius of each unit, pixels


def main(out_dir, quick=False) -> Path:
    size = 48 if quick else 64
    shape = (size, size)
    positions = np.linspace(-12, 12, 25 if quick else 49)
    with paper_style():
        fig, axes = plt.subplots(2, 4, figsize=(11.5, 5.6), gridspec_kw={"height_ratios": [1, 1.05]})
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.17, top=0.83, wspace=0.28, hspace=0.45)
        ymax = 0.0
        curves = []
        for kind, title, preferred in KINDS:
            cell = cells.HubelWieselCell(kind=kind, center_radius=RADIUS, surround_radius=3 * RADIUS, n_subunits=7)
            res = {s: physiology.sweep(cell, shape, stimulus=s, positions=positions, width=3 * RADIUS) for s in STYLE}
            ymax = max(ymax, max(r.rates.max() for r in res.values()))
            curves.append((cell, title, preferred, res))
        half = 14
        for col, (cell, title, preferred, res) in enumerate(curves):
            box = slice(size // 2 - half, size // 2 + half + 1)
            rf = cell.receptive_field(shape)[box, box]
            ax = axes[0, col]
            show_image(
                ax,
                rf,
                cmap="RdBu_r",
                norm=TwoSlopeNorm(0.0, rf.min(), rf.max()),
                extent=(-half - 0.5, half + 0.5, half + 0.5, -half - 0.5),
            )
            for dx, dy, sign in cell.subunit_centres(shape):
                ax.plot(dx, dy, "+" if sign > 0 else "_", color="k", ms=4, mew=0.8)
            set_frame(ax)
            units = {"light-line": "7 ON", "dark-line": "7 OFF"}.get(cell.kind, "7 OFF + 7 ON")
            ax.set_title(f"{title}\n({units} units; +/−: ON/OFF centres)", fontsize=8.5)
            ax.set_xticks([-10, 0, 10])
            ax.set_xlabel("x (px)", labelpad=1)
            ax = axes[1, col]
            ax.axvline(0, color="0.85", lw=0.8)
            ax.axhline(res[preferred].spontaneous, color="0.5", ls=":", lw=0.8)
            for stim, (color, ls) in STYLE.items():
                r = res[stim]
                ax.plot(
                    r.positions,
                    r.rates,
                    color=color,
                    ls=ls,
                    lw=2.0 if stim == preferred else 1.0,
                    alpha=1.0 if stim == preferred else 0.8,
                    label=stim,
                )
            ax.set_xlim(positions[0], positions[-1])
            ax.set_ylim(0, 1.08 * ymax)
            ax.set_xlabel("horizontal position of the stimulus (px)")
            if col == 0:
                ax.set_ylabel("firing rate (spikes/s)")
            ax.set_title(f"its stimulus: {preferred} (thick)", fontsize=8.5)
        handles, labels = axes[1, 0].get_legend_handles_labels()
        fig.legend(
            handles,
            labels,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=4,
            frameon=False,
            title="stimulus (vertical, spanning the screen; bars 6 px wide)",
            fontsize=8,
        )
        fig.suptitle(
            "Line and edge detectors built from rows of centre-surround units (Hubel & Wiesel 1962): "
            "rate vs horizontal position\nunit centre radius 2 px, surround 6 px, units 2 px apart; "
            "edge detectors' ON and OFF rows 4 px apart"
        )
        return save_figure(fig, Path(out_dir) / "line_edge_detectors.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures"))
