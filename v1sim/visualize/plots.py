"""Matplotlib panels of the feature visualisations, shared by ``v1sim visualize`` and the gallery.

Each function draws on axes it is given (or a new figure) and returns the
figure; :func:`v1sim.plotting.save_figure` writes it. Images are shown as
they are: grey maps with ink (1) dark (``ink=False``: photographs, bright as they are), filters with zero
at mid-grey.
"""

from __future__ import annotations

import numpy as np

from .mosaic import filter_images, tile

__all__ = ["plot_activation_maps", "plot_filters", "plot_maximizations", "plot_receptive_fields", "plot_top_patches"]


def _figure(ax, size):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=size)
    return fig, ax


def _bare(ax):
    """No ticks and no frame: an image panel."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _show(ax, image, title, cmap="gray"):
    ax.imshow(image, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    _bare(ax)
    ax.set_title(title)


def plot_filters(weights, title, *, ax=None, columns=None, channel="strongest"):
    """A mosaic of a (K, C, kh, kw) bank, each filter by its strongest input channel or in colour (zero is mid-grey).

    ``channel``: as :func:`filter_images` (``"rgb"`` for a first layer over RGB images).
    """
    fig, ax = _figure(ax, (3.2, 3.2))
    images, _ = filter_images(weights, channel=channel)
    _show(ax, tile(images, columns=columns, scale="symmetric", fill=1.0), title, cmap="gray")
    return fig


def plot_activation_maps(image, outputs, *, channels=6, fig=None, ink=True):
    """The input and, one row per layer, the first ``channels`` maps of each (N=1) layer output with a map."""
    import matplotlib.pyplot as plt

    spatial = {k: v[0] for k, v in outputs.items() if v.ndim == 4 and v.shape[2] > 1}
    rows = len(spatial) + 1
    fig = fig or plt.figure(figsize=(1.1 * (channels + 1) + 0.6, 1.15 * rows + 0.4))
    grid = fig.add_gridspec(rows, channels)
    shown = np.clip(image[0], 0, 1)
    _show(fig.add_subplot(grid[0, 0]), 1 - shown if ink else shown, "input")
    for r, (name, maps) in enumerate(spatial.items(), start=1):
        peak = float(np.abs(maps).max()) or 1.0
        for c in range(min(channels, len(maps))):
            ax = fig.add_subplot(grid[r, c])
            ax.imshow(maps[c], cmap="RdBu_r", vmin=-peak, vmax=peak, interpolation="nearest")
            _bare(ax)
            if c == 0:
                ax.set_ylabel(f"{name}\n{maps.shape[1]}x{maps.shape[2]}", fontsize=7)
    return fig


def plot_top_patches(top, *, fig=None, label="unit", ink=True):
    """One row per unit: its top-k input patches (cropped to the receptive field), best first, ink dark."""
    import matplotlib.pyplot as plt

    units, k = top.values.shape
    fig = fig or plt.figure(figsize=(0.75 * k + 0.9, 0.78 * units + 0.6))
    for u in range(units):
        ax = fig.add_subplot(units, 1, u + 1)
        crops = top.crops[u][:, 0] if top.crops.shape[2] == 1 else top.crops[u].transpose(0, 2, 3, 1)
        mosaic = tile(np.clip(crops, 0, 1), columns=k, scale="none", fill=0.0)
        ax.imshow(1 - mosaic if ink else mosaic, cmap="gray", vmin=0, vmax=1)
        _bare(ax)
        ax.set_ylabel(f"{label} {top.units[u]}", rotation=0, ha="right", va="center", fontsize=7)
    return fig


def plot_maximizations(results, *, axes=None, label="unit", field=None, ink=True):
    """Each activation-maximisation image (ink dark), titled with its unit and final response.

    With the layer's :class:`ReceptiveField` ``field``, each image is cropped to the unit's field.
    """
    import matplotlib.pyplot as plt

    from .activations import crop

    if axes is None:
        fig, axes = plt.subplots(1, len(results), figsize=(1.1 * len(results) + 0.4, 1.5), squeeze=False)
        axes = axes[0]
    for ax, r in zip(axes, results):
        img = r.image if field is None else crop(r.image, field, *r.position)
        image = img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)
        image = np.clip(image, 0, 1)
        _show(ax, 1 - image if ink else image, f"{label}[{r.unit}]\na = {r.responses[-1]:.2f}")
    return axes[0].figure


def plot_receptive_fields(fields, *, ax=None, input_side=None):
    """Receptive-field size (pixels) of each layer with a new field, as bars labelled with size / jump."""
    fig, ax = _figure(ax, (4.0, 2.6))
    names, sizes, jumps, last = [], [], [], None
    for name, f in fields.items():
        if "." in name or (last is not None and (f.size, f.jump) == last):
            continue  # nested layers, and layers that do not change the field (activations)
        names.append(name)
        sizes.append(f.size[0])
        jumps.append(f.jump[0])
        last = (f.size, f.jump)
    bars = ax.bar(range(len(names)), sizes, color="#4c72b0")
    for bar, s, j in zip(bars, sizes, jumps):
        ax.text(bar.get_x() + bar.get_width() / 2, s, f"{s} / {j}", ha="center", va="bottom", fontsize=6)
    if input_side is not None:
        ax.axhline(input_side, color="0.4", lw=0.8, ls="--")
        ax.text(-0.4, input_side, f"input ({input_side} px)", ha="left", va="bottom", fontsize=6, color="0.3")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=45, ha="right")
    ax.set_ylabel("receptive field (pixels)")
    ax.set_ylim(0, max(sizes + [input_side or 0]) * 1.18)
    ax.set_title("receptive field size / jump")
    return fig
