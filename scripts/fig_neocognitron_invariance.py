"""Neocognitron: recognition of shifted and elastically distorted digits, against LeNet-5, HMAX and pixel matching.

Models trained on 1000 embedded MNIST digits (untouched) are tested on test
digits that were shifted or deformed. Left: each test digit moved by d
pixels along a random axis direction (up, down, left or right; the digits
keep a 4-pixel blank margin, so little is cut off). Right: a smooth random
displacement field (Gaussian-filtered noise, sigma 4 pixels, as in Simard
et al. 2003's elastic distortions) scaled to the given root-mean-square
displacement. Curves: the Neocognitron with interpolating vectors and with a
ridge readout of UC3; LeNet-5 (LeCun et al. 1998; ``v1sim.nn``,
backpropagation on the same 1000 digits zero-padded to 32x32, the ``v1sim
train lenet5`` recipe for 250 SGD steps of 64, 16 epochs, without
augmentation); HMAX (global-max C2, ridge readout) and the nearest training
digit in pixels. The C-layers' blurring and subsampling buy the Neocognitron
tolerance to small shifts and deformations. LeNet-5, trained on centred
digits only, loses accuracy under shifts about as fast as pixel matching
(its last layers are fully connected across the 5x5 maps: a 4-pixel shift
moves the features by a whole cell there), and under distortion as fast as
HMAX and the ridge readout. HMAX's global max makes it shift-invariant by
construction, at a lower accuracy on undistorted digits. Below each panel:
one test digit at each level.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy import ndimage

from v1sim.datasets import load_digits
from v1sim.hierarchy import HMAX, HMAXConfig, Neocognitron, NeocognitronConfig
from v1sim.nn import models
from v1sim.nn.recipes import predict_labels, train_steps
from v1sim.plotting import MODEL_STYLES, paper_style, save_figure

SHIFTS = (0, 1, 2, 3, 4)  # pixels
DISTORTIONS = (0.0, 0.75, 1.5, 2.25, 3.0)  # root-mean-square displacement, pixels
N_TRAIN, N_UNSUPERVISED, N_TEST = 1000, 500, 250
LENET_STEPS = 250  # SGD steps of 64 digits (16 epochs of the 1000)


def train_lenet5(x, y, *, steps, seed=0):
    """LeNet-5 after ``steps`` SGD steps of the ``v1sim train lenet5`` recipe (:func:`v1sim.nn.recipes.train_steps`)."""
    return train_steps("lenet5", x, y, steps=steps, seed=seed)


def lenet_predict(model, images):
    """Class labels (N,) of LeNet-5 for digits (N, 1, 28, 28)."""
    return predict_labels(model, images, models.default_input_shape("lenet5"))


def shifted(images, d, rng):
    """Each image moved by d pixels along a random axis direction, blank pixels filled with 0."""
    out = np.zeros_like(images)
    h, w = images.shape[-2:]
    for i, k in enumerate(rng.integers(0, 4, len(images))):
        dx, dy = [(d, 0), (-d, 0), (0, d), (0, -d)][k]
        out[i, ..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = images[
            i, ..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
        ]
    return out


def distorted(images, rms, rng, sigma=4.0):
    """Elastic distortion: smooth random displacements with the given RMS length (pixels)."""
    if rms == 0:
        return images.copy()
    h, w = images.shape[-2:]
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    out = np.empty_like(images)
    for i, img in enumerate(images):
        field = np.stack([ndimage.gaussian_filter(rng.standard_normal((h, w)), sigma) for _ in range(2)])
        field *= rms / np.sqrt((field**2).sum(axis=0).mean())
        out[i, 0] = ndimage.map_coordinates(img[0], [yy + field[0], xx + field[1]], order=1, cval=0.0)
    return out


def _pixel_nn(x, y, xt):
    a = x.reshape(len(x), -1)
    b = xt.reshape(len(xt), -1)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return y[(b @ a.T).argmax(axis=1)]


def main(out_dir, quick=False) -> Path:
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    n, n_unsup, n_test = (100, 60, 30) if quick else (N_TRAIN, N_UNSUPERVISED, N_TEST)
    shifts, distortions = (SHIFTS[::2], DISTORTIONS[::2]) if quick else (SHIFTS, DISTORTIONS)
    x, y, xt, yt = x[:n], y[:n], xt[:n_test], yt[:n_test]
    net = Neocognitron(NeocognitronConfig(n_unsupervised=n_unsup)).fit(x, y, rng=0)
    hmax = HMAX(HMAXConfig(n_imprint=n_unsup, s2_prototypes=100 if quick else 400)).fit(x, y, rng=0)
    lenet = train_lenet5(x, y, steps=10 if quick else LENET_STEPS)

    def accuracies(images):
        c3 = net.features(images, "UC3")
        return {
            "intvec": np.mean(net.predict_features(c3, classifier="intvec") == yt),
            "ridge": np.mean(net.predict_features(c3, classifier="ridge") == yt),
            "lenet": np.mean(lenet_predict(lenet, images) == yt),
            "hmax": np.mean(hmax.predict(images) == yt),
            "pixels": np.mean(_pixel_nn(x, y, images) == yt),
        }

    panels = []
    for title, levels, make, unit in (
        ("translation", shifts, shifted, "shift d (pixels)"),
        ("elastic distortion", distortions, distorted, "RMS displacement (pixels)"),
    ):
        rng = np.random.default_rng(1)
        sets = [make(xt, level, rng) for level in levels]
        panels.append((title, levels, unit, [accuracies(s) for s in sets], [s[0, 0] for s in sets]))

    styles = {k: MODEL_STYLES[k] for k in ("intvec", "ridge", "lenet", "hmax", "pixels")}  # legend order
    with paper_style():
        fig = plt.figure(figsize=(10.4, 5.6), constrained_layout=True)
        grid = fig.add_gridspec(2, 2, height_ratios=[3.2, 1])
        for col, (title, levels, unit, accs, examples) in enumerate(panels):
            ax = fig.add_subplot(grid[0, col])
            for kind, (label, colour, marker, ls) in styles.items():
                ax.plot(
                    levels, [100 * a[kind] for a in accs], marker=marker, ls=ls, color=colour, ms=4, lw=1.2, label=label
                )
            ax.axhline(10, color="0.7", lw=0.6, ls=":")
            ax.text(levels[-1], 11, "chance", ha="right", va="bottom", fontsize=7, color="0.5")
            ax.set_ylim(0, 100)
            ax.set_xticks(levels)
            ax.set_xlabel(unit)
            ax.set_ylabel(f"test accuracy (%, {len(yt)} digits)")
            ax.set_title(f"Accuracy under {title} (trained on {n} undistorted digits)")
            ax.grid(True, color="0.92", lw=0.6)
            if col == 0:
                ax.legend(frameon=False, loc="lower left")
            strip = fig.add_subplot(grid[1, col])
            gap = 0.15
            for i, img in enumerate(examples):
                x0 = i * (1 + gap)
                strip.imshow(img, cmap="gray", vmin=0, vmax=1, extent=(x0, x0 + 1, 1, 0))
                strip.text(x0 + 0.5, 1.05, f"{levels[i]:g}", ha="center", va="top", fontsize=7)
            strip.set_xlim(-gap, len(examples) * (1 + gap))
            strip.set_ylim(1.25, -0.02)
            strip.set_aspect("equal")
            strip.set_axis_off()
        return save_figure(fig, Path(out_dir) / "neocognitron_invariance.png")


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "figures", quick="--quick" in sys.argv))
