"""Feature visualisation of LeNet-5 on digits and of the natural-image ConvNet: filters, top patches, maximisation.

What the lecture's Zeiler & Fergus slides show, for v1sim's own LeNet-5 trained
on the embedded digits (2 epochs of its ``v1sim train`` recipe through
:func:`v1sim.nn.recipes.train_steps`, seed 0; about 5 s on two cores):

* the six C1 filters as images (zero is mid-grey) and the sixteen C3 filters,
  each by its strongest input channel (:func:`v1sim.visualize.filter_images`);
* for four C3 units, the nine of the 1,000 test digits that drive each hardest,
  cropped to the unit's 14x14 receptive field (Zeiler & Fergus 2014;
  :func:`v1sim.visualize.top_patches`);
* for the same units, the input found by gradient ascent through the network's
  own backward pass (:func:`v1sim.visualize.maximize_activation`: L2 penalty
  0.01, Gaussian blur of 0.5 px every 4 steps, pixels clipped to [0, 1];
  Simonyan et al. 2014, Yosinski et al. 2015), ink dark, cropped to the field;
* the receptive-field size of each layer computed through the layers
  (:func:`v1sim.visualize.receptive_fields`): 5, 6, 14, 16 and 32 pixels, C5
  seeing the whole 32x32 input.

The functions take any :class:`v1sim.nn.Module`; the bottom row shows the
natural-image ConvNet (``sparse_conv``, the committed run
``scripts/data/sparse_conv_run``: ``v1sim train sparse_conv --epochs 8 --seed 0``)
the same way: its 64 conv1 filters (Gabor-like, as V1 simple cells), the whitened
natural patches (24 x 24, :func:`v1sim.nn.natural.whitened_patches`, 2,000 drawn
with seed 0) that drive four of its units hardest, cropped to their 12-pixel field,
and the inputs found by gradient ascent (pixels within +-0.5 around a zero
background, the whitened patches' range; the same regulariser). The four units
are those whose filters concentrate the largest share of their Fourier power in
one frequency pair (the most grating-like), computed from the weights.

The last row does the same ascent on the Neocognitron (Fukushima 1980), which
has no backward pass: four UC1 units (its fixed oriented-edge stage, pooled),
the gradient of each unit's response by central differences (step 0.01) over
its 13x13 receptive field, the 338 perturbed images of a step in one batched
forward (:mod:`v1sim.visualize.finite_difference`), with the same objective,
L2 penalty, blur and step rule; beside them the response at each step. About
3 s of the figure's time. Quick mode trains LeNet-5 for 10 steps, searches 200
test digits and 200 natural patches, and ascends 3 steps.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np

from v1sim.datasets import load_digits
from v1sim.hierarchy import make_model
from v1sim.nn import Sequential
from v1sim.nn.natural import whitened_patches
from v1sim.nn.recipes import prepare_images, train_steps
from v1sim.physiology.convnet_units import load_run_network
from v1sim.plotting import paper_style, save_figure
from v1sim.visualize import layer_weights, maximize_activation, receptive_fields, top_patches
from v1sim.visualize.plots import plot_filters, plot_maximizations, plot_receptive_fields

SEED = 0
EPOCHS = 2  # 2 x 79 steps of 64 digits
LAYER = "c3"  # units read before their tanh, so the ranking and the ascent do not saturate
UNITS = (0, 1, 2, 3)
TOP_K = 9
STEPS = 60  # activation-maximisation steps per unit
NATURAL_RUN = Path(__file__).resolve().parent / "data" / "sparse_conv_run"
NATURAL_SIDE = 24  # pixels of the natural patches searched (two 12-pixel fields)
NEO_LAYER = "UC1"  # the Neocognitron's pooled edge stage: a 13-pixel field, 2 x 169 images a step
NEO_UNITS = (0, 2, 4, 6)  # every other one of its 8 orientation planes
NEO_STEPS = 40  # finite-difference steps per unit (about 0.8 s each on two cores)


def _top_rows(fig, cell, top, label=LAYER, what="test digits", ink=True):
    """Top-k patches of each unit as one row of tiles in the grid cell ``cell`` (ink dark, or each patch stretched)."""
    from v1sim.visualize import tile

    grid = cell.subgridspec(len(top.units), 1, hspace=0.15)
    for u, unit in enumerate(top.units):
        ax = fig.add_subplot(grid[u, 0])
        crops = top.crops[u][:, 0]
        columns = top.crops.shape[1]
        shown = 1 - tile(crops, columns=columns, scale="none", fill=0.0) if ink else tile(crops, columns=columns)
        ax.imshow(shown, cmap="gray")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_ylabel(f"{label}[{unit}]", rotation=0, ha="right", va="center")
        if u == 0:
            ax.set_title(f"top {top.crops.shape[1]} {what} per unit, cropped to the {top.field.size[0]} px field")


def grating_like_units(weights, n=4) -> np.ndarray:
    """The ``n`` filters (K, 1, h, w) with the most Fourier power at one frequency pair (+-f), best first."""
    power = np.abs(np.fft.fft2(np.asarray(weights, dtype=np.float64)[:, 0])) ** 2
    flat = power.reshape(len(power), -1)
    share = 2 * flat.max(axis=1) / np.maximum(flat.sum(axis=1), 1e-30)  # +f and -f carry equal power
    return np.argsort(-share, kind="stable")[:n]


def natural_row(quick):
    """The natural ConvNet's conv1: weights, top patches of four units and their maximising inputs."""
    trained, run = load_run_network(NATURAL_RUN)
    model = Sequential(OrderedDict(conv1=trained.conv1))  # the encoder: the tied decoder only serves training
    weights = layer_weights(model, "conv1")
    units = [int(u) for u in grating_like_units(weights)]
    patches = whitened_patches(200 if quick else 2000, NATURAL_SIDE, rng=SEED)
    top = top_patches(model, "conv1", patches, k=6, units=units)
    side = model.conv1.kernel_size[0]
    maxima = [
        maximize_activation(
            model, "conv1", u, input_shape=(1, side, side), steps=5 if quick else STEPS, bounds=(-0.5, 0.5), rng=SEED
        )
        for u in units
    ]
    return weights, top, maxima, len(patches), run["config"]["epochs"]


def _signed_images(axes, maxima, label):
    """Maximising inputs of signed pixels (zero mid-grey, as the filters are shown)."""
    for ax, r in zip(axes, maxima):
        peak = float(np.abs(r.image).max()) or 1.0
        ax.imshow(r.image[0], cmap="gray", vmin=-peak, vmax=peak)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(f"{label}[{r.unit}]\na = {r.responses[-1]:.2f}")


def _neocognitron_row(fig, cell, maxima):
    """The Neocognitron's maximising inputs (ink dark) and their response at each step."""
    row = cell.subgridspec(1, 2, width_ratios=[2.0, 1.2], wspace=0.3)
    images = row[0].subgridspec(1, len(maxima), wspace=0.1)
    axes = [fig.add_subplot(images[0, i]) for i in range(len(maxima))]
    plot_maximizations(maxima, axes=axes, label=NEO_LAYER)
    side = maxima[0].image.shape[-1]
    axes[0].text(
        -0.15,
        0.5,
        f"Neocognitron {NEO_LAYER}\n(no backward pass:\nfinite differences\nover the {side} px field)",
        transform=axes[0].transAxes,
        ha="right",
        va="center",
    )
    ax = fig.add_subplot(row[1])
    for r in maxima:
        ax.plot(r.responses, label=f"{NEO_LAYER}[{r.unit}]")
    ax.set_xlabel("ascent step")
    ax.set_ylabel("response a (UC1 output)")
    ax.set_title("the response climbs (blur every 4 steps)")
    ax.legend(fontsize=7, frameon=False)


def main(out_dir, quick=False) -> Path:
    import matplotlib.pyplot as plt

    x, y = load_digits("train")
    xt, _ = load_digits("test")
    steps = 10 if quick else EPOCHS * -(-len(x) // 64)
    model = train_steps("lenet5", x, y, steps=steps, seed=SEED)
    images = prepare_images(xt[:200] if quick else xt, (1, 32, 32))
    fields = receptive_fields(model, (1, 32, 32))
    top = top_patches(model, LAYER, images, k=TOP_K, units=list(UNITS))
    maxima = [
        maximize_activation(model, LAYER, u, input_shape=(1, 32, 32), steps=5 if quick else STEPS, rng=SEED)
        for u in UNITS
    ]
    natural_weights, natural_top, natural_maxima, n_patches, natural_epochs = natural_row(quick)
    neocognitron = make_model("neocognitron")
    neo_maxima = [
        maximize_activation(neocognitron, NEO_LAYER, u, steps=3 if quick else NEO_STEPS, rng=SEED) for u in NEO_UNITS
    ]
    with paper_style():
        fig = plt.figure(figsize=(11.0, 12.6))
        outer = fig.add_gridspec(4, 1, height_ratios=[1.0, 1.25, 1.15, 0.8], hspace=0.45, bottom=0.05, top=0.91)
        row1 = outer[0].subgridspec(1, 3, width_ratios=[1.0, 1.0, 1.5], wspace=0.35)
        plot_filters(layer_weights(model, "c1"), "C1: the six 5x5 filters", ax=fig.add_subplot(row1[0]), columns=3)
        plot_filters(
            layer_weights(model, LAYER), "C3: 16 filters, strongest input map", ax=fig.add_subplot(row1[1]), columns=4
        )
        plot_receptive_fields(fields, ax=fig.add_subplot(row1[2]), input_side=32)
        row2 = outer[1].subgridspec(1, 2, width_ratios=[2.2, 1.0], wspace=0.15)
        _top_rows(fig, row2[0], top)
        max_grid = row2[1].subgridspec(2, 2, hspace=0.45, wspace=0.1)
        axes = [fig.add_subplot(max_grid[i // 2, i % 2]) for i in range(len(UNITS))]
        plot_maximizations(maxima, axes=axes, label=LAYER, field=fields[LAYER])
        gain = np.mean([r.responses[-1] - r.responses[0] for r in maxima])
        axes[-1].text(
            -0.05,
            -0.22,
            f"activation maximisation, cropped to the field (response gain {gain:.2f} on average)",
            transform=axes[-1].transAxes,
            ha="center",
            va="top",
            fontsize=8,
        )
        row3 = outer[2].subgridspec(1, 3, width_ratios=[1.0, 1.6, 1.0], wspace=0.45)
        k, side = natural_weights.shape[0], natural_weights.shape[-1]
        plot_filters(
            natural_weights,
            f"natural ConvNet conv1:\n{k} {side}x{side} filters (sparse coding)",
            ax=fig.add_subplot(row3[0]),
            columns=8,
        )
        what = f"of {n_patches} whitened\nnatural patches"
        _top_rows(fig, row3[1], natural_top, label="conv1", what=what, ink=False)
        nat_grid = row3[2].subgridspec(2, 2, hspace=0.5, wspace=0.1)
        _signed_images(
            [fig.add_subplot(nat_grid[i // 2, i % 2]) for i in range(len(natural_maxima))], natural_maxima, "conv1"
        )
        _neocognitron_row(fig, outer[3], neo_maxima)
        fig.suptitle(
            f"What LeNet-5 learned on digits ({steps} SGD steps): C3 units see {fields[LAYER].size[0]} px, "
            f"C5 the whole {fields['c5'].size[0]} px input\nthird row: the natural-image ConvNet (sparse_conv, "
            f"{natural_epochs} epochs on whitened photographs): conv1's filters, top patches and maximising inputs;\n"
            "bottom: the Neocognitron, maximised without a backward pass"
        )
        return save_figure(fig, Path(out_dir) / "feature_visualization.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures", quick="--quick" in sys.argv))
