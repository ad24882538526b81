"""Complex cells: position invariance, and their construction from simple cells.

Top left: the receptive field of a simple cell (an even Gabor, 0.1
cycles/px, 1 octave) and the two simple-cell subunits of a complex cell of
the same orientation and frequency (even and odd: a quadrature pair).
Top right: rate against the horizontal position of a light or a dark bar
(vertical, half a period wide): the simple cell answers a light bar only
on its excitatory stripe and a dark bar only on its flanks, while the
complex cell answers both polarities alike (the curves coincide) anywhere
in its field (energy model, Adelson & Bergen 1985; dashed: the max-pooling model, a Neocognitron
C-cell taking the maximum of rectified simple cells at positions spread
over one period). Bottom left: the construction, for a light bar: the
squared responses of the even and odd subunits, e^2 and o^2, peak at
different positions; their sum, the energy e^2 + o^2, is smooth and broad.
Bottom right: stationary gratings at the preferred orientation over their
spatial phase: the simple cell is phase-selective, the complex cell not.
Rates of the LN model (half-squaring, peak 34 spikes/s); dotted: spontaneous.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from v1sim import cells, physiology, stimuli
from v1sim.plotting import paper_style, save_figure, set_frame, show_image

F = 0.1  # cycles/pixel


def main(out_dir, quick=False) -> Path:
    size = 48 if quick else 64
    shape = (size, size)
    positions = np.linspace(-16, 16, 33)  # whole pixels: no rasterisation ripple
    simple = cells.SimpleCell(frequency=F)
    energy = cells.ComplexCell(frequency=F)
    pooled = cells.MaxComplexCell(frequency=F)
    width = 0.5 / F
    sweeps = {
        (name, pol): physiology.sweep(c, shape, stimulus=f"{pol} bar", positions=positions, width=width)
        for name, c in (("simple", simple), ("energy", energy), ("max", pooled))
        for pol in ("light", "dark")
    }
    bars = np.stack(
        [stimuli.bar(shape, 2 * size, width, center=((size - 1) / 2 + p, (size - 1) / 2)) for p in positions]
    )
    raw = energy.raw_drives(bars) / energy.unit_drive
    phases = physiology.phase_tuning(simple, shape, phases=np.linspace(0, 2 * np.pi, 33))
    phases_c = physiology.phase_tuning(energy, shape, phases=np.linspace(0, 2 * np.pi, 33))

    with paper_style():
        fig = plt.figure(figsize=(11.0, 6.8))
        g = fig.add_gridspec(
            2, 2, width_ratios=[1, 1.35], left=0.06, right=0.98, bottom=0.08, top=0.88, wspace=0.22, hspace=0.42
        )
        top = g[0, 0].subgridspec(1, 3, wspace=0.08)
        half = 18
        c = size // 2
        kernels = [simple.receptive_field(shape)] + list(energy.subunits(shape))
        titles = ["simple cell:\neven Gabor", "complex cell:\neven subunit", "complex cell:\nodd subunit"]
        lim = max(np.abs(k).max() for k in kernels)
        for j, (k, t) in enumerate(zip(kernels, titles)):
            ax = fig.add_subplot(top[j])
            show_image(
                ax,
                k[c - half : c + half + 1, c - half : c + half + 1],
                cmap="RdBu_r",
                vmin=-lim,
                vmax=lim,
                extent=(-half - 0.5, half + 0.5, half + 0.5, -half - 0.5),
            )
            set_frame(ax)
            ax.set_title(t, fontsize=8.5)
            ax.set_xticks([-15, 0, 15])
            ax.set_xlabel("x (px)", labelpad=1)
            if j == 0:
                ax.set_yticks([-15, 0, 15])
                ax.set_ylabel("y (px)", labelpad=1)

        right = g[0, 1].subgridspec(1, 2, wspace=0.1)
        ymax = 1.55 * max(r.rates.max() for r in sweeps.values())
        for j, (name, title) in enumerate((("simple", "simple cell"), ("energy", "complex cell"))):
            ax = fig.add_subplot(right[j])
            for pol, color, lw in (("light", "tab:orange", 3.0), ("dark", "k", 1.2)):
                ax.plot(positions, sweeps[(name, pol)].rates, color=color, lw=lw, label=f"{pol} bar")
                if name == "energy":
                    ax.plot(
                        positions,
                        sweeps[("max", pol)].rates,
                        color=color,
                        lw=lw / 2,
                        ls="--",
                        label=f"{pol} bar, max pooling",
                    )
            ax.axhline(simple.spontaneous_rate, color="0.5", ls=":", lw=0.8)
            ax.set_ylim(0, ymax)
            ax.set_xlim(positions[0], positions[-1])
            ax.set_xlabel("horizontal bar position (px)")
            ax.set_title(title)
            if j == 0:
                ax.set_ylabel("firing rate (spikes/s)")
            else:
                ax.set_yticklabels([])
            ax.legend(
                frameon=False, fontsize=7, loc="upper left", handlelength=1.6, ncol=2 if j else 1, columnspacing=0.8
            )

        ax = fig.add_subplot(g[1, 0])
        e2, o2 = raw[:, 0] ** 2, raw[:, 1] ** 2
        ax.plot(positions, e2, color="tab:red", lw=1.2, label="even subunit, e²")
        ax.plot(positions, o2, color="tab:blue", lw=1.2, label="odd subunit, o²")
        ax.plot(positions, e2 + o2, color="k", lw=2.0, label="energy, e² + o²")
        ax.set_xlim(positions[0], positions[-1])
        ax.set_ylim(0, 1.35 * (e2 + o2).max())
        ax.set_xlabel("horizontal position of a light bar (px)")
        ax.set_ylabel("drive² (optimal grating = 1)")
        ax.set_title("construction: squared quadrature subunits, summed")
        ax.legend(frameon=False, fontsize=7.5, loc="upper left", ncol=3, columnspacing=0.8, handlelength=1.5)

        ax = fig.add_subplot(g[1, 1])
        ax.plot(phases.phases_deg, phases.rates, "-", color="tab:green", lw=1.6, label="simple cell")
        ax.plot(phases_c.phases_deg, phases_c.rates, "-", color="tab:purple", lw=1.6, label="complex cell (energy)")
        ax.axhline(simple.spontaneous_rate, color="0.5", ls=":", lw=0.8)
        ax.set_xlim(0, 360)
        ax.set_xticks(np.arange(0, 361, 90))
        ax.set_ylim(0, 1.3 * max(phases.rates.max(), phases_c.rates.max()))
        ax.set_xlabel("spatial phase of a stationary grating (deg; 0: bright crest on the centre)")
        ax.set_ylabel("firing rate (spikes/s)")
        ax.set_title("phase tuning at the preferred orientation and frequency")
        ax.legend(frameon=False, fontsize=7.5, loc="upper center", ncol=2)
        fig.suptitle(
            "Complex cells respond to their stimulus anywhere in the field: position (phase) invariance by "
            "summing squared quadrature simple cells\nvertical Gabors, 0.1 cycles/px, 1 octave bandwidth; "
            "bars 5 px wide (half a period), spanning the screen"
        )
        return save_figure(fig, Path(out_dir) / "complex_cells.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures"))
