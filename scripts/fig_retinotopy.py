"""The retina-to-V1 map: Schwartz's log-polar model, cortical magnification and RF size.

Top left: a grid of the visual field (rings of equal eccentricity, rays of
equal polar angle; colour: polar angle, upper field warm), fixation at the
centre. Top middle: the same grid on the flattened V1 of both hemispheres
through the monopole map w = k log(1 + z/a) (Schwartz 1977, 1980; macaque
k = 15 mm, a = 0.7 deg): the right hemifield on the left hemisphere (u > 0),
the left hemifield mirrored at u < 0, back to back at the foveal
representation; the vertical meridian becomes the curved border of each
hemisphere. Rings become nearly straight lines, equally spaced per octave
of eccentricity beyond a few degrees: the map is log-polar in the periphery
and linear near the fovea. Top right: linear magnification M(E) = k/(E + a),
receptive-field diameter d(E) = 0.1 + 0.25 E deg (an assumption of the order
of macaque V1, see v1sim.retinotopy.rf_size) and their product, the
"point image" (Hubel & Wiesel 1974), which levels off near k s = 3.75 mm.
Bottom: a photograph (fixation at its centre, 40 deg wide), its image on
the cortex (to_cortex; the fovea takes up most of V1) and the photograph
rebuilt from that cortical image (from_cortex): sharp at fixation, blurred
in the periphery, where one cortical pixel covers several degrees.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from v1sim import retinotopy as R
from v1sim import stimuli
from v1sim.plotting import paper_style, save_figure, set_frame, show_image

RINGS = (0.5, 1, 2, 5, 10, 20)  # deg
ANGLES = np.radians(np.arange(-90, 91, 30))  # polar angle in each hemifield
FIELD = 20.0  # half-width of the field shown, deg


def _grid_lines():
    """(z, colour) lines of the polar grid in both hemifields."""
    lines = []
    cmap = plt.cm.coolwarm
    for side in (1, -1):
        for phi in ANGLES:
            ecc = np.geomspace(0.01, FIELD * np.sqrt(2), 200)
            ecc = ecc[ecc <= FIELD / max(abs(np.cos(phi)), abs(np.sin(phi)), 1e-9)]
            z = ecc * np.exp(1j * phi)
            lines.append((side * z.real + 1j * z.imag, cmap(0.5 + phi / np.pi), 1.0))
        for e in RINGS:
            phi = np.linspace(-np.pi / 2, np.pi / 2, 200)
            z = e * np.exp(1j * phi)
            lines.append((side * z.real + 1j * z.imag, "0.25", 0.7))
    return lines


def main(out_dir, quick=False) -> Path:
    size = 128 if quick else 256
    image = stimuli.natural_image("camera", size=size).astype(np.float64)
    ppd = size / (2 * FIELD)
    cortex, extent = R.to_cortex(image, ppd)
    back = R.from_cortex(cortex, extent, ppd, image.shape)
    lines = _grid_lines()

    with paper_style():
        fig = plt.figure(figsize=(12.0, 7.4))
        g = fig.add_gridspec(
            2, 3, width_ratios=[1, 1.7, 1.05], left=0.05, right=0.98, bottom=0.07, top=0.88, wspace=0.28, hspace=0.35
        )
        ax = fig.add_subplot(g[0, 0])
        for z, color, lw in lines:
            ax.plot(z.real, z.imag, color=color, lw=lw)
        for e in (5, 20):
            ax.text(e * 0.72, -e * 0.72, f"{e}°", fontsize=7, color="0.2", ha="left", va="top")
        ax.plot(0, 0, "k+", ms=6)
        ax.set_xlim(-FIELD, FIELD)
        ax.set_ylim(-FIELD, FIELD)
        ax.set_aspect("equal")
        ax.set_xlabel("x (deg), left ← fixation → right")
        ax.set_ylabel("y (deg), upper field up")
        ax.set_title("visual field (polar grid)")

        ax = fig.add_subplot(g[0, 1])
        for z, color, lw in lines:
            w = R.visual_to_cortex(z)
            ax.plot(w.real, w.imag, color=color, lw=lw)
        for e in RINGS:
            u = R.cortical_distance(e)
            ax.text(u, -R.K_MACAQUE * np.pi / 2 - 1.0, f"{e:g}°", fontsize=7, ha="center", va="top", color="0.2")
        ax.set_aspect("equal")
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(-R.K_MACAQUE * np.pi / 2 - 4.5, R.K_MACAQUE * np.pi / 2 + 1)
        ax.set_xlabel("u (mm): right hemisphere ← fovea → left hemisphere")
        ax.set_ylabel("v (mm)")
        ax.set_title(
            f"V1 (flattened), w = k log(1 + z/a), k = {R.K_MACAQUE:g} mm, a = {R.A_MACAQUE:g}°\n"
            "(labels: eccentricity of the rings)"
        )

        ax = fig.add_subplot(g[0, 2])
        ecc = np.linspace(0, 40, 401)
        ax.plot(ecc, R.magnification(ecc), color="k", lw=1.6, label="magnification M(E) (mm/deg)")
        ax.plot(ecc, R.point_image(ecc), color="tab:red", lw=1.4, label="point image M·d (mm)")
        ax.set_yscale("log")
        ax.set_ylim(0.1, 400)
        ax.set_xlim(0, 40)
        ax.set_xlabel("eccentricity E (deg)")
        ax.set_ylabel("mm/deg or mm")
        ax2 = ax.twinx()
        ax2.plot(ecc, R.rf_size(ecc), color="tab:blue", lw=1.4, ls="--")
        ax2.set_ylabel("RF diameter d(E) (deg)", color="tab:blue")
        ax2.tick_params(axis="y", colors="tab:blue")
        ax2.spines["right"].set_visible(True)
        ax2.spines["right"].set_color("tab:blue")
        ax2.set_ylim(0, 24)
        ax.plot([], [], color="tab:blue", ls="--", label="RF diameter d(E) = 0.1 + 0.25 E (deg, right)")
        ax.legend(frameon=False, fontsize=7, loc="upper right")
        ax.set_title("magnification falls, RF size grows")

        ext_img = (-FIELD, FIELD, -FIELD, FIELD)
        ax = fig.add_subplot(g[1, 0])
        show_image(ax, image, vmin=0, vmax=1, extent=ext_img)
        ax.set_xticks([-20, 0, 20])
        ax.set_yticks([-20, 0, 20])
        ax.set_xlabel("x (deg)")
        ax.set_ylabel("y (deg)")
        ax.set_title(f"image ({size}×{size} px, {2 * FIELD:g}° wide)")
        ax = fig.add_subplot(g[1, 1])
        shown = np.ma.masked_invalid(cortex)
        cmap = plt.get_cmap("gray").with_extremes(bad="#e8eef5")
        show_image(ax, shown, cmap=cmap, vmin=0, vmax=1, extent=extent)
        ax.set_xticks(np.arange(-40, 41, 20))
        ax.set_yticks([-20, 0, 20])
        ax.set_xlabel("u (mm)")
        ax.set_ylabel("v (mm)")
        ax.set_title(f"its image on V1 (to_cortex, {cortex.shape[1]}×{cortex.shape[0]} px; blue-grey: not V1)")
        ax = fig.add_subplot(g[1, 2])
        show_image(ax, back, vmin=0, vmax=1, extent=ext_img)
        ax.set_xticks([-20, 0, 20])
        ax.set_yticks([-20, 0, 20])
        ax.set_xlabel("x (deg)")
        ax.set_title("rebuilt from V1 (from_cortex)")
        for a in fig.axes:
            if a.images:
                set_frame(a)
        fig.suptitle(
            "Retinotopy: the log-polar map from the visual field to V1 (Schwartz 1977, 1980), with macaque "
            "magnification\nthe fovea occupies most of the cortex; equal steps on V1 are equal ratios of "
            "eccentricity in the periphery"
        )
        return save_figure(fig, Path(out_dir) / "retinotopy.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures"))
