"""Output size of a convolution: (N - F + 2P)/S + 1, with stride and zero padding.

The lecture's spatial arithmetic (CS231n's slides): a 3x3 filter on a 7x7
input gives a 5x5 output at stride 1, 3x3 at stride 2, and does not fit at
stride 3 ((7 - 3)/3 + 1 = 2.33); zero padding of 1 keeps 7x7. Top: the
windows of one row drawn on the (padded) input for those four cases, the
first window filled, the others outlined, a window that would hang over the
border dashed red. Bottom: the lecture's worked examples as a table, every
output size from :func:`v1sim.signal.output_size` (the checked public face
of :func:`v1sim.kernels.ops.out_len`, the one home of the formula), every
parameter count from the layer or model-zoo module that has them
(``num_parameters``). A case "does not fit" when the last window does not end
on the padded border: the leftover pixels are reported, and the exact quotient
is the whole windows plus leftover/S.

References: A. Karpathy, J. Johnson, F.-F. Li, CS231n "Convolutional neural
networks for visual recognition" (Stanford), the Conv layer slides;
A. Krizhevsky et al., NIPS 2012 (AlexNet); D. Silver et al., Nature 2016
(AlphaGo's policy network).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from v1sim.nn import Conv2d, models
from v1sim.nn.summary import summarize
from v1sim.plotting import paper_style, save_figure
from v1sim.signal import output_size

# (label, N, F, S, P): the sliding-window drawings, all on the lecture's 7x7 input
DRAWN = (
    ("3x3 filter, stride 1", 7, 3, 1, 0),
    ("stride 2", 7, 3, 2, 0),
    ("stride 3", 7, 3, 3, 0),
    ("stride 1, zero pad 1", 7, 3, 1, 1),
)


def window_geometry(n, f, stride, padding) -> dict:
    """Output length and how the windows cover the padded input.

    ``out`` comes from :func:`v1sim.signal.output_size`; ``leftover`` is the
    number of padded-input pixels after the last whole window, so a case
    fits exactly when it is 0, and ``exact`` = out + leftover / S is the
    unrounded (N - F + 2P)/S + 1 of the lecture.
    """
    out = output_size(n, f, stride, padding)
    leftover = n + 2 * padding - ((out - 1) * stride + f)
    return {
        "n": n,
        "f": f,
        "stride": stride,
        "padding": padding,
        "out": out,
        "leftover": leftover,
        "exact": out + leftover / stride,
        "fits": leftover == 0,
    }


def worked_examples() -> list[dict]:
    """The lecture's worked examples, in its order, each computed (sizes, parameters)."""
    rows = []

    def add(label, n, f, stride=1, padding=0, *, params=None, note=""):
        g = window_geometry(n, f, stride, padding)
        g.update(label=label, params=params, note=note)
        rows.append(g)

    for stride in (1, 2, 3):
        add(f"7x7 input, 3x3 filter, stride {stride}", 7, 3, stride)
    add("7x7 input, 3x3 filter, stride 1, pad 1", 7, 3, 1, 1)
    for f in (3, 5, 7):  # "zero-padding with (F-1)/2 will preserve size spatially"
        add(f"32x32 input, {f}x{f} filter, pad (F-1)/2 = {(f - 1) // 2}", 32, f, 1, (f - 1) // 2)
    n = 32
    for _ in range(2):  # "32x32 input convolved repeatedly with 5x5 filters shrinks volumes (32 -> 28 -> 24)"
        add(f"{n}x{n} input, 5x5 filter, no padding", n, 5)
        n = rows[-1]["out"]
    conv = Conv2d(3, 10, 5, 1, 2)  # 32x32x3 input, 10 filters of 5x5, stride 1, pad 2
    per_filter = conv.num_parameters() // conv.weight.data.shape[0]
    add(
        "32x32x3 input, 10 5x5 filters, stride 1, pad 2",
        32,
        5,
        1,
        2,
        params=conv.num_parameters(),
        note=f"{per_filter} per filter: {conv.weight.data[0].size} weights + 1 bias",
    )
    alexnet = summarize("alexnet")
    weights = dict(models.build("alexnet", materialize=False).named_parameters())["conv1.weight"].data.size
    add(
        "AlexNet CONV1: 96 11x11 filters, stride 4",
        227,
        11,
        4,
        params=alexnet["conv1"].params,
        note=f"{weights:,} weights + {alexnet['conv1'].params - weights} biases",
    )
    add("AlexNet POOL1: 3x3, stride 2", 55, 3, 2, params=alexnet["pool1"].params)
    policy = summarize("alphago-policy")
    add("AlphaGo CONV1: 5x5, stride 1, pad 2", 19, 5, 1, 2, params=policy["conv1"].params)
    add("AlphaGo CONV2..12: 3x3, stride 1, pad 1", 19, 3, 1, 1, params=policy["conv2"].params)
    return rows


def draw_windows(ax, label, n, f, stride, padding):
    """One row of windows on the padded n x n input (padding grey with zeros)."""
    g = window_geometry(n, f, stride, padding)
    size = n + 2 * padding
    for i in range(size):
        for j in range(size):
            pad = not (padding <= i < size - padding and padding <= j < size - padding)
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor="0.85" if pad else "white", edgecolor="0.6", lw=0.5))
            if pad:
                ax.text(j + 0.5, i + 0.5, "0", ha="center", va="center", fontsize=6, color="0.45")
    colors = plt.get_cmap("viridis")([k / max(1, g["out"] - 1) * 0.85 for k in range(g["out"])])
    for k in range(g["out"]):
        x0 = k * stride + 0.08 * (k % 2)  # overlapping outlines stay apart
        ax.add_patch(
            Rectangle(
                (x0, 0.08 * (k % 2)), f, f, fill=k == 0, facecolor=(*colors[k][:3], 0.25), edgecolor=colors[k], lw=1.8
            )
        )
    if not g["fits"]:  # the next window would hang over the border
        ax.add_patch(Rectangle((g["out"] * stride, 0), f, f, fill=False, edgecolor="tab:red", lw=1.6, ls="--"))
    ax.set_xlim(-0.3, max(size, g["out"] * stride + f) + 0.3)
    ax.set_ylim(size + 0.3, -0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    verdict = f"{g['out']} per row" if g["fits"] else f"{g['exact']:.2f}: does not fit"
    ax.set_title(f"{label}\n({n} - {f} + 2·{padding})/{stride} + 1 = {verdict}", fontsize=8.5)


def main(out_dir, quick=False) -> Path:
    rows = worked_examples()
    with paper_style():
        fig = plt.figure(figsize=(11.0, 8.0))
        grid = fig.add_gridspec(
            2, len(DRAWN), height_ratios=[1, 1.75], left=0.02, right=0.98, top=0.87, bottom=0.0, hspace=0.08
        )
        for j, spec in enumerate(DRAWN):
            draw_windows(fig.add_subplot(grid[0, j]), *spec)
        ax = fig.add_subplot(grid[1, :])
        ax.axis("off")
        head = ["worked example (lecture)", "N", "F", "S", "P", "(N - F + 2P)/S + 1", "parameters"]
        cells = []
        for r in rows:
            size = f"{r['out']}" if r["fits"] else f"{r['exact']:.2f}: doesn't fit ({r['leftover']} px left over)"
            params = "" if r["params"] is None else f"{r['params']:,}" + (f" ({r['note']})" if r["note"] else "")
            cells.append([r["label"], r["n"], r["f"], r["stride"], r["padding"], size, params])
        widths = [0.3, 0.045, 0.045, 0.045, 0.045, 0.21, 0.3]
        table = ax.table(
            cellText=cells, colLabels=head, colWidths=widths, loc="upper center", cellLoc="center", colLoc="center"
        )
        table.auto_set_font_size(False)
        table.set_fontsize(8.5)
        table.scale(1.0, 1.5)
        for (i, j), cell in table.get_celld().items():
            cell.set_edgecolor("0.75")
            if i == 0:
                cell.set_facecolor("0.9")
            elif j == 0:
                cell.get_text().set_horizontalalignment("left")
            if i > 0 and not rows[i - 1]["fits"]:
                cell.get_text().set_color("tab:red")
        fig.suptitle(
            "Output size of a convolution or pooling layer: (N - F + 2P)/S + 1\n(N input, F filter, S stride, "
            "P zero padding). Top: the windows along one row of the lecture's 7x7 input\n(grey: zero padding; "
            "dashed red: a window that would hang over the border). Bottom: the lecture's worked examples, computed"
        )
        return save_figure(fig, Path(out_dir) / "output_size.png")


if __name__ == "__main__":
    start = time.perf_counter()
    args = [a for a in sys.argv[1:] if a != "--quick"]
    path = main(args[0] if args else "figures", quick="--quick" in sys.argv)
    print(f"{path} ({time.perf_counter() - start:.1f} s)")
