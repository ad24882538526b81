"""The lecture's worked example: a 3x3 mean filter over a 10x10 image gives an 8x8 output.

Left, the input f with the first 3x3 window outlined; middle, the filter h;
right, the valid cross-correlation g = f (x) h computed by v1sim, with the
corresponding output cell outlined. Each output is the average of the nine
pixels under the window (e.g. the lecture's 0, 10, 20, 30, ...).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import v1sim
from v1sim.lecture import mean_filter_example
from v1sim.plotting import paper_style, save_figure, value_grid


def main(out_dir, quick=False) -> Path:
    f = mean_filter_example()
    h = np.ones((3, 3), dtype=np.float32) / 9
    g = v1sim.correlate2d(f, h, mode="valid")
    with paper_style():
        fig, axes = plt.subplots(1, 3, figsize=(9.5, 3.4), gridspec_kw={"width_ratios": [10, 3.2, 8]})
        value_grid(axes[0], f, title="input f[., .] (10x10)", highlight=(0, 1, 3, 3))
        value_grid(axes[1], h * 9, title="filter h = 1/9 x", fmt="{:.0f}", vmax=9)
        value_grid(axes[2], g, title=f"output g = f (x) h ({g.shape[0]}x{g.shape[1]}, valid)", highlight=(0, 1, 1, 1))
        fig.suptitle("Image filtering with a 3x3 mean filter (cross-correlation, valid mode)")
        return save_figure(fig, Path(out_dir) / "mean_filter.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures"))
