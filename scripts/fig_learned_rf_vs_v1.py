"""Receptive fields learned from natural images beside macaque V1: Gabor fits on Ringach's nx-ny plane.

Efficient coding in action: independent component analysis (ICA; Bell &
Sejnowski 1997, van Hateren & van der Schaaf 1998) of 16 x 16 patches of
log-luminance from the nine grey photographs and textures bundled with
scikit-image (40,000 patches PCA-whitened to 100 dimensions, symmetric
FastICA) learns
localised, oriented, band-pass filters: Gabor-like, as V1 simple cells are,
and as the first layer of a ConvNet trained on photographs is.

Every filter is then fitted with Ringach's (2002) Gabor
(``v1sim.biology.fit_gabor``), the model he fitted to macaque simple cells,
so that both are described by the same two numbers: ``nx`` and ``ny``, the
Gaussian envelope's width across and length along the subregions, in
periods of the carrier (nx ~ how many subregions, ny ~ how long they are).
Only fits explaining at least 70% of a filter's variance, with the envelope
centred at least 2 pixels inside the patch, are kept (ICA also learns
fragments cut by the patch border, which no recorded field resembles).

First panel: sixteen of the filters (spanning the range of nx) above their
fitted Gabors. Second: the nx-ny plane, the 79 macaque cells as a grey histogram
(counts in the bins; VOneNet's tabulation of Ringach's Fig. 4) and the
learned filters as dots; the crosses are v1sim's own Gabor simple cells
(``filters.gabor_kernel`` at 1 and 2 octaves bandwidth, aspect 1), fitted
the same way. Third: the nx marginals. Fourth: preferred orientations,
cardinal (bins centred on 0 and 90 degrees) against oblique (45 and 135),
beside 246 macaque cells (De Valois, Yund & Hepler 1982). The comparison
reproduces Ringach's finding rather than asserting it: the learned filters
sit at larger nx (more subregions) and none are blob-like, while a quarter
of V1's simple cells have nx and ny below 0.3; their orientations, though,
lean to the cardinal axes as V1's do (the oblique effect, inherited from
the images). The titles' numbers and the verdict are computed from the fits.

References: D. L. Ringach, "Spatial structure and symmetry of simple-cell
receptive fields in macaque primary visual cortex", J Neurophysiol 88
(2002) 455-463; A. J. Bell, T. J. Sejnowski, "The 'independent components'
of natural scenes are edge filters", Vision Res 37 (1997) 3327-3338;
R. L. De Valois, E. W. Yund, N. Hepler, "The orientation and direction
selectivity of cells in macaque visual cortex", Vision Res 22 (1982) 531-544.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from v1sim import biology, efficient_coding, filters
from v1sim.plotting import kernel_mosaic, paper_style, save_figure

PATCH = 16
MIN_R2 = 0.7
MARGIN = 2.0  # pixels between the envelope centre and the patch border
TICKS = (0.1, 0.2, 0.3, 0.5, 1.0, 1.5)
BLOB = 0.3  # nx and ny below this: a blob-like field (one subregion, hardly elongated)


def _learned(quick):
    patches = efficient_coding.natural_patches(15000 if quick else 40000, PATCH, rng=1998)
    return efficient_coding.ica_filters(patches, 49 if quick else 100, rng=0).filters


def _model_cells():
    """nx, ny of v1sim's Gabor simple cells, measured by the same fit (not taken from the formula)."""
    bank = [filters.gabor_kernel(0.12, bandwidth=b, phase=np.pi / 2, size=25, dtype=np.float64) for b in (1.0, 2.0)]
    fit = biology.fit_gabor(np.stack(bank))
    return fit.nx, fit.ny


def _picks(nx, n):
    """Indices of ``n`` fits spread evenly over the sorted nx values."""
    order = np.argsort(nx)
    return order[np.unique(np.linspace(0, len(order) - 1, n).round().astype(int))]


def main(out_dir, quick=False) -> Path:
    learned = _learned(quick)
    fits = biology.fit_gabor(learned)
    inside = np.minimum(np.minimum(fits.x0, fits.y0), np.minimum(PATCH - 1 - fits.x0, PATCH - 1 - fits.y0))
    keep = (fits.r2 >= MIN_R2) & (inside >= MARGIN)
    good, kept_filters = fits.select(keep), learned[keep]
    data = biology.ringach2002_nxny()
    edges = data.edges
    model_nx, model_ny = _model_cells()

    v1_share = data.counts[: int(np.searchsorted(edges, BLOB)), : int(np.searchsorted(edges, BLOB))].sum() / data.n
    ica_blob = float(np.mean((good.nx < BLOB) & (good.ny < BLOB)))
    centre = np.sqrt(edges[:-1] * edges[1:])  # geometric bin centres for the data's median
    v1_median_nx = float(np.median(np.repeat(centre, data.counts.sum(axis=1))))
    ica_median_nx = float(np.median(good.nx))
    distance = data.distance(good.nx, good.ny)

    with paper_style():
        fig, axes = plt.subplots(1, 4, figsize=(16.5, 4.4), gridspec_kw={"width_ratios": [1.25, 1, 1, 0.55]})
        fig.subplots_adjust(left=0.025, right=0.99, bottom=0.13, top=0.78, wspace=0.3)

        ax = axes[0]
        picks = _picks(good.nx, 16)
        tiles, titles = [], []
        for row in range(0, len(picks), 8):
            chunk = picks[row : row + 8]
            tiles += [kept_filters[i] for i in chunk] + [
                biology.gabor_model(good.params(i), (PATCH, PATCH)) for i in chunk
            ]
            titles += [f"nx {good.nx[i]:.2f}" for i in chunk] + [""] * len(chunk)
        kernel_mosaic(ax, tiles, 8, titles=titles, row_labels=["filter", "fit", "filter", "fit"], vgap=0.35)
        ax.set_title(
            f"ICA filters of natural images ({PATCH}x{PATCH} px) and their Gabor fits\n"
            f"kept {keep.sum()} of {len(fits)}: R$^2$ >= {MIN_R2}, centred >= {MARGIN:.0f} px inside "
            f"(median R$^2$ {np.median(fits.r2):.2f})",
            pad=16,
        )

        ax = axes[1]
        mesh = ax.pcolormesh(edges, edges, data.counts.T, cmap="Greys", vmin=0, vmax=data.counts.max() * 1.6)
        mesh.set_edgecolor("0.8")
        for (i, j), c in np.ndenumerate(data.counts):
            if c:
                ax.text(centre[i], centre[j], str(c), ha="center", va="center", fontsize=7, color="0.25")
        clip = (edges[0] * 1.02, edges[-1] / 1.02)  # fits beyond the data's range sit on its border
        ax.scatter(
            np.clip(good.nx, *clip),
            np.clip(good.ny, *clip),
            s=14,
            color="tab:orange",
            alpha=0.85,
            edgecolor="none",
            label=f"ICA filters (n = {len(good)})",
        )
        ax.scatter(model_nx, model_ny, marker="x", s=40, color="tab:blue", label="v1sim Gabor cells (1, 2 oct.)")
        ax.add_patch(
            plt.Rectangle((edges[0], edges[0]), BLOB - edges[0], BLOB - edges[0], fill=False, ls=":", color="k", lw=0.8)
        )
        ax.set(xscale="log", yscale="log", xlim=(edges[0], edges[-1]), ylim=(edges[0], edges[-1]))
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(FixedLocator(TICKS))
            axis.set_major_formatter(FixedFormatter([f"{t:g}" for t in TICKS]))
            axis.set_minor_locator(NullLocator())
        ax.set_xlabel("nx = sigma_x f  (width across subregions, periods)")
        ax.set_ylabel("ny = sigma_y f  (length, periods)")
        ax.set_title(
            f"macaque V1 simple cells (grey, n = {data.n}; Ringach 2002)\n"
            f"dotted: blob-like, V1 {v1_share:.0%}, ICA {ica_blob:.0%}"
        )
        ax.legend(frameon=True, framealpha=0.9, loc="upper left", fontsize=7)

        ax = axes[2]
        v1_marginal = data.counts.sum(axis=1) / data.n
        ica_marginal = data.histogram(good.nx, good.ny).sum(axis=1) / len(good)
        x = np.arange(len(centre))
        ax.bar(x - 0.2, v1_marginal, 0.4, color="0.45", label=f"macaque V1 (median ~{v1_median_nx:.2f})")
        ax.bar(x + 0.2, ica_marginal, 0.4, color="tab:orange", label=f"ICA filters (median {ica_median_nx:.2f})")
        ax.set_xticks(x, [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(edges[:-1], edges[1:])], fontsize=7)
        ax.set_xlabel("nx bin (outermost bins include values beyond them)")
        ax.set_ylabel("fraction of cells / filters")
        ax.set_title(f"nx marginals\ntotal-variation distance of the joint histograms {distance:.2f}")
        ax.legend(frameon=False, loc="upper left")

        ax = axes[3]
        oris = biology.devalois1982_orientation()
        ica_counts = oris.histogram(good.theta)
        ica_cardinal = float((ica_counts[0] + ica_counts[2]) / ica_counts.sum())
        x = np.arange(2)
        ax.bar(
            x - 0.2,
            [oris.cardinal_fraction, 1 - oris.cardinal_fraction],
            0.4,
            color="0.45",
            label=f"macaque V1 (n = {oris.n})",
        )
        ax.bar(
            x + 0.2, [ica_cardinal, 1 - ica_cardinal], 0.4, color="tab:orange", label=f"ICA filters (n = {len(good)})"
        )
        ax.axhline(0.5, color="k", ls=":", lw=0.8)
        ax.set_xticks(x, ["cardinal\n(0, 90 deg)", "oblique\n(45, 135 deg)"])
        ax.set_ylim(0, 1)
        ax.set_ylabel("fraction")
        ax.set_title(f"preferred orientation\ncardinal: V1 {oris.cardinal_fraction:.0%}, ICA {ica_cardinal:.0%}")
        ax.legend(frameon=False, loc="upper right", fontsize=7)

        verdict = (
            "the learned filters have more subregions than V1 simple cells, as Ringach (2002) found"
            if ica_median_nx > v1_median_nx and ica_blob < v1_share
            else "the learned filters do not differ from V1 as Ringach (2002) reported"
        )
        if (ica_cardinal > 0.5) == (oris.cardinal_fraction > 0.5):
            verdict += "; both lean to the cardinal orientations"
        fig.suptitle(
            "Receptive fields learned from natural images (independent components) beside macaque V1, "
            f"both fitted with Ringach's Gabor\n{verdict}"
        )
        return save_figure(fig, Path(out_dir) / "learned_rf_vs_v1.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures"))
