"""Plotting helpers for figures a paper could print.

Axes-first helpers that return artists and never call ``plt.show()``; a
house style (:func:`paper_style`) and an atomic :func:`save_figure`. The
non-interactive Agg backend is selected unless the user chose another.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import matplotlib

if "MPLBACKEND" not in os.environ:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ._core.io import atomic_write  # noqa: E402
from .errors import InputError  # noqa: E402

__all__ = [
    "MODEL_STYLES",
    "check_out_dir",
    "count_histogram",
    "kernel_mosaic",
    "paper_style",
    "save_figure",
    "set_frame",
    "show_image",
    "show_kernels",
    "spike_raster",
    "value_grid",
]

_STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.interpolation": "nearest",
    "image.cmap": "gray",
}


#: One look per digit classifier across figures: (label, colour, marker, line style).
MODEL_STYLES = {
    "intvec": ("Neocognitron, IntVec", "tab:red", "o", "-"),
    "nearest": ("Neocognitron, nearest S4 prototype", "tab:orange", "s", "-"),
    "ridge": ("Neocognitron UC3, ridge readout", "tab:purple", "^", "--"),
    "hmax": ("HMAX C2, ridge readout", "tab:blue", "D", "--"),
    "pixels": ("nearest training digit (pixels)", "0.45", "v", ":"),
    "lenet": ("LeNet-5 (backpropagation)", "k", "x", "-"),
}


@contextlib.contextmanager
def paper_style():
    """Context manager applying v1sim's print style (small fonts, 200 dpi, no chart junk)."""
    with plt.rc_context(_STYLE):
        yield


def check_out_dir(path, name="out_dir") -> Path:
    """``path`` as a Path if it is a folder, or could be made one, that can be written; creates nothing.

    Checked before any work, so a long run does not end in a FileExistsError
    because ``path`` (or a folder above it) is a regular file.

    Parameters
    ----------
    path : str or Path
    name : str
        The argument's name, for the error (``"out_dir"``, ``"--out"``).

    Returns
    -------
    Path

    Raises
    ------
    v1sim.errors.InputError
        If ``path`` or its nearest existing ancestor is not a folder, or that
        folder cannot be written.
    """
    out = Path(path)
    probe = out
    while not probe.exists() and probe.parent != probe:  # the nearest existing ancestor decides
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        where = "is a file" if probe == out else f"lies under {str(probe)!r}, which is a file"
        raise InputError(f"{name} must be a folder, but {str(out)!r} {where}", argument=name)
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{name} must be a writable folder, but {str(probe)!r} is not writable", argument=name)
    return out


def save_figure(fig, path) -> Path:
    """Save ``fig`` to ``path`` atomically (temporary file, fsync, rename) and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
        Destination; the format follows the suffix (``.png`` recommended).

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format=path.suffix.lstrip(".") or "png")
    finally:
        plt.close(fig)
    return atomic_write(path, buf.getvalue())


def show_image(ax, image, *, title=None, cmap="gray", symmetric=False, **kwargs):
    """Show a 2-D array without ticks; ``symmetric`` centres a diverging map on zero.

    Returns
    -------
    matplotlib.image.AxesImage
    """
    image = np.asarray(image)
    if symmetric:
        lim = float(np.abs(image).max()) or 1.0
        kwargs.setdefault("vmin", -lim)
        kwargs.setdefault("vmax", lim)
        cmap = "RdBu_r" if cmap == "gray" else cmap
    artist = ax.imshow(image, cmap=cmap, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return artist


def show_kernels(axes, kernels, *, titles=None, symmetric=True):
    """Show a stack of kernels (K, kh, kw) on a flat sequence of axes, each scaled on its own.

    Unused axes are switched off. Returns the list of images.
    """
    axes = list(np.ravel(axes))
    artists = []
    for i, ax in enumerate(axes):
        if i >= len(kernels):
            ax.axis("off")
            continue
        title = titles[i] if titles is not None else None
        artists.append(show_image(ax, kernels[i], title=title, symmetric=symmetric))
    return artists


def spike_raster(ax, time, counts, *, linewidth=0.7):
    """Spike rasters: a tick per time step holding a spike, one row per trial (trial 1 at the bottom).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    time : (T,) array_like
        Seconds, the start of each step.
    counts : (trials, T) array_like
        Spikes per step (e.g. ``Recording.counts``).
    linewidth : float

    Returns
    -------
    list of matplotlib.collections.EventCollection
    """
    t, c = np.asarray(time), np.asarray(counts)
    artists = ax.eventplot(
        [t[row > 0] for row in c],
        lineoffsets=np.arange(1, c.shape[0] + 1),
        linelengths=0.8,
        colors="k",
        linewidths=linewidth,
    )
    ax.set_ylim(0.4, c.shape[0] + 0.6)
    ax.set_yticks([1, c.shape[0]])
    return artists


def value_grid(ax, values, *, title=None, fmt="{:.0f}", cmap="Greys", highlight=None, vmax=None, signed=False):
    """Draw a small matrix as a grid of numbers over shaded cells (the lecture's filtering slides).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    values : (H, W) array_like
    title : str, optional
    fmt : str
        Format of each number.
    cmap : str
        Colour map for the cell shading.
    highlight : (row, col, height, width), optional
        A rectangle to outline (e.g. the current filter window).
    vmax : float, optional
        Upper end of the shading scale.
    signed : bool
        Shade on a diverging scale centred on zero (``RdBu_r`` unless ``cmap``
        names another) instead of from zero up: for outputs of either sign.

    Returns
    -------
    matplotlib.image.AxesImage
    """
    values = np.asarray(values, dtype=float)
    if signed:
        limit = max(float(np.abs(values).max()) if vmax is None else vmax, 1e-12) * 1.6
        artist = ax.imshow(values, cmap="RdBu_r" if cmap == "Greys" else cmap, vmin=-limit, vmax=limit)
    else:
        vmax = float(values.max()) if vmax is None else vmax
        artist = ax.imshow(values, cmap=cmap, vmin=0, vmax=max(vmax, 1e-12) * 1.6)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=7)
    ax.set_xticks(np.arange(-0.5, values.shape[1]), minor=True)
    ax.set_yticks(np.arange(-0.5, values.shape[0]), minor=True)
    ax.grid(which="minor", color="0.6", linewidth=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    for side in ax.spines.values():
        side.set_visible(False)
    if highlight is not None:
        r, c, h, w = highlight
        ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), w, h, fill=False, edgecolor="tab:red", linewidth=1.5))
    if title:
        ax.set_title(title)
    return artist


def set_frame(axes, *, visible=True, color="0.6", linewidth=0.5):
    """Draw (or hide) all four spines of image axes as a thin box.

    ``paper_style`` drops the top and right spines, which suits plots but leaves
    images and kernels with an L-shaped frame; call this on image axes instead.

    Parameters
    ----------
    axes : Axes or array_like of Axes
    visible : bool
        True: a thin box of ``color`` and ``linewidth`` (points); False: no frame.
    """
    for ax in np.ravel(axes):
        for side in ax.spines.values():
            side.set_visible(visible)
            side.set_color(color)
            side.set_linewidth(linewidth)


def kernel_mosaic(
    ax,
    kernels,
    ncols,
    *,
    gap=0.12,
    vgap=None,
    titles=None,
    row_labels=None,
    fontsize=7,
    cmap="RdBu_r",
    symmetric=True,
    frame_color="0.6",
):
    """Tile kernels on one axes, each in a unit square on its own colour scale.

    A faster alternative to one axes per kernel (:func:`show_kernels`) for large
    banks: the tiles share one axes, so there is one layout box to place and
    text labels instead of axes titles. Every kernel fills a unit square
    whatever its size in pixels, so mosaics of differently sized kernels line
    up. Each kernel is divided by its own max ``|k|``: with ``symmetric=True``
    zero is the middle of the diverging map (white for ``RdBu_r``) in every
    tile; otherwise each tile is scaled to [0, 1] from its own min and max.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    kernels : (K, kh, kw) array_like or sequence of 2-D arrays
        The kernels; sizes may differ.
    ncols : int
        Tiles per row; rows fill left to right, top to bottom.
    gap : float
        Space between tiles, as a fraction of a tile.
    vgap : float, optional
        Space between rows (default ``gap``); leave room for titles on rows
        below the first.
    titles : sequence of str, optional
        One label per kernel, above its tile (``None`` or ``""`` skips one).
    row_labels : sequence of str, optional
        One label per row, left of it.
    fontsize : float
        Size of titles and row labels.
    cmap : str
    symmetric : bool
    frame_color : color or None
        Colour of a thin frame around each tile; None for no frame.

    Returns
    -------
    list of matplotlib.image.AxesImage
        One per tile (values scaled to [-1, 1], or [0, 1] if not ``symmetric``).
    """
    from matplotlib.collections import PatchCollection

    tiles = [np.asarray(k, dtype=float) for k in kernels]
    ncols = int(ncols)
    nrows = -(-len(tiles) // ncols)
    vgap = gap if vgap is None else vgap
    lims = (-1.0, 1.0) if symmetric else (0.0, 1.0)
    artists, boxes = [], []
    for i, k in enumerate(tiles):
        r, c = divmod(i, ncols)
        x0, y0 = c * (1.0 + gap), r * (1.0 + vgap)
        if symmetric:
            k = k / (np.abs(k).max() or 1.0)
        else:
            lo, hi = k.min(), k.max()
            k = (k - lo) / ((hi - lo) or 1.0)
        artists.append(
            ax.imshow(
                k, cmap=cmap, vmin=lims[0], vmax=lims[1], interpolation="nearest", extent=(x0, x0 + 1.0, y0 + 1.0, y0)
            )
        )
        boxes.append(plt.Rectangle((x0, y0), 1.0, 1.0))
        if titles is not None and titles[i]:
            ax.text(x0 + 0.5, y0 - 0.04, titles[i], ha="center", va="bottom", fontsize=fontsize)
    for r, label in enumerate(row_labels or ()):
        ax.text(-0.08, r * (1.0 + vgap) + 0.5, label, ha="right", va="center", fontsize=fontsize)
    if frame_color is not None:
        ax.add_collection(PatchCollection(boxes, facecolor="none", edgecolor=frame_color, linewidth=0.5, clip_on=False))
    ax.set_xlim(0.0, ncols * (1.0 + gap) - gap)
    ax.set_ylim(nrows * (1.0 + vgap) - vgap, 0.0)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return artists


def count_histogram(ax, edges, counts, *, fontsize=8):
    """A 2-D histogram as grey cells with each non-zero count written in it (e.g. Ringach's nx-ny plane).

    ``edges`` (B + 1,) are the bin edges of both axes and ``counts`` (B, B)
    is indexed ``[x bin, y bin]``. Returns the centres of the bins.
    """
    edges = np.asarray(edges, dtype=float)
    counts = np.asarray(counts)
    centre = np.sqrt(edges[:-1] * edges[1:])  # the bins are log-spaced
    mesh = ax.pcolormesh(edges, edges, counts.T, cmap="Greys", vmin=0, vmax=counts.max() * 1.6)
    mesh.set_edgecolor("0.8")
    for (i, j), c in np.ndenumerate(counts):
        if c:
            ax.text(centre[i], centre[j], str(c), ha="center", va="center", fontsize=fontsize, color="0.25")
    return centre
