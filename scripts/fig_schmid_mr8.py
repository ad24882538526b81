"""Rotation-invariant filter banks: Schmid's 13 filters, the 38 RFS filters and MR8 maximum responses.

(a) The 13 isotropic Schmid filters cos(pi tau r / sigma) exp(-r^2 / 2 sigma^2),
zero-mean and L1-normalised. (b) The 38 RFS (root filter set) filters of
Varma & Zisserman: edges and bars at (sigma_x, sigma_y) = (1, 3), (2, 6),
(4, 12) pixels x 6 orientations, plus a Gaussian and a LoG of sigma = 10.
(c) A texture and its 8 MR8 responses: at each pixel the maximum |response|
over the 6 orientations of each edge/bar scale (rotation invariant), then the
Gaussian and LoG responses.
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


def _orientation(theta: float) -> int:
    """Edge/bar orientation on screen, degrees counter-clockwise from horizontal."""
    return int(round(90.0 - math.degrees(theta))) % 180


def main(out_dir, quick=False) -> Path:
    size = 49
    sch = filters.schmid(size=size)
    rfs = filters.mr8(size=size)
    texture_name = "brick"
    texture = stimuli.natural_image(texture_name, size=128 if quick else None)
    texture = (texture - texture.mean()) / texture.std()  # zero mean, unit s.d., as the MR8 reference code
    responses = v1sim.apply_bank(texture, rfs, mode="reflect")  # (38, H, W)
    mr = filters.mr8_responses(responses, absolute=True)  # (8, H, W)
    p = rfs.params

    mr_titles = []
    for kind in ("edge", "bar"):
        for s in (1, 2, 4):
            mr_titles.append(f"{kind}s, (σx, σy) = ({s}, {3 * s})" if s == 1 else f"{kind}s, ({s}, {3 * s})")
    mr_titles += [f"Gaussian, σ = {p[36]['sigma']:g}", f"LoG, σ = {p[37]['sigma']:g}"]

    with paper_style():
        fig = plt.figure(figsize=(11.0, 8.0), constrained_layout=True)
        top, rest = fig.subfigures(2, 1, height_ratios=[1.15, 5.0], hspace=0.02)
        left, right = rest.subfigures(1, 2, width_ratios=[1.2, 1.0], wspace=0.03)

        # (a) Schmid.
        ax = top.subplots()
        kernel_mosaic(
            ax, sch.kernels, len(sch), gap=0.1, titles=[f"σ = {q['sigma']:g}\nτ = {q['tau']:g}" for q in sch.params]
        )
        top.suptitle(
            f"(a) Schmid (S) bank: {len(sch)} isotropic filters cos(πτr/σ)·exp(−r²/2σ²), "
            f"{size}×{size} pixels, σ in pixels",
            fontsize=9,
        )

        # (b) RFS: 6 rows (edges, then bars, at 3 scales) x 6 orientations, + Gaussian and LoG.
        ax_o, ax_i = left.subplots(1, 2, width_ratios=[6, 1.3])
        kernel_mosaic(
            ax_o,
            rfs.kernels[:36],
            6,
            gap=0.12,
            titles=[f"{_orientation(p[i]['theta'])}°" if i < 6 else "" for i in range(36)],
            row_labels=[f"{p[i]['kind']}\n({p[i]['sigma_x']:g}, {p[i]['sigma_y']:g})" for i in range(0, 36, 6)],
        )
        kernel_mosaic(
            ax_i,
            rfs.kernels[36:],
            1,
            vgap=0.45,
            titles=[f"{'Gaussian' if p[i]['kind'] == 'gaussian' else 'LoG'}\nσ = {p[i]['sigma']:g}" for i in (36, 37)],
        )
        left.suptitle(
            f"(b) RFS bank ({len(rfs)} filters): edges and bars, (σx, σy) in pixels × 6 orientations\n"
            "(counter-clockwise from horizontal), plus a Gaussian and a LoG",
            fontsize=9,
        )

        # (c) Texture and its 8 maximum responses: |.| maps on a sequential scale, signed ones diverging.
        axes = right.subplots(3, 3)
        h, w = texture.shape
        show_image(axes[0, 0], texture, title=f"{texture_name}, zero mean, unit s.d.\n({h}×{w} pixels)")
        top_max = float(np.percentile(mr[:6], 99.5))
        signed_lim = float(np.abs(mr[6:]).max())
        for j, (ax, r, title) in enumerate(zip(axes.ravel()[1:], mr, mr_titles)):
            if j < 6:
                im_max = show_image(ax, r, cmap="magma", vmin=0, vmax=top_max, title=title)
            else:
                im_signed = show_image(ax, r, symmetric=True, vmin=-signed_lim, vmax=signed_lim, title=title)
        set_frame(axes)
        right.colorbar(
            im_max, ax=axes[:2, :], shrink=0.7, pad=0.02, aspect=25, label="max |response| (clipped at 99.5th pct)"
        )
        right.colorbar(im_signed, ax=axes[2, :], shrink=0.9, pad=0.02, aspect=12, label="response")
        right.suptitle(
            "(c) MR8: 8 rotation-invariant responses: max |response| over the 6\n"
            "orientations at each edge/bar scale (σx, σy in pixels); Gaussian and LoG as they are",
            fontsize=9,
        )
        fig.suptitle("Texture filter banks: Schmid, RFS and the MR8 maximum responses (Varma & Zisserman)", fontsize=11)
        return save_figure(fig, Path(out_dir) / "schmid_mr8.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures"))
