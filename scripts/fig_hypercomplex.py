"""Hypercomplex (end-stopped) cells: length tuning of complex and hypercomplex cells.

Left: the fields of a complex cell (energy envelope of its quadrature pair)
and of an end-stopped, hypercomplex cell built as that complex cell minus
two displaced complex cells on its long axis (the end zones, weight 0.5
each; blue: inhibitory; each sign scaled to its peak). Middle: light bars
(half a period wide) of three lengths centred on the field. Right: rate
against bar length. The complex cell sums along its whole length and
saturates (end-stopping index ~0); the hypercomplex cell peaks at a short
optimal length and falls back towards its spontaneous rate as the bar
invades the end zones (end-stopping index = 1 - R(longest) / R(optimal),
spontaneous rate subtracted; Hubel & Wiesel 1965). Vertical Gabors at 0.15
cycles/px, 1 octave; rates of the LN model (half-squaring, peak 34 spikes/s).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
from matplotlib.colors import TwoSlopeNorm

from v1sim import cells, physiology, stimuli
from v1sim.plotting import paper_style, save_figure, set_frame, show_image

F = 0.15  # cycles/pixel


def _energy_map(cell, shape):
    k = cell.subunits(shape)
    env = [np.hypot(k[i], k[i + 1]) for i in range(0, k.shape[0], 2)]
    return env[0] - cell.end_weight * (env[1] + env[2]) if len(env) == 3 else env[0]


def main(out_dir, quick=False) -> Path:
    size = 64 if quick else 96
    shape = (size, size)
    lengths = np.geomspace(1.0, size, 16 if quick else 32)
    plain = cells.ComplexCell(frequency=F)
    hyper = cells.HypercomplexCell(frequency=F)
    pair = (("complex", plain), ("hypercomplex", hyper))
    res = {name: physiology.length_tuning(c, shape, lengths=lengths) for name, c in pair}
    width = 0.5 / F
    shown = [res["hypercomplex"].optimal_length, 2.5 * res["hypercomplex"].optimal_length, float(size)]
    bars = [stimuli.bar(shape, ln, width) for ln in shown]
    rates = {name: c.response(np.stack(bars)) for name, c in pair}

    with paper_style():
        fig = plt.figure(figsize=(11.5, 5.0))
        g = fig.add_gridspec(
            2, 3, width_ratios=[0.9, 0.9, 2.2], left=0.04, right=0.98, bottom=0.1, top=0.8, wspace=0.25, hspace=0.35
        )
        c, half = size // 2, 30
        ext = (-half - 0.5, half + 0.5, half + 0.5, -half - 0.5)
        for r, (name, cell) in enumerate((("complex", plain), ("hypercomplex", hyper))):
            m = _energy_map(cell, shape)[c - half : c + half + 1, c - half : c + half + 1]
            ax = fig.add_subplot(g[r, 0])
            norm = TwoSlopeNorm(0.0, m.min(), m.max()) if m.min() < 0 else TwoSlopeNorm(0.0, -m.max(), m.max())
            show_image(ax, m, cmap="RdBu_r", norm=norm, extent=ext)
            ax.set_yticks([-25, 0, 25])
            ax.set_ylabel("y (px)", labelpad=1)
            if r == 1:
                ax.set_xticks([-25, 0, 25])
                ax.set_xlabel("x (px)", labelpad=1)
            ax.set_title(
                f"{name} cell" + ("\n(centre − 0.5 × end zones)" if r else "\n(quadrature-pair energy)"), fontsize=8.5
            )
        strip = g[:, 1].subgridspec(3, 1, hspace=0.45)
        outline = _energy_map(hyper, shape)
        for j, (ln, img) in enumerate(zip(shown, bars)):
            ax = fig.add_subplot(strip[j])
            show_image(ax, img[c - half : c + half + 1, c - half : c + half + 1], vmin=0, vmax=1)
            sub = outline[c - half : c + half + 1, c - half : c + half + 1]
            ax.contour(sub, levels=[0.3 * sub.max()], colors="tab:red", linewidths=0.7)
            ax.contour(sub, levels=[0.3 * sub.min()], colors="tab:blue", linewidths=0.7)
            set_frame(ax)
            ax.set_title(
                f"{ln:.0f} px: complex {rates['complex'][j]:.1f}, hyper {rates['hypercomplex'][j]:.1f} spikes/s",
                fontsize=7.5,
            )
        ax = fig.add_subplot(g[:, 2])
        for name, color in (("complex", "tab:purple"), ("hypercomplex", "tab:red")):
            rr = res[name]
            ax.plot(
                rr.lengths,
                rr.rates,
                ".-",
                color=color,
                lw=1.6,
                ms=4,
                label=f"{name}: end-stopping index {rr.end_stopping_index:.2f}",
            )
        for ln in shown:
            ax.axvline(ln, color="0.85", lw=0.8, zorder=0)
        ax.axhline(plain.spontaneous_rate, color="0.5", ls=":", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlim(lengths[0], lengths[-1])
        ax.set_xticks([t for t in (1, 2, 5, 10, 20, 50) if t < size] + [size])
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_ylim(0, 1.25 * max(r.rates.max() for r in res.values()))
        ax.set_xlabel("bar length (px; grey lines: the bars shown)")
        ax.set_ylabel("firing rate (spikes/s)")
        ax.legend(frameon=False, loc="upper left")
        ax.set_title("length tuning")
        fig.suptitle(
            "End-stopping: a complex cell sums along its length, a hypercomplex cell prefers short bars\n"
            f"bars {width:.1f} px wide (half a period) centred on the field; red/blue outlines: the hypercomplex "
            "cell's excitatory centre and inhibitory end zones"
        )
        return save_figure(fig, Path(out_dir) / "hypercomplex.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures"))
