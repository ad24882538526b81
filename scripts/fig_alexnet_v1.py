"""AlexNet's first layers beside macaque V1: conv1 filters, their Gabor fits on Ringach's plane, colour, V1 scores.

The lecture's claim that a ConvNet trained on photographs learns Gabor-like
first-layer filters, tested on the network it is made about: torchvision's
AlexNet (64/192/384/256/256 channels, zoo name ``alexnet-torchvision``). Pass
an exported ImageNet state dict with ``v1sim figures alexnet_v1 --weights
alexnet.npz`` (export: ``numpy.savez(path, **{k: v.numpy() for k, v in
model.state_dict().items()})``); without one the figure draws the untrained
network (random initialisation, seed 0) and its title says so. v1sim never
imports torch.

Every filter is taken as it acts on pixels: conv1's weights divided by
ImageNet's per-channel std (the network sees ``(x - mean) / std``), so a
filter is a (3, 11, 11) kernel over the image's RGB in [0, 1].

Panels: (a) the 64 conv1 filters in colour, each scaled on its own (zero is
mid-grey). (b) Their achromatic part, the mean ``(R + G + B) / 3`` of the
three channels, fitted with Ringach's (2002) Gabor
(:func:`v1sim.biology.fit_gabor`): a grey stimulus (R = G = B) sees exactly
this field of a filter, and the macaque fields the filters are compared with
were mapped with grey stimuli, as the V1 benchmark in panel (e) probes the
network (grey in every channel); eight fits spread over nx are shown. (A
perceptual luminance such as Rec. 601's ``0.299 R + 0.587 G + 0.114 B`` would
fit a field no grey stimulus measures.) (c) The fits that
explain at least half of their filter's variance, on Ringach's nx-ny plane
beside his 79 simple cells (grey histogram, as
``scripts/fig_learned_rf_vs_v1.py`` draws it), the colour-opponent filters
(index above 0.5, panel d) in purple: their luminance is what a grey
stimulus sees of them. (d) A colour-opponency index
per filter: each pixel's RGB projected onto an orthonormal achromatic axis
(1, 1, 1)/sqrt 3 and two opponent axes, red-green (1, -1, 0)/sqrt 2 and
yellow-blue (1, 1, -2)/sqrt 6; the index is the share of the filter's energy
in the two opponent components (0 for a grey filter, 1 for a pure
red-minus-green one, 2/3 expected of a filter with independent random
weights, as two of the three axes are chromatic); above 0.5 a filter counts as
colour-opponent. (e) The most opponent
filters: ImageNet-trained AlexNet learns a group of low-frequency colour-blob
filters beside its achromatic Gabors (Krizhevsky et al. 2012, Fig. 3).
(f) The V1 benchmark (Marques, Schrimpf & DiCarlo 2021;
:func:`v1sim.biology.score_population`, seed 0) of conv1, conv2 and conv3,
read after their ReLU, on 16 units each drawn with seed 0 (``v1sim
benchmark``'s ``--units``), with grey gratings in every RGB channel,
ImageNet-normalised, over an 8-degree field at the network's 224 pixels.

Speed: a unit at the centre of a layer's map sees only its receptive field
(11, 51 and 99 pixels for conv1-3), so :class:`v1sim.physiology.ConvNetLayer`
runs each layer on the smallest central crop of the benchmark's 224-pixel
images that holds that field without touching a zero padding, aligned to the
layer's stride (13, 57 and 113 pixels; ``centre_crop``, as ``v1sim benchmark``
does); the responses equal those of the whole image up to float32 rounding
(tests check it), at a fraction of the cost. Quick mode fits 16 filters and
scores conv1 on 4 units.

References: A. Krizhevsky, I. Sutskever, G. E. Hinton, "ImageNet
classification with deep convolutional neural networks", NIPS 2012;
D. L. Ringach, "Spatial structure and symmetry of simple-cell receptive fields
in macaque primary visual cortex", J Neurophysiol 88 (2002) 455-463;
T. Marques, M. Schrimpf, J. J. DiCarlo, "Multi-scale hierarchical neural
network models that bridge from single neurons in the primate primary visual
cortex to object recognition behavior", bioRxiv 2021.03.01.433495.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from v1sim import biology
from v1sim.biology.benchmark import score_population
from v1sim.errors import InputError
from v1sim.nn import models
from v1sim.physiology import ConvNetLayer
from v1sim.plotting import count_histogram, kernel_mosaic, paper_style, save_figure
from v1sim.visualize import tile

MODEL = "alexnet-torchvision"
SEED = 0
GREY = (1 / 3, 1 / 3, 1 / 3)  # what a grey stimulus (R = G = B) sees of an RGB filter, up to scale
#: rows: achromatic, red-green, yellow-blue; orthonormal, so the three components' energies add up to the filter's
OPPONENT_AXES = np.array(
    [
        np.array([1.0, 1.0, 1.0]) / np.sqrt(3.0),
        np.array([1.0, -1.0, 0.0]) / np.sqrt(2.0),
        np.array([1.0, 1.0, -2.0]) / np.sqrt(6.0),
    ]
)
LAYERS = ("conv1", "conv2", "conv3")
UNITS = 16  # per layer: v1sim benchmark --units 16
MIN_R2 = 0.5
OPPONENT = 0.5  # opponency index above which a filter counts as colour-opponent (most of its energy chromatic)
FOV = 8.0  # degrees, Marques et al.
TICKS = (0.1, 0.2, 0.3, 0.5, 1.0, 1.5)


def luminance(weights, coefficients=GREY) -> np.ndarray:
    """The achromatic part of RGB filters, ``sum_c coefficients[c] * weights[:, c]``: (K, 3, kh, kw) -> (K, kh, kw).

    The default, the channel mean, is the field a grey stimulus (R = G = B) sees, up to a factor 3.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 4 or w.shape[1] != len(coefficients):
        raise InputError(f"weights must be (K, {len(coefficients)}, kh, kw), got shape {w.shape}", argument="weights")
    return np.tensordot(np.asarray(coefficients, dtype=np.float64), w, axes=([0], [1]))


def opponency_index(weights) -> np.ndarray:
    """Share of each RGB filter's energy in the two colour-opponent components, (K, 3, kh, kw) -> (K,) in [0, 1].

    Each pixel's (R, G, B) is projected onto :data:`OPPONENT_AXES` (achromatic,
    red-green, yellow-blue; orthonormal); the index is the opponent
    components' summed squares over the filter's total. A filter with zero
    energy gets NaN.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 4 or w.shape[1] != 3:
        raise InputError(f"weights must be (K, 3, kh, kw), got shape {w.shape}", argument="weights")
    components = np.tensordot(OPPONENT_AXES, w, axes=([1], [1]))  # (3, K, kh, kw)
    energy = (components**2).sum(axis=(2, 3))
    total = energy.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, energy[1:].sum(axis=0) / total, np.nan)


def pixel_filters(model) -> np.ndarray:
    """conv1's weights as kernels over the image's RGB in [0, 1]: divided by the input std the weights expect."""
    w = np.asarray(model.conv1.weight.data, dtype=np.float64)
    norm = getattr(model, "input_normalization", None)
    return w if norm is None else w / np.asarray(norm.std, dtype=np.float64)[None, :, None, None]


class SampledUnits:
    """``keep`` units of a population, in order: the benchmark's ``--units`` draw over a :class:`ConvNetLayer`."""

    def __init__(self, population: ConvNetLayer, keep):
        self.population, self.ppd, self.image_size = population, population.ppd, population.image_size
        self.keep = np.asarray(keep, dtype=np.intp)
        self.n_units = int(self.keep.size)

    def responses(self, images) -> np.ndarray:
        """(N, image_size, image_size) images -> (N, n_units) rectified responses of the kept centre units."""
        return self.population.responses(images)[:, self.keep]


def layer_population(model, layer, units=None, seed=SEED):
    """``layer`` of ``model`` as ``v1sim benchmark MODEL --layer LAYER --units UNITS --seed SEED`` sees it.

    Its centre units are computed on the smallest central crop that holds their receptive field
    (:class:`ConvNetLayer`'s ``centre_crop``, on by default).
    """
    side = models.MODELS[MODEL].input_shape[1]
    full = ConvNetLayer(model, layer, fov=FOV, image_size=side, in_channels=3)
    if units is None:
        return full
    # the benchmark's draw (biology.benchmark_models' subsample)
    keep = np.sort(np.random.default_rng(seed).choice(full.n_units, min(units, full.n_units), replace=False))
    return SampledUnits(full, keep)


def _fits(filters):
    lum = luminance(filters)
    fits = biology.fit_gabor(lum)
    side = lum.shape[-1]
    inside = np.minimum(np.minimum(fits.x0, fits.y0), np.minimum(side - 1 - fits.x0, side - 1 - fits.y0))
    return lum, fits, (fits.r2 >= MIN_R2) & (inside >= 1.0)


def _picks(nx, n):
    order = np.argsort(nx)
    return order[np.unique(np.linspace(0, len(order) - 1, n).round().astype(int))]


def _nxny_plane(ax, good, opponent):
    data = biology.ringach2002_nxny()
    edges = data.edges
    centre = count_histogram(ax, edges, data.counts, fontsize=7)
    clip = (edges[0] * 1.08, edges[-1] / 1.08)  # fits beyond the data's range sit just inside its border
    for mask, colour, what in ((~opponent, "tab:orange", "achromatic"), (opponent, "tab:purple", "colour-opponent")):
        ax.scatter(
            np.clip(good.nx[mask], *clip),
            np.clip(good.ny[mask], *clip),
            s=16,
            color=colour,
            alpha=0.85,
            edgecolor="none",
            label=f"conv1 fits, {what} filters (n = {int(mask.sum())})",
        )
    ax.set(xscale="log", yscale="log", xlim=(edges[0], edges[-1]), ylim=(edges[0], edges[-1]))
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(FixedLocator(TICKS))
        axis.set_major_formatter(FixedFormatter([f"{t:g}" for t in TICKS]))
        axis.set_minor_locator(NullLocator())
    ax.set_xlabel("nx = sigma_x f  (width across subregions, periods)")
    ax.set_ylabel("ny = sigma_y f  (length, periods)")
    v1_median = float(np.median(np.repeat(centre, data.counts.sum(axis=1))))
    net_median = f"{np.median(good.nx):.2f}" if len(good) else "(no fit kept)"
    ax.set_title(
        f"(c) Ringach's nx-ny plane: macaque simple cells (grey, n = {data.n})\n"
        f"median nx: V1 ~{v1_median:.2f}, conv1 {net_median}"
    )
    ax.legend(frameon=True, framealpha=0.9, loc="upper left", fontsize=7)
    return net_median


def _rgb_tiles(ax, filters, columns, title, labels=None):
    pad = 2 if labels is None else 5  # room under each tile for its label
    images = tile(filters.transpose(0, 2, 3, 1), columns=columns, scale="symmetric", pad=pad, fill=1.0)
    ax.imshow(images, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title)
    if labels is not None:
        kh, kw = filters.shape[2:]
        for i, text in enumerate(labels):
            r, c = divmod(i, columns)
            ax.text(c * (kw + pad) + kw / 2 - 0.5, r * (kh + pad) + kh, text, ha="center", va="top", fontsize=7)


def _scores_panel(ax, scores):
    names = list(scores)
    for i, name in enumerate(names):
        s = scores[name]
        ax.bar(i, s.score, 0.6, color="tab:orange")
        props = np.array([p.score for p in s.properties.values()], dtype=float)
        props = props[np.isfinite(props)]
        jitter = np.linspace(-0.2, 0.2, len(props)) if len(props) > 1 else np.zeros(len(props))
        ax.scatter(i + jitter, props, s=9, color="k", zorder=3, label="properties" if i == 0 else None)
    ax.axhline(1.0, color="0.4", ls="--", lw=0.8)
    ax.text(len(names) - 0.5, 1.0, "ceiling", ha="right", va="bottom", fontsize=7, color="0.3")
    labels = [f"{n}\n{scores[n].score:.2f} ({scores[n].n_responsive}/{scores[n].n_units})" for n in names]
    ax.set_xticks(range(len(names)), labels)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("ceiled V1 score")
    ax.set_title(
        "(f) V1 benchmark (Marques et al. 2021), conv layers after ReLU\n"
        "bar: mean property score; label: score (responsive/units)"
    )
    ax.legend(frameon=False, loc="upper left", fontsize=7)


def main(out_dir, quick=False, weights=None) -> Path:
    model = models.build(MODEL, rng=SEED, weights=weights)
    filters = pixel_filters(model)
    fitted = filters[:16] if quick else filters
    lum, fits, keep = _fits(fitted)
    good = fits.select(keep)
    index = opponency_index(filters)
    layers, units = (LAYERS[:1], 4) if quick else (LAYERS, UNITS)
    scores = {layer: score_population(layer_population(model, layer, units), rng=SEED) for layer in layers}

    with paper_style():
        fig, axes = plt.subplots(2, 3, figsize=(15.5, 10.0), gridspec_kw={"height_ratios": [1.1, 1]})
        fig.subplots_adjust(left=0.05, right=0.985, bottom=0.07, top=0.86, wspace=0.28, hspace=0.42)
        _rgb_tiles(axes[0, 0], filters, 8, f"(a) the {len(filters)} conv1 filters (RGB, each scaled; 0 = grey)")

        ax = axes[0, 1]
        picks = _picks(fits.nx, min(8, len(fits)))
        tiles = [lum[i] for i in picks] + [biology.gabor_model(fits.params(i), lum.shape[1:]) for i in picks]
        titles = [f"R2 {fits.r2[i]:.2f}" for i in picks] + [f"nx {fits.nx[i]:.2f}" for i in picks]
        kernel_mosaic(ax, tiles, len(picks), titles=titles, row_labels=["luminance", "Gabor fit"], vgap=0.35)
        ax.set_title(
            f"(b) conv1 filters as grey stimuli see them, (R+G+B)/3, and their Gabor fits\n"
            f"{int(keep.sum())} of {len(fits)} fits explain >= {MIN_R2:.0%} of the variance "
            f"(median R2 {np.median(fits.r2):.2f})",
            pad=16,
        )

        net_median = _nxny_plane(axes[0, 2], good, index[: len(fits)][keep] > OPPONENT)

        ax = axes[1, 0]
        ax.hist(index, bins=np.linspace(0, 1, 21), color="tab:purple", edgecolor="white")
        ax.axvline(2 / 3, color="k", ls="--", lw=0.8)
        ax.text(2 / 3, ax.get_ylim()[1] * 0.95, "random RGB\nweights: 2/3 ", fontsize=7, va="top", ha="right")
        ax.set_xlabel("colour-opponency index (chromatic share of filter energy)")
        ax.set_ylabel("conv1 filters")
        opponent = int(np.sum(index > OPPONENT))
        ax.set_title(
            f"(d) colour opponency: {opponent} of {len(index)} filters above {OPPONENT}\n0 = grey, 1 = purely chromatic"
        )

        order = np.argsort(-index)[:8]
        _rgb_tiles(
            axes[1, 1], filters[order], 4, "(e) the 8 most colour-opponent filters", [f"{index[i]:.2f}" for i in order]
        )
        _scores_panel(axes[1, 2], scores)

        source = (
            f"weights from {Path(weights).name}"
            if weights is not None
            else f"UNTRAINED (random initialisation, seed {SEED}; pass --weights for trained ones)"
        )
        summary = ", ".join(f"{k} {s.score:.2f}" for k, s in scores.items())
        fig.suptitle(
            f"AlexNet (torchvision's 64-channel conv1), {source}\n"
            f"Gabor-like (R2 >= {MIN_R2}): {int(keep.sum())}/{len(fits)}, median nx {net_median}; "
            f"colour-opponent: {opponent}/{len(index)}; V1 scores {summary}",
            fontsize=11,
        )
        return save_figure(fig, Path(out_dir) / "alexnet_v1.png")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    given = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--weights=")), None)
    print(main(args[0] if args else "figures", quick="--quick" in sys.argv, weights=given))
