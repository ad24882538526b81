"""Feature visualisation of LeNet-5 on digits: filters, top patches, activation maximisation, receptive fields.

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

The functions take any :class:`v1sim.nn.Module`, so another network (the
natural-image ConvNet) can be added as a second row. Quick mode trains 10 steps
and searches 200 test digits.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from v1sim.datasets import load_digits
from v1sim.nn.recipes import prepare_images, train_steps
from v1sim.plotting import paper_style, save_figure
from v1sim.visualize import layer_weights, maximize_activation, receptive_fields, top_patches
from v1sim.visualize.plots import plot_filters, plot_maximizations, plot_receptive_fields

SEED = 0
EPOCHS = 2  # 2 x 79 steps of 64 digits
LAYER = "c3"  # units read before their tanh, so the ranking and the ascent do not saturate
UNITS = (0, 1, 2, 3)
TOP_K = 9
STEPS = 60  # activation-maximisation steps per unit


def _top_rows(fig, cell, top):
    """Top-k patches of each unit as one row of tiles in the grid cell ``cell``."""
    from v1sim.visualize import tile

    grid = cell.subgridspec(len(top.units), 1, hspace=0.15)
    for u, unit in enumerate(top.units):
        ax = fig.add_subplot(grid[u, 0])
        ax.imshow(1 - tile(top.crops[u][:, 0], columns=top.crops.shape[1], scale="none", fill=0.0), cmap="gray")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_ylabel(f"{LAYER}[{unit}]", rotation=0, ha="right", va="center")
        if u == 0:
            ax.set_title(f"top {TOP_K} test digits per unit, cropped to the {top.field.size[0]} px field")


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
    with paper_style():
        fig = plt.figure(figsize=(11.0, 7.2))
        outer = fig.add_gridspec(2, 1, height_ratios=[1.0, 1.25], hspace=0.35, bottom=0.08)
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
        fig.text(
            0.8,
            0.01,
            f"activation maximisation, cropped to the field\n(response gain {gain:.2f} on average)",
            ha="center",
            va="bottom",
            fontsize=8,
        )
        fig.suptitle(
            f"What LeNet-5 learned on digits ({steps} SGD steps): C3 units see {fields[LAYER].size[0]} px, "
            f"C5 the whole {fields['c5'].size[0]} px input"
        )
        return save_figure(fig, Path(out_dir) / "feature_visualization.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures", quick="--quick" in sys.argv))
