"""The [-1 0 1] edge filter: image, kernel, output (the lecture's convolution example).

The lecture's "Convolution of two signals" slide runs the 3x3 kernel with
rows [-1 0 1] over a photograph: the output is large where brightness
changes from left to right (vertical edges) and zero on uniform regions
and on horizontal edges. Top, in numbers: the lecture's 10x10 image of 0s
and 90s (:func:`v1sim.lecture.mean_filter_example`, the input of its
filtering slides), the kernel, and the valid cross-correlation computed by
:func:`v1sim.signal.correlate2d` (8x8; blue negative, red positive): a
dark-to-light step (left to right) gives +, light-to-dark gives -, the top
and bottom edges of the square give 0 except where a column change is
under the window. Bottom: the same kernel on the cameraman photograph
(``same`` size, mirrored border), and the convolution of the lecture's
formula (:func:`v1sim.signal.convolve2d`, kernel flipped), which for this
antisymmetric kernel is the correlation's negative: the sign of an edge
response depends on which of the two one computes; ConvNets correlate.

References: the lecture's "Convolution of two signals" and "Image
filtering" slides; D. Marr, E. Hildreth, "Theory of edge detection",
Proc. R. Soc. Lond. B 207, 1980 (edges as intensity derivatives).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from v1sim import stimuli
from v1sim.lecture import mean_filter_example
from v1sim.plotting import paper_style, save_figure, set_frame, show_image, value_grid
from v1sim.signal import convolve2d, correlate2d

KERNEL = np.array([[-1, 0, 1]] * 3, dtype=np.float32)  # the lecture's kernel, rows [-1 0 1]


def edge_example(quick=False) -> dict:
    """The numeric and photographic examples, computed."""
    f = mean_filter_example()
    g = correlate2d(f, KERNEL, mode="valid")
    photo = stimuli.natural_image("camera", size=128 if quick else 256).astype(np.float32)
    corr = correlate2d(photo, KERNEL, mode="same", boundary="symm")
    conv = convolve2d(photo, KERNEL, mode="same", boundary="symm")
    return {"f": f, "g": g, "photo": photo, "corr": corr, "conv": conv}


def main(out_dir, quick=False) -> Path:
    e = edge_example(quick)
    f, g = e["f"], e["g"]
    with paper_style():
        fig = plt.figure(figsize=(11.0, 8.2))
        top = fig.add_gridspec(1, 3, width_ratios=[10, 3.2, 8], left=0.03, right=0.97, top=0.86, bottom=0.52)
        value_grid(fig.add_subplot(top[0]), f, title=f"input f ({f.shape[0]}x{f.shape[1]}, the lecture's)")
        value_grid(fig.add_subplot(top[1]), KERNEL, signed=True, title="kernel")
        value_grid(fig.add_subplot(top[2]), g, signed=True, title=f"output ({g.shape[0]}x{g.shape[1]}, valid)")
        bottom = fig.add_gridspec(1, 3, left=0.03, right=0.9, top=0.45, bottom=0.02, wspace=0.08)
        show_image(fig.add_subplot(bottom[0]), e["photo"], title=f"photograph ({e['photo'].shape[0]} px)")
        limit = float(np.percentile(np.abs(e["corr"]), 99.5))
        for k, (key, what) in enumerate((("corr", "cross-correlation"), ("conv", "convolution (kernel flipped)"))):
            ax = fig.add_subplot(bottom[k + 1])
            shown = show_image(ax, e[key], symmetric=True, cmap="RdBu_r", vmin=-limit, vmax=limit, title=what)
        for ax in fig.axes[3:]:
            set_frame(ax)
        bar = fig.colorbar(shown, ax=fig.axes[3:], shrink=0.8, pad=0.01, extend="both")
        bar.set_label("response (grey levels of the 0-1 photograph)")
        flip = float(np.max(np.abs(e["conv"] + e["corr"])))
        rising, falling = float(g.max()), float(g.min())
        fig.suptitle(
            "The [-1 0 1] kernel finds vertical edges: cross-correlation (v1sim.signal.correlate2d), "
            f"valid mode\nthe square's dark-to-light edge gives {rising:+.0f}, its light-to-dark edge "
            f"{falling:+.0f}, flat regions 0; on the photograph, convolution = -correlation "
            f"(largest |convolution + correlation| = {flip:g})\nblue: negative, red: positive"
        )
        return save_figure(fig, Path(out_dir) / "edge_example.png")


if __name__ == "__main__":
    start = time.perf_counter()
    args = [a for a in sys.argv[1:] if a != "--quick"]
    path = main(args[0] if args else "figures", quick="--quick" in sys.argv)
    print(f"{path} ({time.perf_counter() - start:.1f} s)")
