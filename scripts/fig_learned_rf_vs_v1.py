"""Receptive fields learned from natural images (a sparse-coding ConvNet and ICA) beside macaque V1.

Two learners of natural images, fitted the way Ringach (2002) fitted macaque
simple cells, beside the monkey data:

* **the ConvNet**: conv1 of ``v1sim train sparse_conv`` (64 unit-norm 12 x 12
  filters of a sparse convolutional autoencoder, Olshausen & Field 1996),
  trained for 8 epochs of its recipe on whitened patches of the photographs
  bundled with scikit-image (seed 0): the committed run
  ``scripts/data/sparse_conv_run``, made by ``v1sim train sparse_conv --epochs 8
  --seed 0 --out scripts/data/sparse_conv_run`` (10-35 s on two cores; the
  figure reads it rather than spend that time again). Its ``gabor_fraction``
  (the share of filters a Gabor fits with R^2 >= 0.7, as
  :func:`v1sim.nn.natural.gabor_fraction` reports it) is in the title;
* **ICA** (Bell & Sejnowski 1997, van Hateren & van der Schaaf 1998) of 16 x 16
  patches of log-luminance from the same photographs (40,000 patches
  PCA-whitened to 100 dimensions, symmetric FastICA).

Every filter is fitted with Ringach's Gabor (``v1sim.biology.fit_gabor``), so
that each is described as V1 cells are: ``nx`` and ``ny``, the Gaussian
envelope's width across and length along the subregions in periods of the
carrier (nx ~ how many subregions, ny ~ how long they are), its orientation and
its carrier frequency. Kept: fits with R^2 >= 0.7 whose envelope is centred at
least 1/8 of the patch inside it (2 px of ICA's 16, 1.5 px of the ConvNet's 12;
border fragments resemble no recorded field).

Panels: (a, b) filters above their fits, spanning the range of nx; (c) the
nx-ny plane: the 79 macaque cells as a grey histogram (counts in its bins;
VOneNet's tabulation of Ringach's Fig. 4), the filters as dots, v1sim's own
Gabor cells (``filters.gabor_kernel`` at 1 and 2 octaves) as crosses; a fit
beyond the axes (a blob whose carrier frequency is ~0 has nx, ny ~ 0) is drawn
as an arrow at the edge and counted. (d) nx marginals; (e) preferred
orientation in De Valois, Yund & Hepler's (1982) four bins, 246 cells; (f)
spatial frequency: the fits' carrier frequency f (cycles/pixel) in cycles/degree
at 16 pixels/degree, the V1 benchmark's convention (128 pixels over 8 degrees,
at which it scores the ConvNet: 12 px = 0.75 deg), beside the peak spatial
frequencies of macaque cells (De Valois, Albrecht & Thorell 1982, on the V1
benchmark's bins). Every
number in the titles and legends is computed from the fits. Quick mode trains
the ConvNet for one epoch (about 17% Gabor-like) and runs a smaller ICA.

References: D. L. Ringach, "Spatial structure and symmetry of simple-cell
receptive fields in macaque primary visual cortex", J Neurophysiol 88
(2002) 455-463; B. A. Olshausen, D. J. Field, "Emergence of simple-cell
receptive field properties by learning a sparse code for natural images",
Nature 381 (1996) 607-609; A. J. Bell, T. J. Sejnowski, "The 'independent
components' of natural scenes are edge filters", Vision Res 37 (1997)
3327-3338; R. L. De Valois, E. W. Yund, N. Hepler, "The orientation and
direction selectivity of cells in macaque visual cortex", Vision Res 22
(1982) 531-544; R. L. De Valois, D. G. Albrecht, L. G. Thorell, "Spatial
frequency selectivity of cells in macaque visual cortex", Vision Res 22
(1982) 545-559.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from v1sim import biology, efficient_coding, filters
from v1sim.nn.natural import MIN_R2
from v1sim.physiology.convnet_units import load_run_network
from v1sim.plotting import count_histogram, kernel_mosaic, paper_style, save_figure

ICA_PATCH = 16
RUN = Path(__file__).resolve().parent / "data" / "sparse_conv_run"  # 8 epochs, seed 0 (docstring)
MARGIN = 1 / 8  # of the patch side: the envelope centre's least distance from the border
PPD = 16.0  # pixels per degree: the V1 benchmark's 128 pixels over 8 degrees
TICKS = (0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0)
X_LIMITS = (0.06, 3.0)  # nx: the data's bins (0.1-1.58) and room around them
Y_LIMITS = (0.06, 9.0)  # ny: the same, and room above for the legend
GABOR_TARGET = 0.6  # issue 14: at least 60% of conv1 Gabor-like
BLOB = 0.3  # nx and ny below this: a blob-like field (one subregion, hardly elongated)
TINY = 1e-3  # a fit with carrier frequency 0 has nx = ny = 0; the histograms count it in their lowest bin
COLOURS = {"ConvNet": "tab:blue", "ICA": "tab:orange", "V1": "0.45"}


@dataclass(frozen=True)
class Learned:
    """One learner's filters (K, p, p), their Gabor fits and which fits are kept."""

    name: str
    filters: np.ndarray
    fits: object
    keep: np.ndarray
    note: str
    gabor_fraction: float  # of all filters, R^2 >= MIN_R2 (no centring rule)

    @property
    def good(self):
        return self.fits.select(self.keep)


def _fitted(name, w, note=""):
    fits = biology.fit_gabor(w)
    side = w.shape[-1]
    inside = np.minimum(np.minimum(fits.x0, fits.y0), np.minimum(side - 1 - fits.x0, side - 1 - fits.y0))
    keep = (fits.r2 >= MIN_R2) & (inside >= MARGIN * side)
    return Learned(name, w, fits, keep, note, float(np.mean(fits.r2 >= MIN_R2)))


def _convnet():
    """conv1 of the committed sparse_conv run (RUN): its unit-norm filters, fitted."""
    model, run = load_run_network(RUN, checkpoint="last")
    w = np.asarray(model.conv1.unit_weight(), dtype=np.float64)[:, 0]
    learned = _fitted("ConvNet", w)
    epochs = (run.get("config") or {}).get("epochs")
    note = (
        f"v1sim train sparse_conv, {epochs} epochs (scripts/data/sparse_conv_run); "
        f"gabor_fraction {learned.gabor_fraction:.2f} (R$^2$ >= {MIN_R2} of all {len(w)})"
    )
    return dataclasses.replace(learned, note=note)


def _ica(quick):
    patches = efficient_coding.natural_patches(8000 if quick else 40000, ICA_PATCH, rng=1998)
    w = efficient_coding.ica_filters(patches, 25 if quick else 100, rng=0).filters
    return _fitted("ICA", w)


def _model_cells():
    """nx, ny of v1sim's Gabor simple cells, measured by the same fit (not taken from the formula)."""
    bank = [filters.gabor_kernel(0.12, bandwidth=b, phase=np.pi / 2, size=25, dtype=np.float64) for b in (1.0, 2.0)]
    fit = biology.fit_gabor(np.stack(bank))
    return fit.nx, fit.ny


def _picks(nx, n):
    """Indices of ``n`` fits spread evenly over the sorted nx values."""
    order = np.argsort(nx)
    return order[np.unique(np.linspace(0, len(order) - 1, n).round().astype(int))]


def _mosaic(ax, learned, label):
    good, kept = learned.good, learned.filters[learned.keep]
    side = learned.filters.shape[-1]
    picks = _picks(good.nx, 12 if len(good) >= 12 else min(len(good), 6))  # whole rows of filters over fits
    columns = min(6, len(picks))
    tiles, titles = [], []
    for row in range(0, len(picks), columns):
        chunk = picks[row : row + columns]
        tiles += [kept[i] for i in chunk] + [biology.gabor_model(good.params(i), (side, side)) for i in chunk]
        titles += [f"nx {good.nx[i]:.2f}" for i in chunk] + [""] * len(chunk)
    rows = ["filter", "fit"] * (len(picks) // columns)
    kernel_mosaic(ax, tiles, columns, titles=titles, row_labels=rows, vgap=0.4, fontsize=8)
    head = f"({label}) {learned.name}: {side}x{side} px filters and their Gabor fits"
    kept_line = f"kept {learned.keep.sum()} of {learned.keep.size} (R$^2$ >= {MIN_R2}, centred inside)"
    ax.set_title("\n".join([head, learned.note, kept_line] if learned.note else [head, kept_line]), pad=14)


def _edge_markers(x, y):
    """Positions inside the axes and a marker per point: 'o' inside, an arrow pointing out where it lies beyond."""
    (xlo, xhi), (ylo, yhi) = X_LIMITS, Y_LIMITS
    px, py = np.clip(x, xlo * 1.08, xhi / 1.08), np.clip(y, ylo * 1.08, yhi / 1.08)
    marker = np.where(x < xlo, "<", np.where(x > xhi, ">", np.where(y < ylo, "v", np.where(y > yhi, "^", "o"))))
    return px, py, marker


def _plane(ax, data, learners):
    edges, lo = data.edges, X_LIMITS[0]
    count_histogram(ax, edges, data.counts, fontsize=8)
    beyond = {}
    for learned in learners:
        good = learned.good
        px, py, marker = _edge_markers(good.nx, good.ny)
        beyond[learned.name] = int(np.sum(marker != "o"))
        for m in ("o", "<", ">", "v", "^"):
            sel = marker == m
            if sel.any():
                ax.scatter(
                    px[sel],
                    py[sel],
                    s=16 if m == "o" else 34,
                    marker=m,
                    color=COLOURS[learned.name],
                    alpha=0.85,
                    edgecolor="none",
                )
    model_nx, model_ny = _model_cells()
    for learned in learners:  # legend entries, with the count beyond the axes
        extra = f", {beyond[learned.name]} beyond the axes (arrows)" if beyond[learned.name] else ""
        ax.scatter([], [], s=16, color=COLOURS[learned.name], label=f"{learned.name} (n = {len(learned.good)}{extra})")
    ax.scatter(model_nx, model_ny, marker="x", s=40, color="tab:red", label="v1sim Gabor cells (1, 2 oct.)")
    ax.add_patch(plt.Rectangle((lo, lo), BLOB - lo, BLOB - lo, fill=False, ls=":", color="k", lw=0.8))
    ax.set(xscale="log", yscale="log", xlim=X_LIMITS, ylim=Y_LIMITS)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(FixedLocator(TICKS))
        axis.set_major_formatter(FixedFormatter([f"{t:g}" for t in TICKS]))
        axis.set_minor_locator(NullLocator())
    ax.set_xlabel("nx = $\\sigma_x f$  (width across subregions, periods)")
    ax.set_ylabel("ny = $\\sigma_y f$  (length, periods)")
    ax.legend(frameon=True, framealpha=0.9, loc="upper left", fontsize=8)  # above ny = 2.5: room left for it


def _blob_share(good):
    return float(np.mean((good.nx < BLOB) & (good.ny < BLOB)))


def _bars(ax, groups, tick_labels):
    """Side-by-side bars: ``groups`` is a list of (label, colour, fractions)."""
    x = np.arange(len(tick_labels))
    width = 0.8 / len(groups)
    for k, (label, colour, values) in enumerate(groups):
        ax.bar(x + (k - (len(groups) - 1) / 2) * width, values, width, color=colour, label=label)
    ax.set_xticks(x, tick_labels)
    ax.legend(frameon=False, loc="upper left", fontsize=8)


def main(out_dir, quick=False) -> Path:
    learners = [_convnet(), _ica(quick)]
    data = biology.ringach2002_nxny()
    edges = data.edges
    centre = np.sqrt(edges[:-1] * edges[1:])  # geometric bin centres for the data's median
    v1_blob = data.counts[: int(np.searchsorted(edges, BLOB)), : int(np.searchsorted(edges, BLOB))].sum() / data.n
    v1_median_nx = float(np.median(np.repeat(centre, data.counts.sum(axis=1))))
    oris = biology.devalois1982_orientation()
    sf = biology.v1_property("peak_spatial_frequency")

    with paper_style():
        fig = plt.figure(figsize=(16.0, 9.0))
        grid = fig.add_gridspec(
            2, 3, height_ratios=[1.1, 1.0], hspace=0.36, wspace=0.26, left=0.05, right=0.985, top=0.83, bottom=0.08
        )
        for k, learned in enumerate(learners):
            _mosaic(fig.add_subplot(grid[0, k]), learned, "ab"[k])
        ax = fig.add_subplot(grid[0, 2])
        _plane(ax, data, learners)
        shares = ", ".join(f"{lr.name} {_blob_share(lr.good):.0%}" for lr in learners)
        ax.set_title(
            f"(c) Ringach's nx-ny plane; grey: macaque V1 simple cells (n = {data.n})\n"
            f"dotted square, blob-like: V1 {v1_blob:.0%}, {shares}"
        )

        ax = fig.add_subplot(grid[1, 0])
        groups = [("macaque V1" + f" (median ~{v1_median_nx:.2f})", COLOURS["V1"], data.counts.sum(axis=1) / data.n)]
        for lr in learners:
            good = lr.good
            marginal = data.histogram(np.maximum(good.nx, TINY), np.maximum(good.ny, TINY)).sum(axis=1) / len(good)
            groups.append((f"{lr.name} (median {np.median(good.nx):.2f})", COLOURS[lr.name], marginal))
        _bars(ax, groups, [f"{a:.2f}-\n{b:.2f}" for a, b in zip(edges[:-1], edges[1:])])
        ax.set_xlabel("nx bin (the outermost bins include values beyond them)")
        ax.set_ylabel("fraction of cells / filters")
        dist = ", ".join(
            f"{lr.name} {data.distance(np.maximum(lr.good.nx, TINY), np.maximum(lr.good.ny, TINY)):.2f}"
            for lr in learners
        )
        ax.set_title(f"(d) nx marginals\ntotal-variation distance of the joint nx-ny histograms to V1: {dist}")

        ax = fig.add_subplot(grid[1, 1])
        groups = [
            (f"macaque V1 (n = {oris.n}), cardinal {oris.cardinal_fraction:.0%}", COLOURS["V1"], oris.counts / oris.n)
        ]
        for lr in learners:
            counts = oris.histogram(lr.good.theta)
            cardinal = (counts[0] + counts[2]) / counts.sum()
            groups.append(
                (f"{lr.name} (n = {counts.sum()}), cardinal {cardinal:.0%}", COLOURS[lr.name], counts / counts.sum())
            )
        _bars(ax, groups, [f"{c:.0f} deg" for c in oris.centres_deg])
        ax.axhline(0.25, color="k", ls=":", lw=0.8)
        ax.set_ylim(0, max(max(g[2]) for g in groups) * 1.45)
        ax.set_xlabel("preferred orientation (45-degree bins; dotted: uniform)")
        ax.set_ylabel("fraction of cells / filters")
        ax.set_title("(e) preferred orientation\n(De Valois, Yund & Hepler 1982)")

        ax = fig.add_subplot(grid[1, 2])
        bins = sf.bins
        groups = [(f"macaque V1 (n = {sf.n}, median {sf.median():.1f})", COLOURS["V1"], sf.counts / sf.n)]
        for lr in learners:
            cpd = lr.good.frequency * PPD
            idx = np.clip(np.searchsorted(bins, cpd, side="right") - 1, 0, len(bins) - 2)
            groups.append(
                (
                    f"{lr.name} (median {np.median(cpd):.1f})",
                    COLOURS[lr.name],
                    np.bincount(idx, minlength=len(bins) - 1) / len(cpd),
                )
            )
        _bars(ax, groups, [f"{b:g}" for b in bins[:-1]])
        ax.set_xlabel(
            f"spatial frequency, cycles/deg (bin's lower edge; the outermost bins include values beyond)\n"
            f"filters: Gabor-fit f (cycles/px) x {PPD:g} px/deg, the V1 benchmark's 128 px over 8 deg"
        )
        ax.set_ylabel("fraction of cells / filters")
        ax.set_title(
            "(f) spatial frequency: V1 peak SF (De Valois, Albrecht & Thorell 1982)\n"
            "beside the filters' carrier frequency"
        )

        convnet, ica = learners
        fig.suptitle(_verdict(convnet, ica, v1_median_nx, v1_blob), fontsize=11)
        return save_figure(fig, Path(out_dir) / "learned_rf_vs_v1.png")


def _verdict(convnet, ica, v1_median_nx, v1_blob) -> str:
    """The figure's title, from the fits: the ConvNet's Gabor share and how each learner's nx compares with V1's."""
    share = convnet.gabor_fraction
    lines = [
        f"Filters learned from natural images beside macaque V1: {share:.0%} of the sparse-coding ConvNet's "
        f"conv1 filters are Gabor-like (R$^2$ >= {MIN_R2}), "
        + ("as V1 simple cells are" if share >= GABOR_TARGET else f"short of the {GABOR_TARGET:.0%} asked of it")
    ]
    parts = []
    for lr in (convnet, ica):
        good = lr.good
        more = np.median(good.nx) > v1_median_nx
        blobs = _blob_share(good)
        parts.append(
            f"{lr.name}: median nx {np.median(good.nx):.2f} "
            f"({'more' if more else 'no more'} subregions than V1's ~{v1_median_nx:.2f}), "
            f"{blobs:.0%} blob-like (V1 {v1_blob:.0%})"
        )
    lines.append("; ".join(parts))
    return "\n".join(lines)


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures", quick="--quick" in sys.argv))
