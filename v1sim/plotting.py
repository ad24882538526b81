"""Plotting helpers for figures a paper could print.

Axes-first helpers that return artists and never call ``plt.show()``; a
house style (:func:`paper_style`) and an atomic :func:`save_figure`. The
non-interactive Agg backend is selected unless the user chose another.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import matplotlib

if "MPLBACKEND" not in os.environ:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["paper_style", "save_figure", "show_image", "show_kernels", "value_grid"]

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


@contextlib.contextmanager
def paper_style():
    """Context manager applying v1sim's print style (small fonts, 200 dpi, no chart junk)."""
    with plt.rc_context(_STYLE):
        yield


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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format=path.suffix.lstrip(".") or "png")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        plt.close(fig)
    return path


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


def value_grid(ax, values, *, title=None, fmt="{:.0f}", cmap="Greys", highlight=None, vmax=None):
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

    Returns
    -------
    matplotlib.image.AxesImage
    """
    values = np.asarray(values, dtype=float)
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
