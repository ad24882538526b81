"""Retinal receptive fields: ON- and OFF-centre difference-of-Gaussians filters and their responses.

Rows: an ON-centre OFF-surround and an OFF-centre ON-surround ganglion cell,
modelled as balanced differences of Gaussians (the kernel sums to 0, so
uniform light gives no response). Columns: the 2-D receptive field (red
excitatory, blue inhibitory); its response profile, a cut through the
centre (under linearity, the response to a small spot at each position),
with the centre and surround Gaussians dashed; the linear response of a
population of such cells to a photograph (cross-correlation, same size);
and the rectified response max(r, 0), a firing-rate map: ON cells signal
local light increments, OFF cells decrements.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm

import v1sim
from v1sim import filters, stimuli
from v1sim.plotting import paper_style, save_figure, set_frame, show_image

SIGMA_CENTER = 2.0  # pixels
SIGMA_SURROUND = 6.0  # pixels


def main(out_dir, quick=False) -> Path:
    sc, ss = SIGMA_CENTER, SIGMA_SURROUND
    image = stimuli.natural_image("camera", size=128 if quick else None)
    on = filters.dog_kernel(sc, ss, polarity="on", dtype=np.float64)
    off = filters.dog_kernel(sc, ss, polarity="off", dtype=np.float64)
    half = on.shape[0] // 2
    x = np.arange(-half, half + 1)
    centre = filters.gaussian_kernel(sc, size=on.shape[0], dtype=np.float64)[half]
    surround = filters.gaussian_kernel(ss, size=on.shape[0], dtype=np.float64)[half]

    rows = [
        ("ON-centre, OFF-surround", on, +1),
        ("OFF-centre, ON-surround", off, -1),
    ]
    responses = [v1sim.correlate2d(image, k, mode="same", boundary="symm") for _, k, _ in rows]
    rlim = float(np.percentile(np.abs(np.stack(responses)), 99.5)) or 1.0

    with paper_style():
        fig = plt.figure(figsize=(12.6, 5.6), constrained_layout=True)
        grid = fig.add_gridspec(2, 5, width_ratios=[1.25, 1, 1.25, 1, 1])
        ax_in = fig.add_subplot(grid[:, 0])
        show_image(ax_in, image, vmin=0, vmax=1, title=f"input image\n({image.shape[0]}×{image.shape[1]} pixels)")
        set_frame(ax_in)
        for r, ((name, kernel, sign), resp) in enumerate(zip(rows, responses)):
            ax_k = fig.add_subplot(grid[r, 1])
            # Two linear slopes about 0 (TwoSlopeNorm): the weak surround is as visible as the centre.
            norm = TwoSlopeNorm(0.0, vmin=float(kernel.min()), vmax=float(kernel.max()))
            im_k = show_image(
                ax_k, kernel, cmap="RdBu_r", norm=norm, extent=(-half - 0.5, half + 0.5, half + 0.5, -half - 0.5)
            )
            ax_k.set_xticks([-half, 0, half])
            ax_k.set_yticks([-half, 0, half])
            ax_k.set_xlabel("x (pixels); circles: radius σc, σs", labelpad=1)
            ax_k.set_title(f"{name}\nreceptive field weights ({kernel.shape[0]}×{kernel.shape[1]})")
            for radius, style in ((sc, "-"), (ss, "--")):
                ax_k.add_patch(plt.Circle((0, 0), radius, fill=False, ls=style, lw=0.9, color="gold"))
            fig.colorbar(im_k, ax=ax_k, shrink=0.8, pad=0.02)
            set_frame(ax_k)

            ax_p = fig.add_subplot(grid[r, 2])
            prof = kernel[half]
            ax_p.axhline(0, color="0.5", lw=0.6)
            ax_p.fill_between(x, prof, 0, where=prof >= 0, color="tab:red", alpha=0.25, lw=0, step="mid")
            ax_p.fill_between(x, prof, 0, where=prof < 0, color="tab:blue", alpha=0.25, lw=0, step="mid")
            ax_p.plot(x, prof, "k.-", lw=1, ms=2.5, label="DoG")
            ax_p.plot(
                x,
                sign * centre,
                color="tab:red" if sign > 0 else "tab:blue",
                ls="--",
                lw=0.8,
                label=f"{'+' if sign > 0 else '−'}G(σc = {sc:g})",
            )
            ax_p.plot(
                x,
                -sign * surround,
                color="tab:blue" if sign > 0 else "tab:red",
                ls="--",
                lw=0.8,
                label=f"{'−' if sign > 0 else '+'}G(σs = {ss:g})",
            )
            for v in (-ss, -sc, sc, ss):
                ax_p.axvline(v, color="0.75", lw=0.5, ls=":")
            ax_p.set_xlim(-half, half)
            lo, hi = float(prof.min()), float(prof.max())
            span = hi - lo
            # headroom on the side of the legend, so that it clears the curves
            ax_p.set_ylim((lo - 0.08 * span, hi + 0.75 * span) if sign > 0 else (lo - 0.75 * span, hi + 0.08 * span))
            ax_p.set_xlabel("position of a small spot, x (pixels)")
            ax_p.set_ylabel("response (kernel weight)")
            ax_p.set_title("response profile\n(cut through the centre, y = 0)")
            ax_p.legend(
                loc="upper right" if sign > 0 else "lower right",
                frameon=False,
                fontsize=6.5,
                handlelength=1.8,
                borderaxespad=0.2,
            )

            ax_r = fig.add_subplot(grid[r, 3])
            im_r = show_image(
                ax_r,
                resp,
                symmetric=True,
                vmin=-rlim,
                vmax=rlim,
                title=f"{name.split(',')[0]} cells:\nlinear response r",
            )
            set_frame(ax_r)
            ax_f = fig.add_subplot(grid[r, 4])
            im_f = show_image(
                ax_f,
                np.maximum(resp, 0),
                cmap="magma",
                vmin=0,
                vmax=rlim,
                title=f"{name.split(',')[0]} cells:\nfiring rate ∝ max(r, 0)",
            )
            set_frame(ax_f)
            fig.colorbar(im_r, ax=ax_r, shrink=0.8, pad=0.02)
            fig.colorbar(im_f, ax=ax_f, shrink=0.8, pad=0.02)
        fig.suptitle(
            f"Retinal ganglion-cell receptive fields as differences of Gaussians (DoG): centre σc = {sc:g}, "
            f"surround σs = {ss:g} pixels (balanced: the weights sum to 0)"
        )
        return save_figure(fig, Path(out_dir) / "dog.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures"))
