"""Fully connected, locally connected, convolutional: parameters for one 200x200 image.

The lecture's comparison (Ranzato's CVPR 2014 tutorial): a 200x200 image
feeds 40,000 hidden units. Fully connected, every unit sees every pixel
("~2B parameters"); locally connected, every unit sees its own 10x10 patch
("4M"); convolutional, 100 filters of 10x10 are shared by every position
("10K"). Left: the counts of the model zoo's three variants
(``v1sim.nn.models.build("fc-vs-conv", variant=..., materialize=False)``:
shape-only, so the fully connected layer's 6.4 GB of float32 weights are
never allocated), weights and biases counted from the modules' own
parameters, on a log axis; the number of output units comes from
:func:`v1sim.nn.summary.summarize`. The lecture counts weights only; the
biases are drawn on top. Right: how the three grow with the image side N
(N x N image with N a multiple of 10, N^2 hidden units, the same 10x10
patches tiled at stride 10), from shape-only layers: fully connected grows as N^4, locally
connected as N^2, convolutional not at all.

References: M. Ranzato, "Deep learning for vision", CVPR 2014 tutorial;
Y. LeCun et al., "Gradient-based learning applied to document
recognition", Proc. IEEE 1998 (weight sharing).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from v1sim.nn import models
from v1sim.nn.layers import Conv2d, Linear, LocallyConnected2d, shape_only
from v1sim.nn.summary import summarize
from v1sim.plotting import paper_style, save_figure

VARIANTS = (
    ("fc", "fully connected", "tab:red"),
    ("lc", "locally connected\n(10x10 patches)", "tab:orange"),
    ("conv", "convolutional\n(100 shared 10x10 filters)", "tab:blue"),
)
PATCH, FILTERS = 10, 100  # the lecture's filter size and number of filters


def split_counts(module) -> dict:
    """Weights and biases of ``module``, counted from its parameters' names and sizes."""
    weights = sum(p.size for name, p in module.named_parameters() if name.endswith("weight"))
    biases = sum(p.size for name, p in module.named_parameters() if name.endswith("bias"))
    return {"weights": int(weights), "biases": int(biases), "total": int(module.num_parameters())}


def lecture_counts() -> dict:
    """The three variants of the lecture's 200x200 example: weights, biases, total and output units."""
    out = {}
    for variant, _, _ in VARIANTS:
        model = models.build("fc-vs-conv", variant=variant, materialize=False)
        counts = split_counts(model)
        counts["units"] = int(np.prod(summarize(model, models.default_input_shape("fc-vs-conv")).output_shape))
        out[variant] = counts
    return out


def scaling(sides) -> dict:
    """Weights of the three layer types for N x N images (N^2 units), built shape-only."""
    out = {variant: [] for variant, _, _ in VARIANTS}
    with shape_only():
        for n in sides:
            out["fc"].append(split_counts(Linear(n * n, n * n))["weights"])
            out["lc"].append(split_counts(LocallyConnected2d(1, FILTERS, n, PATCH, PATCH))["weights"])
            out["conv"].append(split_counts(Conv2d(1, FILTERS, PATCH, PATCH))["weights"])
    return {k: np.array(v, dtype=float) for k, v in out.items()}


def _short(n) -> str:
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= scale:
            return f"{n / scale:.3g}{suffix}"
    return f"{n:,}"


def main(out_dir, quick=False) -> Path:
    counts = lecture_counts()
    sides = np.array([50, 100, 200] if quick else [20, 50, 100, 200, 400, 800])
    grown = scaling(sides)
    with paper_style():
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(11.0, 4.6), width_ratios=[1.15, 1], layout="constrained")
        x = np.arange(len(VARIANTS))
        for i, (variant, _, color) in enumerate(VARIANTS):
            c = counts[variant]
            ax.bar(i, c["weights"], color=color, width=0.62)
            ax.text(
                i,
                c["weights"] * 1.6,
                f"{c['weights']:,} weights\n= {_short(c['weights'])}\n+ {c['biases']:,} biases",
                ha="center",
                va="bottom",
                fontsize=8,
            )
        ax.set_xticks(x, [label for _, label, _ in VARIANTS])
        ax.set_yscale("log")
        ax.set_ylim(1e3, 1e12)
        ax.set_xlim(-0.6, len(VARIANTS) - 0.4)
        ax.set_ylabel("parameters (log scale)")
        units = {c["units"] for c in counts.values()}
        same = f"all three: {units.pop():,} hidden units" if len(units) == 1 else "hidden units differ"
        ax.set_title(f"a 200x200 image, {same}\n(bars: weights, as the lecture counts them; biases in the labels)")
        for variant, label, color in VARIANTS:
            bx.loglog(sides, grown[variant], "o-", color=color, lw=1.5, ms=4, label=label.replace("\n", " "))
        bx.axvline(200, color="0.6", ls=":", lw=0.8)
        bx.text(200 * 1.08, grown["conv"][0] * 3, "the lecture's\n200x200", fontsize=7.5, color="0.35")
        exponents = {k: np.polyfit(np.log(sides), np.log(v), 1)[0] for k, v in grown.items()}
        bx.set_title(
            "weights vs image side N (N x N image, N² hidden units)\n"
            + ", ".join(f"{k}: N^{exponents[k]:.1f}" for k in ("fc", "lc", "conv")).replace("N^-0.0", "N^0.0")
        )
        bx.set_xticks(sides, [str(n) for n in sides])
        bx.xaxis.set_minor_formatter(NullFormatter())
        bx.set_xlabel("image side N (pixels)")
        bx.set_ylabel("weights (log scale)")
        bx.legend(frameon=False, loc="upper left", fontsize=7.5)
        ratio = counts["fc"]["weights"] / counts["conv"]["weights"]
        fig.suptitle(
            "Why convolution: locality and weight sharing cut the parameters of one layer "
            f"by a factor of {ratio:,.0f} at the same number of outputs"
        )
        return save_figure(fig, Path(out_dir) / "parameter_counts.png")


if __name__ == "__main__":
    start = time.perf_counter()
    args = [a for a in sys.argv[1:] if a != "--quick"]
    path = main(args[0] if args else "figures", quick="--quick" in sys.argv)
    print(f"{path} ({time.perf_counter() - start:.1f} s)")
