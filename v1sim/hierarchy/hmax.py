"""HMAX (Riesenhuber & Poggio 1999; Serre et al. 2007) as a configuration of S- and C-layers.

Public via :mod:`v1sim.hierarchy`. U0 -> US1 (Gabor bank, normalised dot
product) -> UC1 (max over position and adjacent scales) -> US2 (Gaussian
RBF around prototypes imprinted from training images) -> UC2 (global max)
-> linear readout. The same :class:`SLayer` and :class:`CLayer` as the
Neocognitron, with other tunings and pooling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import filters
from .._core.validate import (
    check_choice,
    check_in_range,
    check_labels,
    check_positive_float,
    check_positive_int,
)
from ..kernels.ops import out_len
from .base import Hierarchy, HierarchyConfig, as_images
from .catalog import CLASSIFIERS
from .layers import CLayer, SLayer
from .readout import RidgeReadout

__all__ = ["HMAX", "HMAXConfig"]


@dataclass(frozen=True)
class HMAXConfig(HierarchyConfig):
    """Sizes and parameters of HMAX for 28x28 digits.

    Map sizes with the defaults: U0 28x28 -> US1 16@28 (4 scales x 4
    orientations) -> UC1 8@14 (2 bands x 4) -> US2 K@12 -> UC2 K@1.
    """

    image_size: int = 28  # side of the square input (pixels)
    # S1: Gabor filters (even phase), response |<w, x>| / ||x|| (Serre et al. 2007)
    s1_frequencies: tuple = (0.3, 0.24, 0.19, 0.15)  # cycles/pixel, one per scale, finest first
    s1_orientations: int = 4  # evenly over [0, pi)
    s1_bandwidth: float = 1.0  # octaves
    s1_size: int = 9  # common kernel side (odd, pixels)
    # C1: max over c1_size^2 positions and over pairs of adjacent scales
    c1_size: int = 3
    c1_stride: int = 2
    c1_padding: int = 1
    c1_scale_pool: int = 2  # scales merged into one band
    # S2: prototypes imprinted from C1 patches of training images, Gaussian RBF tuning
    s2_size: int = 3  # prototype side on UC1 (cells), valid correlation
    s2_prototypes: int = 400
    s2_sigma: float = 0.5  # RBF width relative to the prototype's norm
    n_imprint: int = 1000  # training images the prototypes are drawn from
    # C2: global max; readout: ridge regression
    ridge_alpha: float = 1.0

    def __post_init__(self):
        freqs = tuple(float(f) for f in np.atleast_1d(self.s1_frequencies))
        object.__setattr__(self, "s1_frequencies", freqs)
        for i, f in enumerate(freqs):
            check_in_range(f, f"s1_frequencies[{i}]", 0.0, 0.5, inclusive=(False, True))
        for name in (
            "image_size",
            "s1_orientations",
            "s1_size",
            "c1_size",
            "c1_stride",
            "c1_scale_pool",
            "s2_size",
            "s2_prototypes",
            "n_imprint",
        ):
            check_positive_int(getattr(self, name), name)
        if self.s1_size % 2 == 0:
            raise ValueError(f"s1_size must be odd, got {self.s1_size}")
        if len(freqs) % self.c1_scale_pool:
            raise ValueError(f"c1_scale_pool={self.c1_scale_pool} must divide the number of scales ({len(freqs)})")
        for name in ("s1_bandwidth", "s2_sigma", "ridge_alpha"):
            check_positive_float(getattr(self, name), name)


class HMAX(Hierarchy):
    """HMAX: S1 Gabor / C1 local max / S2 RBF prototypes / C2 global max, and a linear readout.

    Parameters
    ----------
    config : HMAXConfig, optional
    device : {"auto", "cpu", "parallel", "cuda"}

    References
    ----------
    .. [1] Riesenhuber M, Poggio T (1999). Hierarchical models of object
       recognition in cortex. Nature Neuroscience 2(11):1019-1025.
    .. [2] Serre T, Wolf L, Bileschi S, Riesenhuber M, Poggio T (2007). Robust
       object recognition with cortex-like mechanisms. IEEE TPAMI 29(3):411-426.
    """

    NAME = "hmax"
    CONFIG = HMAXConfig
    STAGES = ("U0", "US1", "UC1", "US2", "UC2")
    LEARNED = ("S2",)
    FEATURE_STAGE = "UC2"

    def __init__(self, config: HMAXConfig | None = None, *, device="auto"):
        super().__init__(config, device=device)
        cfg = self.config
        bank = filters.gabor_bank(
            cfg.s1_frequencies, cfg.s1_orientations, phases=(0.0,), bandwidth=cfg.s1_bandwidth, size=cfg.s1_size
        )
        self.layers["US1"] = SLayer(bank.kernels[:, None], tuning="ndp", device=device, name="US1")
        self.layers["UC1"] = CLayer(
            cfg.c1_size,
            cfg.c1_stride,
            cfg.c1_padding,
            kind="max",
            n_scales=len(cfg.s1_frequencies),
            scale_pool=cfg.c1_scale_pool,
            device=device,
            name="UC1",
        )
        self._check_geometry()

    def _check_geometry(self):
        cfg = self.config
        h = cfg.image_size
        if cfg.c1_padding > cfg.c1_size // 2:
            raise ValueError(f"c1_padding={cfg.c1_padding} must be at most half of c1_size={cfg.c1_size}")
        if cfg.c1_size > h + 2 * cfg.c1_padding:
            raise ValueError(f"c1_size={cfg.c1_size} (pooling window) is larger than its input US1 ({h}x{h})")
        h = out_len(h, cfg.c1_size, cfg.c1_stride, cfg.c1_padding)
        if cfg.s2_size > h:
            raise ValueError(f"s2_size={cfg.s2_size} is larger than its input UC1 ({h}x{h})")

    def learn_stage(self, stage, images, labels, *, seed, progress=False, state=None, should_stop=None, cache=None):
        """Learn "S2" (imprinting) or "readout"; returns None (both are one step, never partial)."""
        cfg = self.config
        check_choice(stage, "stage", ("S2", "readout"))
        x = as_images(images, "images", cfg.image_size)
        y = check_labels(labels, len(x))
        cache = {} if cache is None else cache
        order = np.random.default_rng([seed, 0]).permutation(len(x))
        if stage == "S2":
            c1 = self.features(x[order[: cfg.n_imprint]], "UC1", progress=progress, desc="UC1 for imprinting")
            self.set_planes("S2", imprint(c1, cfg.s2_size, cfg.s2_prototypes, np.random.default_rng([seed, 2])))
            return None
        if "S2" not in self.learned:
            raise RuntimeError("imprint S2 before the readout")
        feats = self.features(x[order], "UC2", progress=progress, desc="UC2 of the training set")
        self.readout = RidgeReadout(cfg.ridge_alpha).fit(feats.reshape(len(x), -1), y[order])
        return None

    def fit_top(self, c2, labels, *, rng=None, progress=False) -> HMAX:
        """Fit only the readout on C2 maps (N, K, 1, 1), keeping the S2 prototypes."""
        c2 = np.asarray(c2)
        self.readout = RidgeReadout(self.config.ridge_alpha).fit(c2.reshape(len(c2), -1), check_labels(labels, len(c2)))
        return self

    def set_planes(self, stage, templates, counts=None, labels=None):
        """Install S2 prototypes (K, C1 planes, s, s) and the global C2 layer."""
        self.layers["US2"] = SLayer(
            templates, tuning="rbf", sigma=self.config.s2_sigma, padding="valid", device=self.device, name="US2"
        )
        self.layers["UC2"] = CLayer(None, kind="max", device=self.device, name="UC2")
        self.counts["S2"] = np.ones(len(templates), dtype=np.int64) if counts is None else np.asarray(counts)

    def predict_features(self, c2, *, classifier=None) -> np.ndarray:
        """Class labels from C2 maps (N, K, 1, 1) by the ridge readout (HMAX's one classifier, the default)."""
        check_choice(
            CLASSIFIERS[self.NAME][0] if classifier is None else classifier, "classifier", CLASSIFIERS[self.NAME]
        )
        if self.readout is None:
            raise RuntimeError("the readout is not trained yet (fit first)")
        return self.readout.predict(c2.reshape(len(c2), -1))

    def predict_all(self, c2) -> dict:
        """Labels from C2 maps by every classifier HMAX offers (the ridge readout)."""
        return {"ridge": self.predict_features(c2)}

    def __repr__(self) -> str:
        k = self.layers["US2"].n_planes if "US2" in self.layers else 0
        return f"HMAX(US1: {self.layers['US1'].n_planes}, US2: {k} prototypes)"


def imprint(c1, size, n, rng) -> np.ndarray:
    """Draw ``n`` prototypes (n, C, size, size) from C1 maps (M, C, H, W) at random images and positions.

    Positions are drawn among the patches with at least the median energy of
    their image (a digit's blank background would make blank prototypes);
    Serre et al. (2007) draw uniformly from natural images.
    """
    m, ch, h, w = c1.shape
    win = np.lib.stride_tricks.sliding_window_view(c1, (size, size), axis=(2, 3))  # (M, C, H', W', s, s)
    energy = (win**2).sum(axis=(1, 4, 5))  # (M, H', W')
    out = np.empty((n, ch, size, size), dtype=np.float32)
    images = rng.integers(0, m, size=n)
    for i, j in enumerate(images):
        e = energy[j].ravel()
        cand = np.flatnonzero(e >= max(np.median(e), 1e-12))
        if cand.size == 0:
            cand = np.arange(e.size)
        p = cand[rng.integers(cand.size)]
        out[i] = win[j, :, p // energy.shape[2], p % energy.shape[2]]
    return out
