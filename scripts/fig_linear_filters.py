"""Practice with linear filters: identity, a 1-pixel shift, box blurs and sharpening on a photograph.

Each column cross-correlates the cameraman with one small kernel (shown as a
number grid on top, the lecture's "Practice with linear filters"): the
identity leaves the image unchanged; a 1 to the right of the centre shifts it
LEFT by one pixel (visible in the zoomed crop against the fixed red line, and
as the edge pattern of the difference image); the 3x3 and 5x5 means blur; the
sharpening kernel 2*identity - box adds back what the blur removes. The
bottom row shows filtered - original on the crop, on one colour scale.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import v1sim
from v1sim import filters, stimuli
from v1sim.plotting import paper_style, save_figure, set_frame, show_image, value_grid


def _crop_box(n: int) -> tuple[int, int, int]:
    """(row, col, side) of a crop on the tripod's pole (vertical edges), scaled to an n x n image."""
    side = max(16, n // 14)
    return int(0.61 * n) - side // 2, int(0.565 * n) - side // 2, side


def main(out_dir, quick=False) -> Path:
    image = stimuli.natural_image("camera", size=128 if quick else None)  # 512x512 in full
    n = image.shape[0]
    r0, c0, side = _crop_box(n)
    crop = np.s_[r0 : r0 + side, c0 : c0 + side]

    # (title, kernel, multiplier shown in the grid title, format)
    columns = [
        ("identity\n(no change)", filters.identity_kernel(3), 1, "{:.0f}"),
        ("shift (1 right of centre):\nimage moves LEFT by 1 pixel", filters.shift_kernel(1, 0, 3), 1, "{:.0f}"),
        ("blur:\n3×3 mean (box) filter", filters.box_kernel(3), 9, "{:.0f}"),
        ("more blur:\n5×5 mean (box) filter", filters.box_kernel(5), 25, "{:.0f}"),
        ("sharpen:\n2 × identity − 3×3 box", filters.sharpen_kernel(3), 9, "{:.0f}"),
    ]
    outputs = [v1sim.correlate2d(image, k, mode="same", boundary="symm") for _, k, _, _ in columns]
    diffs = [out[crop] - image[crop] for out in outputs]
    dlim = max(float(np.abs(d).max()) for d in diffs) or 1.0

    # A fixed reference line on the crop: at the strongest vertical edge of the original.
    grad = np.abs(np.diff(image[crop], axis=1)).mean(axis=0)
    ref_x = int(np.argmax(grad)) + 0.5  # between columns ref_x - 0.5 and ref_x + 0.5

    ncol = len(columns) + 1
    with paper_style():
        fig, axes = plt.subplots(
            4,
            ncol,
            figsize=(1.75 * ncol + 0.6, 7.6),
            constrained_layout=True,
            gridspec_kw={"height_ratios": [0.8, 1, 1, 1]},
        )
        # Column 0: the original.
        axes[0, 0].axis("off")
        axes[0, 0].text(0.5, 0.3, "original\n(no filter)", ha="center", va="center", transform=axes[0, 0].transAxes)
        show_image(axes[1, 0], image, vmin=0, vmax=1, title=f"original ({n}×{n} pixels)")
        axes[1, 0].add_patch(plt.Rectangle((c0 - 0.5, r0 - 0.5), side, side, fill=False, ec="tab:red", lw=1))
        show_image(axes[2, 0], image[crop], vmin=0, vmax=1, title=f"zoomed crop ({side}×{side} pixels)")
        axes[2, 0].axvline(ref_x, color="tab:red", lw=0.8)
        axes[3, 0].axis("off")
        axes[3, 0].text(
            0.5,
            0.5,
            "filtered − original\non the crop\n(luminance, image in [0, 1];\nrms Δ over the whole image)"
            "\n\nred line on the crops:\na fixed reference column",
            ha="center",
            va="center",
            transform=axes[3, 0].transAxes,
        )

        for j, ((title, kernel, mult, fmt), out, diff) in enumerate(zip(columns, outputs, diffs), start=1):
            prefix = f"1/{mult} × " if mult != 1 else ""
            value_grid(axes[0, j], kernel * mult, fmt=fmt, vmax=float(np.abs(kernel * mult).max()))
            axes[0, j].set_title(f"{title}\n{prefix}kernel ({kernel.shape[0]}×{kernel.shape[1]})")
            show_image(axes[1, j], out, vmin=0, vmax=1)
            show_image(axes[2, j], out[crop], vmin=0, vmax=1)
            axes[2, j].axvline(ref_x, color="tab:red", lw=0.8)
            im = show_image(axes[3, j], diff, symmetric=True, vmin=-dlim, vmax=dlim)
            rms = float(np.sqrt(np.mean((out - image) ** 2)))
            axes[3, j].set_title(f"rms Δ = {rms:.3f}")
            if not np.any(diff):
                axes[3, j].text(0.5, 0.5, "0 everywhere", ha="center", va="center", transform=axes[3, j].transAxes)
        fig.colorbar(im, ax=axes[3, :], shrink=0.8, pad=0.01, label="Δ luminance")
        set_frame(axes[1:, :])
        set_frame(axes[0, 0], visible=False)
        set_frame(axes[3, 0], visible=False)
        fig.suptitle(
            "Practice with linear filters: the cameraman cross-correlated with small kernels "
            "(same-size output, mirrored borders)"
        )
        return save_figure(fig, Path(out_dir) / "linear_filters.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures"))
