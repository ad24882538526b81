"""Centre-surround ganglion cells: receptive fields and spike rasters to the classic stimuli.

The lecture's recording slides (after Kuffler 1953 and Hubel 1988), simulated.
Rows: an ON-centre and an OFF-centre model ganglion cell (difference of
Gaussians, centre radius 0.1 deg, surround 0.6 deg, integrated surround gain
0.55; Croner & Kaplan 1995), firing as Poisson processes around a
spontaneous rate of 20 spikes/s. Left: the receptive field (red: light
excites, blue: light inhibits; each sign scaled to its peak so the weak
surround shows) and its profile through the centre. Then one column per
stimulus flashed for 0.3 s (gold band): a light spot on the centre, a small
spot on the surround, a light annulus and diffuse light over the whole
field; each column shows the stimulus over the field (dashed circle: the
centre's edge), a raster of 12 trials and the PSTH. ON cells fire to light
in the centre and are silenced by light in the surround; OFF cells the
reverse; diffuse light drives both weakly because centre and surround
cancel. The model has no temporal filter, so there are no transient
"off" discharges at stimulus offset.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm

from v1sim import cells, physiology, spikes
from v1sim.plotting import paper_style, save_figure, set_frame, show_image, spike_raster

PPD = 20.0  # pixels per degree
ONSET, OFFSET = 0.1, 0.4  # s


def main(out_dir, quick=False) -> Path:
    size = 48 if quick else 64
    n_trials = 6 if quick else 12
    shape = (size, size)
    half_deg = size / PPD / 2
    kw = dict(center_radius=0.1, surround_radius=0.6, ppd=PPD)
    rows = [
        ("ON-centre", cells.GanglionCell(polarity="on", **kw)),
        ("OFF-centre", cells.GanglionCell(polarity="off", **kw)),
    ]
    results = [
        physiology.center_surround(
            c, shape, n_trials=n_trials, duration=0.5, onset=ONSET, offset=OFFSET, dt=0.002, rng=i
        )
        for i, (_, c) in enumerate(rows)
    ]
    edges_psth = [spikes.count_psth(r.counts, 0.002, 0.025) for r in results]
    rmax = 1.1 * max(p[1].max() for p in edges_psth)
    labels = [
        "light spot\non the centre",
        "small spot\non the surround",
        "light annulus",
        "diffuse light\n(full field)",
    ]

    with paper_style():
        fig = plt.figure(figsize=(11.5, 7.2))
        outer = fig.add_gridspec(2, 1, left=0.05, right=0.99, bottom=0.07, top=0.86, hspace=0.45)
        for r, ((name, cell), res, (edges, psth)) in enumerate(zip(rows, results, edges_psth)):
            g = outer[r].subgridspec(
                3, 5, width_ratios=[1.25, 1, 1, 1, 1], height_ratios=[1.0, 1.0, 0.8], wspace=0.35, hspace=0.12
            )
            rf = cell.receptive_field(shape)
            ext = (-half_deg, half_deg, -half_deg, half_deg)
            ax = fig.add_subplot(g[0:2, 0])
            im = show_image(ax, rf, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, rf.min(), rf.max()), extent=ext)
            ax.set_title(f"{name} cell: receptive field")
            ax.add_patch(plt.Circle((0, 0), cell.rf_radius / PPD, fill=False, ls="--", lw=0.8, color="0.2"))
            ax.set_yticks([-1, 0, 1])
            ax.set_ylabel("y (deg)", labelpad=1)
            cb = fig.colorbar(im, ax=ax, shrink=0.7, pad=0.03, ticks=[rf.min(), 0, rf.max()])
            cb.ax.set_yticklabels(["−", "0", "+"])
            axp = fig.add_subplot(g[2, 0])
            x = (np.arange(size) - (size - 1) / 2) / PPD
            prof = rf[size // 2] / np.abs(rf).max()
            axp.axhline(0, color="0.6", lw=0.6)
            axp.fill_between(x, prof, 0, where=prof >= 0, color="tab:red", alpha=0.3, lw=0, step="mid")
            axp.fill_between(x, prof, 0, where=prof < 0, color="tab:blue", alpha=0.3, lw=0, step="mid")
            axp.plot(x, prof, "k-", lw=0.9, label="profile")
            axp.plot(x, 10 * prof, color="0.5", lw=0.7, ls="--", label="×10 (surround)")
            axp.set_ylim(-1.15, 1.15)
            axp.legend(
                frameon=False,
                fontsize=6.5,
                loc="lower left" if r == 0 else "upper left",
                handlelength=1.5,
                borderaxespad=0.1,
            )
            axp.set_xlim(-half_deg, half_deg)
            axp.set_xlabel("x (deg), cut through the centre")
            axp.set_ylabel("weight (norm.)")
            for j in range(4):
                a = fig.add_subplot(g[0, j + 1])
                show_image(a, res.stimuli[j], vmin=0, vmax=1, extent=ext)
                a.add_patch(plt.Circle((0, 0), cell.rf_radius / PPD, fill=False, ls="--", lw=0.7, color="tab:red"))
                set_frame(a)
                a.set_title(f"{labels[j]}\n{res.rates[j]:.0f} spikes/s (rest {res.spontaneous:.0f})", fontsize=8)
                a = fig.add_subplot(g[1, j + 1])
                a.axvspan(ONSET, OFFSET, color="gold", alpha=0.3, lw=0, zorder=0)
                spike_raster(a, res.time, res.counts[j], linewidth=0.6)
                a.set_xlim(0, 0.5)
                a.set_xticklabels([])
                if j == 0:
                    a.set_ylabel("trial")
                a = fig.add_subplot(g[2, j + 1])
                a.axvspan(ONSET, OFFSET, color="gold", alpha=0.3, lw=0, zorder=0)
                a.stairs(psth[j], edges, fill=True, color="0.3", zorder=2)
                a.axhline(res.spontaneous, color="tab:blue", ls=":", lw=0.8, zorder=3)
                a.set_xlim(0, 0.5)
                a.set_ylim(0, rmax)
                a.set_xlabel("time (s)")
                if j == 0:
                    a.set_ylabel("PSTH (spikes/s)")
        fig.suptitle(
            y=0.995,
            t="Centre-surround receptive fields (DoG, LN-Poisson model): ON cells excited by light in the centre, "
            f"OFF cells by light in the surround\n{n_trials} trials per stimulus, 25 ms PSTH bins; "
            "gold: stimulus on; dotted: spontaneous rate; dashed circle: edge of the centre",
        )
        return save_figure(fig, Path(out_dir) / "center_surround.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures"))
