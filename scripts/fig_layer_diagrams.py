"""Layer diagrams of LeNet-5, AlexNet, VGG-16, GoogLeNet and ResNet-50, drawn from the model zoo's own tables.

Nothing about the architectures is typed in here: each row of the figure is
:func:`v1sim.nn.summary.summarize` of a model-zoo name (built shape-only,
no weights allocated), cut at its top-level layers. Layers that store
nothing and have no parameters (ReLU, tanh, dropout, flatten) are left out,
and consecutive layers with the same output resolution form one box (a
stage): the box lists its layers in order (a container such as ResNet's
``conv3_x`` as its number of blocks), its output shape (channels x height x
width, or features) and its parameters. Box height grows with the stage's
output height (log scale), colour with its parameters (log scale; white:
none). The row titles give the totals of the summary: parameters and
multiply-accumulates per image. Read across the rows: the lecture's trend
towards smaller filters and deeper networks, and "most memory is in early
CONV, most params are in late FC" (VGG-16), against GoogLeNet and ResNet,
which replace the big fully connected layers by global average pooling.

References: Y. LeCun et al., Proc. IEEE 1998; A. Krizhevsky et al., NIPS
2012; K. Simonyan, A. Zisserman, ICLR 2015; C. Szegedy et al., CVPR 2015;
K. He et al., CVPR 2016.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.patches import FancyBboxPatch

from v1sim.nn.models import MODELS
from v1sim.nn.summary import summarize
from v1sim.plotting import paper_style, save_figure

NAMES = ("lenet5", "alexnet", "vgg16", "googlenet", "resnet50")
TITLES = {
    "lenet5": "LeNet-5",
    "alexnet": "AlexNet",
    "vgg16": "VGG-16",
    "googlenet": "GoogLeNet",
    "resnet50": "ResNet-50",
}


def _si(n) -> str:
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if n >= scale:
            return f"{n / scale:.3g}{suffix}"
    return f"{n:,}"


def _resolution(shape) -> tuple:
    return tuple(shape[1:]) if len(shape) == 3 else (1, 1)


def _label(row, rows) -> str:
    """A top-level row as text: its type, or a plain sequence's block count and type (ResNet's conv3_x)."""
    if not row.container or row.type != "Sequential":
        return row.type
    children = [r for r in rows if r.depth == row.depth + 1 and r.name.startswith(row.name + ".")]
    types = sorted({r.type for r in children})
    return f"{row.name}: {len(children)}× {'/'.join(types)}"


def _collapse(labels) -> str:
    """Consecutive repeats as ``Conv2d ×3``."""
    out = []
    for label in labels:
        if out and out[-1][0] == label:
            out[-1][1] += 1
        else:
            out.append([label, 1])
    return "\n".join(label if k == 1 else f"{label} ×{k}" for label, k in out)


def stages(name) -> dict:
    """The model's summary cut into stages: input first, then runs of layers at one output resolution."""
    summary = summarize(name)
    rows = summary.layers
    top = [r for r in rows if r.depth == 1 and r.name != "input" and (r.params or r.activations)]
    groups = []
    for row in top:
        if groups and _resolution(groups[-1][-1].output_shape) == _resolution(row.output_shape):
            groups[-1].append(row)
        else:
            groups.append([row])
    out = [{"layers": "input", "shape": summary.input_shape, "params": 0, "names": ["input"]}]
    for g in groups:
        out.append(
            {
                "layers": _collapse([_label(r, rows) for r in g]),
                "shape": g[-1].output_shape,
                "params": sum(r.params for r in g),
                "names": [r.name for r in g],
            }
        )
    return {"summary": summary, "stages": out}


def draw_row(ax, model, norm, cmap):
    """One model as boxes left to right, with arrows between them."""
    info = stages(model)
    boxes, s = info["stages"], info["summary"]
    width, gap = 1.05, 0.22
    for k, box in enumerate(boxes):
        h = _resolution(box["shape"])[0]
        height = 0.55 + 0.13 * math.log2(h)
        x = k * (width + gap)
        color = "white" if box["params"] == 0 else cmap(norm(box["params"]))
        ax.add_patch(
            FancyBboxPatch(
                (x, -height / 2),
                width,
                height,
                boxstyle="round,pad=0.01,rounding_size=0.04",
                fc=color,
                ec="0.3",
                lw=0.8,
            )
        )
        dark = box["params"] and norm(box["params"]) > 0.6
        shape = "×".join(str(d) for d in box["shape"])
        params = "no params" if box["params"] == 0 else f"{_si(box['params'])} params"
        ax.text(x + width / 2, height / 2 + 0.04, shape, ha="center", va="bottom", fontsize=6.8)
        ax.text(x + width / 2, -height / 2 - 0.04, params, ha="center", va="top", fontsize=6.5, color="0.25")
        ax.text(
            x + width / 2,
            0,
            box["layers"],
            ha="center",
            va="center",
            fontsize=7,
            color="white" if dark else "black",
            linespacing=1.05,
        )
        if k:
            ax.annotate(
                "", xy=(x, 0), xytext=(x - gap, 0), arrowprops=dict(arrowstyle="->", lw=0.7, color="0.4"), zorder=0
            )
    ax.set_xlim(-0.1, 8 * (width + gap))
    ax.set_ylim(-1.25, 1.2)
    ax.axis("off")
    ax.set_title(
        f"{TITLES.get(model, model)} ({MODELS[model].description.split('(')[-1].rstrip(')')}): "
        f"{s.total_params:,} parameters, {_si(s.total_macs)} multiply-accumulates per image",
        loc="left",
        fontsize=9,
    )
    return info


def main(out_dir, quick=False) -> Path:
    names = NAMES[:2] if quick else NAMES
    every = [b["params"] for n in names for b in stages(n)["stages"] if b["params"]]
    norm, cmap = LogNorm(vmin=min(every), vmax=max(every)), plt.get_cmap("YlGnBu")
    with paper_style():
        fig, axes = plt.subplots(len(names), 1, figsize=(12.5, 1.85 * len(names) + 0.9))
        axes = np.atleast_1d(axes)
        for ax, name in zip(axes, names):
            draw_row(ax, name, norm, cmap)
        fig.subplots_adjust(left=0.01, right=0.92, top=1 - 0.85 / fig.get_figheight(), bottom=0.01, hspace=0.3)
        bar = fig.colorbar(
            plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=list(axes), fraction=0.015, pad=0.01, shrink=0.6
        )
        bar.set_label("parameters per stage (log scale)")
        fig.suptitle(
            "ConvNet architectures from the model zoo's layer tables (v1sim.nn.summary): one box per stage "
            "(consecutive layers at one output resolution)\nabove each box its output shape (channels×height×width, "
            "or features), below it its parameters; box height grows with the output height",
            fontsize=10,
        )
        return save_figure(fig, Path(out_dir) / "layer_diagrams.png")


if __name__ == "__main__":
    start = time.perf_counter()
    args = [a for a in sys.argv[1:] if a != "--quick"]
    path = main(args[0] if args else "figures", quick="--quick" in sys.argv)
    print(f"{path} ({time.perf_counter() - start:.1f} s)")
