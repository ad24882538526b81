"""Max vs average pooling: the lecture's 4x4 example, a photograph, and tolerance to shifts.

The lecture's pooling slides (CS231n): pooling "makes the representations
smaller and more manageable", "operates over each activation map
independently", and, taking the max of filter responses at nearby
locations, "gains robustness to the exact spatial location of features".
Top: the slide's single depth slice (4x4; the numbers are on the slide's
picture, not in its text) pooled with 2x2 windows at stride 2, max and
average, by :func:`v1sim.pooling.pool2d`; each window and the output it
makes share a colour. Bottom left: the cameraman photograph's vertical-edge
map (rectified [-1 0 1] response, :func:`v1sim.signal.correlate2d`) and
that map after 4x4/4 max and average pooling. Bottom right, measured: the
photograph is shifted by 0-8 pixels to the right, the edge map recomputed,
pooled (or not), and compared with the unshifted one by Pearson
correlation over the same (pooled) cells; dashed: the 4-pixel pooling
window. Pooling keeps a feature map similar under small shifts; max
pooling more than average pooling at sub-window shifts, as the numbers in
the legend say (mean correlation over shifts of 1-3 px).

References: A. Karpathy, J. Johnson, F.-F. Li, CS231n, the pooling slides;
M. Riesenhuber, T. Poggio, "Hierarchical models of object recognition in
cortex", Nat. Neurosci. 2, 1999 (MAX pooling for position tolerance);
Y.-L. Boureau, J. Ponce, Y. LeCun, "A theoretical analysis of feature
pooling in visual recognition", ICML 2010.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from v1sim import stimuli
from v1sim.plotting import paper_style, save_figure, set_frame, show_image
from v1sim.pooling import pool2d
from v1sim.signal import correlate2d

# CS231n's max-pooling slide, reproduced as a picture in the lecture: one 4x4 depth slice
SLIDE_SLICE = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float32)
SLIDE_SIZE, SLIDE_STRIDE = 2, 2
WINDOW_COLORS = ("#f4a582", "#92c5de", "#b8e186", "#fee08b")
EDGE = np.array([[-1, 0, 1]] * 3, dtype=np.float32)
POOL = 4  # photograph: 4x4 windows at stride 4


def slide_example() -> dict:
    """The slide's 4x4 slice pooled 2x2/2 by max and by average."""
    return {kind: pool2d(SLIDE_SLICE, SLIDE_SIZE, SLIDE_STRIDE, kind=kind) for kind in ("max", "avg")} | {
        "input": SLIDE_SLICE
    }


def edge_map(image) -> np.ndarray:
    """Rectified vertical-edge response of ``image`` (same size, mirrored border)."""
    return np.abs(correlate2d(image, EDGE, mode="same", boundary="symm"))


def shift_tolerance(image, shifts) -> dict:
    """Correlation of the (pooled) edge map of ``image`` shifted right by each of ``shifts`` px with the unshifted.

    The shifted image is cut from a wider one, so no border is wrapped
    around; both maps cover the same columns of the scene.
    """
    margin = max(shifts)
    base = image[:, margin:]
    out = {"none": [], "max": [], "avg": []}
    for s in shifts:
        moved = image[:, margin - s : image.shape[1] - s]  # the scene moved s px to the right
        a, b = edge_map(base), edge_map(moved)
        width = (a.shape[1] // POOL) * POOL
        a, b = a[:, :width], b[:, :width]
        out["none"].append(np.corrcoef(a.ravel(), b.ravel())[0, 1])
        for kind in ("max", "avg"):
            pa, pb = pool2d(a, POOL, kind=kind), pool2d(b, POOL, kind=kind)
            out[kind].append(np.corrcoef(pa.ravel(), pb.ravel())[0, 1])
    return {k: np.array(v) for k, v in out.items()}


def _numbers(ax, values, colors, title):
    ax.imshow(np.ones(values.shape + (3,)))
    for (i, j), v in np.ndenumerate(values):
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=colors[i, j], edgecolor="0.5", lw=0.6))
        ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    set_frame(ax, visible=False)
    ax.set_title(title)


def main(out_dir, quick=False) -> Path:
    ex = slide_example()
    image = stimuli.natural_image("camera", size=128 if quick else 256).astype(np.float32)
    shifts = np.arange(0, 5 if quick else 9)
    tolerance = shift_tolerance(image, shifts)
    edges = edge_map(image)
    with paper_style():
        fig = plt.figure(figsize=(11.5, 8.0))
        top = fig.add_gridspec(1, 3, width_ratios=[4, 2, 2], left=0.1, right=0.9, top=0.85, bottom=0.58, wspace=0.3)
        n = SLIDE_SLICE.shape[0] // SLIDE_STRIDE
        out_colors = np.array(WINDOW_COLORS, dtype=object).reshape(n, n)
        in_colors = np.repeat(np.repeat(out_colors, SLIDE_SIZE, axis=0), SLIDE_SIZE, axis=1)
        _numbers(fig.add_subplot(top[0]), ex["input"], in_colors, "single depth slice (4x4)")
        _numbers(fig.add_subplot(top[1]), ex["max"], out_colors, "max pool, 2x2 filters, stride 2")
        _numbers(fig.add_subplot(top[2]), ex["avg"], out_colors, "average pool, 2x2, stride 2")
        bottom = fig.add_gridspec(
            1, 4, width_ratios=[1, 1, 1, 1.35], left=0.04, right=0.98, top=0.47, bottom=0.08, wspace=0.25
        )
        maps = (
            (edges, "|[-1 0 1] response|"),
            (pool2d(edges, POOL, kind="max"), f"max pooled {POOL}x{POOL}/{POOL}"),
            (pool2d(edges, POOL, kind="avg"), f"average pooled {POOL}x{POOL}/{POOL}"),
        )
        for k, (values, title) in enumerate(maps):
            ax = fig.add_subplot(bottom[k])
            show_image(ax, values, cmap="magma", title=f"{title}\n{values.shape[0]}x{values.shape[1]} values")
            set_frame(ax)
        ax = fig.add_subplot(bottom[3])
        styles = (
            ("none", "no pooling", "0.5"),
            ("max", "max pooling", "tab:red"),
            ("avg", "average pooling", "tab:blue"),
        )
        small = (shifts >= 1) & (shifts < POOL)
        for key, label, color in styles:
            ax.plot(
                shifts, tolerance[key], "o-", color=color, ms=4, label=f"{label} ({tolerance[key][small].mean():.2f})"
            )
        ax.axvline(POOL, color="0.6", ls="--", lw=0.8)
        ax.set_xlabel("shift of the photograph (pixels)")
        ax.set_ylabel("correlation with the unshifted map")
        ax.set_ylim(min(0.0, min(v.min() for v in tolerance.values())), 1.02)
        ax.legend(frameon=False, fontsize=7.5, loc="lower left", title="(mean over 1-3 px)", title_fontsize=7.5)
        ax.set_title("tolerance to shifts")
        best = max(("max", "avg"), key=lambda k: tolerance[k][small].mean())
        both = all(np.all(tolerance[k][small] > tolerance["none"][small]) for k in ("max", "avg"))
        verdict = "both poolings beat" if both else "pooling does NOT always beat"
        fig.suptitle(
            "Max vs average pooling (v1sim.pooling.pool2d): each window of a map becomes one value\n"
            "top: the lecture's slide example; bottom: a photograph's edge map, and how similar it stays when "
            f"the photograph shifts\n(measured: {verdict} no pooling at every shift under the window; "
            f"{'max' if best == 'max' else 'average'} pooling the most similar on average)"
        )
        return save_figure(fig, Path(out_dir) / "pooling.png")


if __name__ == "__main__":
    start = time.perf_counter()
    args = [a for a in sys.argv[1:] if a != "--quick"]
    path = main(args[0] if args else "figures", quick="--quick" in sys.argv)
    print(f"{path} ({time.perf_counter() - start:.1f} s)")
