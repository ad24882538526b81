"""The featural hierarchy on one image: ganglion, simple, complex and hypercomplex cell maps.

One photograph (scikit-image's cameraman) seen by four populations of model
cells, each map computed over the whole image through the kernel layer
(v1sim.cells population functions): ON- and OFF-centre ganglion cells
(difference of Gaussians, centre sigma 1 px, surround 6 px, surround gain
0.55) respond to local light increments and decrements; simple cells
(Gabor filters, 0.15 cycles/px, 8 orientations, even phase, half-squared)
to oriented edges and lines of one polarity at one position; complex cells
(energy of quadrature pairs) to the same contours regardless of polarity
and exact position; hypercomplex cells (complex cells minus two end zones
along their axis) only where a contour ends, turns or is short: corners,
line ends, small details. Colour codes the orientation of the most active
cell at each point (key: the stripes it prefers), brightness its evoked
rate, scaled per panel to its 99.5th percentile. A margin of 12 px (half
the largest kernel) is cut off every map: beyond the image the screen is
mean grey, which makes edges of their own.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import hsv_to_rgb

from v1sim import cells, filters, stimuli
from v1sim.plotting import paper_style, save_figure, set_frame, show_image

N_ORIENT = 8
FREQ = 0.15  # cycles/pixel


def _orientation_rgb(maps, thetas):
    """(K, H, W) rates -> RGB: hue from the argmax orientation (axial), value from the max rate."""
    best = maps.argmax(axis=0)
    value = maps.max(axis=0)
    value = np.clip(value / (np.percentile(value, 99.5) or 1.0), 0.0, 1.0)
    hue = (np.asarray(thetas)[best] % np.pi) / np.pi
    return hsv_to_rgb(np.stack([hue, np.ones_like(hue), value], axis=-1))


def main(out_dir, quick=False) -> Path:
    image = stimuli.natural_image("camera", size=128 if quick else 256).astype(np.float32)
    bank = filters.gabor_bank(FREQ, N_ORIENT, (0.0, np.pi / 2))
    thetas = np.array([p["theta"] for p in bank.params[0::2]])
    dog = filters.dog_bank(1.0, surround_ratio=6.0, surround_weight=0.55)
    ganglion = cells.ganglion_cells(image, dog)  # (2, H, W): ON, OFF
    simple = cells.simple_cells(image, bank)[0::2]  # even phase: (8, H, W)
    complex_ = cells.complex_cells(image, bank)
    hyper = cells.hypercomplex_cells(image, bank)
    spont = cells.Nonlinearity(exponent=2.0).rest_rate
    m = bank.kernels.shape[-1] // 2
    inner = (slice(m, -m), slice(m, -m))
    image, ganglion = image[inner], ganglion[(slice(None),) + inner]
    simple, complex_, hyper = (x[(slice(None),) + inner] for x in (simple, complex_, hyper))

    with paper_style():
        fig = plt.figure(figsize=(11.0, 7.6))
        g = fig.add_gridspec(
            2, 4, width_ratios=[1, 1, 1, 0.3], left=0.01, right=0.97, bottom=0.03, top=0.88, wspace=0.08, hspace=0.2
        )
        ax = fig.add_subplot(g[0, 0])
        show_image(ax, image, vmin=0, vmax=1, title=f"input ({image.shape[0]}×{image.shape[1]} px)")
        set_frame(ax)
        for j, name in enumerate(("ON-centre ganglion cells", "OFF-centre ganglion cells")):
            m = ganglion[j]
            ax = fig.add_subplot(g[0, j + 1])
            im = show_image(
                ax,
                m,
                cmap="magma",
                vmin=0,
                vmax=float(np.percentile(ganglion, 99.5)),
                title=f"{name}\n(rate; rest 20 spikes/s)",
            )
            set_frame(ax)
        cax = fig.add_subplot(g[0, 3])
        cax.set_position([cax.get_position().x0, 0.55, 0.012, 0.28])
        fig.colorbar(im, cax=cax, label="spikes/s")
        stages = [
            ("simple cells", simple, "polarity and position specific"),
            ("complex cells", complex_, "polarity and position invariant"),
            ("hypercomplex cells", hyper, "end-stopped: ends, corners, details"),
        ]
        for j, (name, maps, note) in enumerate(stages):
            ax = fig.add_subplot(g[1, j])
            show_image(ax, _orientation_rgb(np.maximum(maps - spont, 0.0), thetas), title=f"{name}\n({note})")
            set_frame(ax)
        key = fig.add_subplot(g[1, 3])
        key.set_position([key.get_position().x0, 0.12, 0.06, 0.3])
        for k, t in enumerate(thetas):  # stripes run along (-sin t, cos t) in image (y-down) coordinates
            y = len(thetas) - 1 - k
            dx, dy = 0.4 * np.sin(t), 0.4 * np.cos(t)  # the same line in these y-up coordinates
            key.plot(
                [-dx, dx], [y - dy, y + dy], color=hsv_to_rgb([(t % np.pi) / np.pi, 1, 1]), lw=3, solid_capstyle="round"
            )
            key.text(0.8, y, f"{np.degrees(t):.1f}°".replace(".0°", "°"), va="center", fontsize=7)
        key.set_xlim(-0.6, 2.2)
        key.set_ylim(-0.7, len(thetas) - 0.3)
        key.set_aspect("equal")
        key.axis("off")
        key.set_title("preferred\nstripes, θ", fontsize=8)
        fig.suptitle(
            "The featural hierarchy on one image: retina → V1 simple → complex → hypercomplex cells\n"
            f"population maps through the kernel layer; Gabors {FREQ:g} cycles/px, {N_ORIENT} orientations; "
            "colour: orientation of the most active cell, brightness: its evoked rate"
        )
        return save_figure(fig, Path(out_dir) / "featural_hierarchy.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures"))
