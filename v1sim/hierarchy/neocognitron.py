"""The Neocognitron (Fukushima 2003) on S/C layers (public via :mod:`v1sim.hierarchy`).

U0 -> UG (ON/OFF contrast) -> US1/UC1 (fixed edge extractors) -> US2/UC2 ->
US3/UC3 (competitive learning with add-if-silent) -> US4/UC4 (labelled
prototypes). The equations and learning rules are documented in
:mod:`v1sim.hierarchy`.
"""

from __future__ import annotations

import math
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
from . import learning
from .base import Hierarchy, HierarchyConfig, seed_from
from .catalog import CLASSIFIERS
from .connections import connection_kernel
from .layers import CLayer, SLayer
from .readout import PrototypeClassifier, RidgeReadout

__all__ = ["Neocognitron", "NeocognitronConfig", "StageSpec"]


@dataclass(frozen=True)
class StageSpec:
    """One S/C level of the Neocognitron, US{level} -> UC{level}: the settings its layers are built from.

    Derived from :class:`NeocognitronConfig`'s flat fields (``s2_size``,
    ``c2_stride``, ...; what checkpoints store) by its ``stages`` property.
    """

    level: int  # 1, 2 or 3
    planes: int  # S-cell planes (for a learned level: the most add-if-silent may create)
    s_size: int  # connection area of the S-cells (odd)
    s_r: float  # S-cell selectivity in recognition
    s_r_learn: float | None  # selectivity while learning (None: a fixed level)
    c_size: int  # C-cell window
    c_stride: int
    c_padding: int


@dataclass(frozen=True)
class NeocognitronConfig(HierarchyConfig):
    """Sizes and parameters of a Neocognitron; every default is for 28x28 digits.

    Map sizes with the defaults: U0 28x28 -> UG 2@28 -> US1 8@28 -> UC1 8@28
    -> US2 24@28 -> UC2 24@14 -> US3 48@14 -> UC3 48@7 -> US4 K4@1 -> UC4 10@1
    (K@S: K cell planes of SxS cells). The S-cell selectivities are given as
    Fukushima's ``r``; the cosine threshold is ``theta = r / (1 + r)``
    (r = 0.8 -> 0.44, r = 2 -> 0.67, r = 80 -> 0.988). Tuned on the embedded
    digits (1000 training images, 1000 test images); on full MNIST (60,000
    training, 10,000 test images) the defaults reach a test error of 1.11%
    (IntVec; nearest prototype 1.61%, ridge readout of UC3 1.31%) with about
    41,500 S4 prototypes (``v1sim train neocognitron --dataset mnist``), and
    UC3's maps of a digit and of the digit shifted by 2 pixels correlate
    0.91 (see ``c3_size`` and ``s4_r_learn``).
    """

    image_size: int = 28  # side of the square input layer U0 (pixels)
    # UG: contrast extraction, ON- and OFF-centre differences of Gaussians
    ug_sigma: float = 0.8  # centre sigma (pixels); the surround is ug_ratio times wider
    ug_ratio: float = 2.0
    ug_size: int = 7  # DoG kernel side (odd)
    # US1/UC1: fixed edge extractors, Gaussian-derivative templates over ON/OFF
    s1_orientations: int = 8  # edge directions, evenly over [0, 2 pi): 4 orientations x 2 polarities
    s1_size: int = 5  # S1 connection area (odd, pixels)
    s1_sigma: float = 1.0  # across-edge sigma of the template (along the edge: twice that)
    s1_r: float = 0.8  # S1 selectivity (theta 0.44)
    c1_size: int = 3  # C1 blur window (at stride 1: a blur without subsampling)
    c1_stride: int = 1
    c1_padding: int = 1
    # US2/UC2: unsupervised competitive learning with add-if-silent
    s2_size: int = 3  # connection area on UC1 (odd)
    s2_planes: int = 24  # most cell planes add-if-silent may create
    s2_r: float = 0.8  # selectivity in recognition (theta 0.44)
    s2_r_learn: float = 2.0  # higher selectivity while learning (theta 0.67), as Fukushima (2003)
    c2_size: int = 3
    c2_stride: int = 2
    c2_padding: int = 1
    # US3/UC3: as US2/UC2, one level up
    s3_size: int = 3
    s3_planes: int = 48
    s3_r: float = 0.8
    s3_r_learn: float = 2.0
    # UC3 window: 5x5 at stride 2 (c3_padding=2: a 7x7 map), each C-cell blurring over more than
    # twice its sampling step, so that a digit shifted by 2 pixels keeps its UC3 maps (mean
    # correlation 0.91; 1 pixel: 0.98). A 3x3 window (c3_padding=1) tolerates less (0.84; 1 pixel:
    # 0.96). The blurrier UC3 maps need more selective S4 learning (s4_r_learn) to keep their
    # prototypes apart; full MNIST IntVec error with 5x5: 1.71% (s4_r_learn 20: S4 merges the
    # training vectors into 6,300 prototypes), 1.28% (40: 21,300), 1.11% (80: 41,500; the default);
    # with 3x3 and s4_r_learn 20: 1.17% (20,000). The ridge readout gains from the blur too
    # (3x3: 1.44%, 5x5: 1.31%). Blurring UC1/UC2 instead costs more (S3 learns fewer planes).
    c3_size: int = 5
    c3_stride: int = 2
    c3_padding: int = 2
    # US4/UC4: supervised; the connection area is the whole UC3 map
    s4_r: float = 1.0  # selectivity of the labelled S4 cells (theta 0.5), for the US4 maps
    s4_r_learn: float = 80.0  # a vector joins the winning prototype of its class above theta 0.988, else is one
    s4_planes: int = 60000  # most labelled prototypes (full MNIST makes about 41,500)
    classifier: str = "intvec"  # "intvec" (Fukushima 2007), "nearest" (prototype) or "ridge" (linear on UC3)
    # Fukushima (2007) interpolates between *all* pairs of same-label prototypes; we pair only the m
    # most similar prototypes of each class (an efficiency restriction). m = 4 was too tight: on full
    # MNIST (60k/10k; measured with a 3x3 UC3 and s4_r_learn 20: ~20k prototypes) the IntVec error
    # is 1.51% (m 4), 1.27% (8), 1.17% (16), 1.15% (32), 1.20% (64); 16 costs about as much as 4
    # (one (N, m, m) Gram lookup per class).
    intvec_candidates: int = 16  # most similar prototypes per class whose pairs IntVec interpolates
    # shared by every stage
    c_kind: str = "avg"  # C-cell pooling: "avg" (blur, Fukushima), "max" (HMAX) or "l2"
    c_saturation: float = 0.5  # alpha of psi[x] = x / (alpha + x) at every C-layer
    c_taper: float = 0.5  # connection weights c(nu): Gaussian of sigma c_taper * size
    ais_min_input: float = 0.25  # add-if-silent ignores patches with V-input below this fraction of the image's max
    n_unsupervised: int = 1000  # training images shown to the unsupervised layers US2, US3
    batch_size: int = 64  # images whose responses are computed together while learning
    ridge_alpha: float = 10.0  # L2 penalty of the linear readout

    def __post_init__(self):
        for name in (
            "image_size",
            "ug_size",
            "s1_orientations",
            "s1_size",
            "c1_size",
            "c1_stride",
            "s2_size",
            "s2_planes",
            "c2_size",
            "c2_stride",
            "s3_size",
            "s3_planes",
            "c3_size",
            "c3_stride",
            "s4_planes",
            "intvec_candidates",
            "n_unsupervised",
            "batch_size",
        ):
            check_positive_int(getattr(self, name), name)
        for name in ("ug_size", "s1_size", "s2_size", "s3_size"):
            if getattr(self, name) % 2 == 0:
                raise ValueError(f"{name} must be odd (a connection area has a centre), got {getattr(self, name)}")
        for name in ("c1_padding", "c2_padding", "c3_padding"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
        for name in ("ug_sigma", "s1_sigma", "c_saturation", "c_taper", "ridge_alpha"):
            check_positive_float(getattr(self, name), name)
        if self.ug_ratio <= 1:
            raise ValueError(f"ug_ratio must be > 1 (surround wider than centre), got {self.ug_ratio}")
        for name in ("s1_r", "s2_r", "s2_r_learn", "s3_r", "s3_r_learn", "s4_r", "s4_r_learn"):
            check_in_range(getattr(self, name), name, 0.0, math.inf, inclusive=(False, False))
        check_in_range(self.ais_min_input, "ais_min_input", 0.0, 1.0)
        check_choice(self.c_kind, "c_kind", ("avg", "max", "l2"))
        check_choice(self.classifier, "classifier", CLASSIFIERS["neocognitron"])

    @property
    def stages(self) -> tuple[StageSpec, StageSpec, StageSpec]:
        """The S/C levels 1 to 3 as data: :class:`StageSpec` (US1/UC1, US2/UC2, US3/UC3)."""
        return (
            StageSpec(
                1, self.s1_orientations, self.s1_size, self.s1_r, None, self.c1_size, self.c1_stride, self.c1_padding
            ),
            StageSpec(
                2,
                self.s2_planes,
                self.s2_size,
                self.s2_r,
                self.s2_r_learn,
                self.c2_size,
                self.c2_stride,
                self.c2_padding,
            ),
            StageSpec(
                3,
                self.s3_planes,
                self.s3_size,
                self.s3_r,
                self.s3_r_learn,
                self.c3_size,
                self.c3_stride,
                self.c3_padding,
            ),
        )


def _edge_templates(cfg: NeocognitronConfig) -> np.ndarray:
    """S1 templates (K1, 2, s, s): a Gaussian-derivative edge split into its ON and OFF lobes."""
    out = []
    for k in range(cfg.s1_orientations):
        g = filters.gaussian_derivative_kernel(
            cfg.s1_sigma,
            2 * cfg.s1_sigma,
            order=1,
            theta=2 * math.pi * k / cfg.s1_orientations,
            size=cfg.s1_size,
            dtype=np.float64,
        )
        # -d/dx' G is positive on the +x' side: bright (ON) there, dark (OFF) on the other side
        out.append(np.stack([np.maximum(-g, 0.0), np.maximum(g, 0.0)]))
    return np.asarray(out, dtype=np.float32)


class Neocognitron(Hierarchy):
    """Fukushima's Neocognitron for digits: S-C sandwich with learned S2/S3 and labelled S4.

    Parameters
    ----------
    config : NeocognitronConfig, optional
    device : {"auto", "cpu", "parallel", "cuda"}
        Backend of every correlation and pooling.

    Attributes
    ----------
    layers : dict of str to SLayer or CLayer
        The stages built so far ("UG", "US1", "UC1", ...); S2, S3 and S4
        appear once learned.
    classifier : PrototypeClassifier or None
        The labelled S4 prototypes (after learning).
    readout : RidgeReadout or None
        The linear readout on UC3 (for comparison).

    Examples
    --------
    >>> from v1sim.datasets import load_digits
    >>> x, y = load_digits("train")
    >>> net = Neocognitron().fit(x[:300], y[:300], rng=0)  # doctest: +SKIP
    >>> list(net.forward(x[:1]))                          # doctest: +SKIP
    ['U0', 'UG', 'US1', 'UC1', 'US2', 'UC2', 'US3', 'UC3', 'US4', 'UC4']
    >>> net.predict(x[300:305])                           # doctest: +SKIP
    """

    NAME = "neocognitron"
    CONFIG = NeocognitronConfig
    STAGES = ("U0", "UG", "US1", "UC1", "US2", "UC2", "US3", "UC3", "US4", "UC4")
    LEARNED = ("S2", "S3", "S4")
    FEATURE_STAGE = "UC3"

    def __init__(self, config: NeocognitronConfig | None = None, *, device="auto"):
        super().__init__(config, device=device)
        cfg = self.config
        s1 = cfg.stages[0]
        on = filters.dog_kernel(cfg.ug_sigma, cfg.ug_ratio * cfg.ug_sigma, size=cfg.ug_size)
        self.layers["UG"] = SLayer(np.stack([on, -on])[:, None], tuning="linear", device=device, name="UG")
        self.layers["US1"] = SLayer(
            _edge_templates(cfg), r=s1.s_r, c=self.connection_weights(s1.s_size), device=device, name="US1"
        )
        self.layers["UC1"] = self._clayer(s1)
        self.classifier: PrototypeClassifier | None = None
        self._shapes = self._check_geometry()

    # ------------------------------------------------------------ construction
    def connection_weights(self, size):
        """Connection weights ``c(nu)`` of an S-layer with a ``size`` x ``size`` connection area (``c_taper``)."""
        return connection_kernel(size, self.config.c_taper * size)

    def _clayer(self, spec: StageSpec):
        cfg = self.config
        return CLayer(
            spec.c_size,
            spec.c_stride,
            spec.c_padding,
            kind=cfg.c_kind,
            saturation=cfg.c_saturation,
            device=self.device,
            name=f"UC{spec.level}",
        )

    def _check_geometry(self) -> dict:
        """Per-image shapes of every stage with the configured sizes, or a ValueError naming the field."""
        cfg = self.config
        shapes = {"U0": (1, cfg.image_size, cfg.image_size)}
        h = cfg.image_size
        for spec in cfg.stages:
            level, size, stride, pad = spec.level, spec.c_size, spec.c_stride, spec.c_padding
            if pad > size // 2:
                raise ValueError(f"c{level}_padding={pad} must be at most half of c{level}_size={size}")
            if size > h + 2 * pad:
                raise ValueError(
                    f"c{level}_size={size} (pooling window) is larger than its input US{level} ({h}x{h}, padding {pad})"
                )
            shapes[f"US{level}"] = (spec.planes, h, h)
            h = out_len(h, size, stride, pad)
            shapes[f"UC{level}"] = (spec.planes, h, h)
        shapes["UG"] = (2, cfg.image_size, cfg.image_size)
        return shapes

    # ------------------------------------------------------------ forward
    def stage_output(self, name, x):
        """As :meth:`Hierarchy.stage_output`; "UC4" has one plane per class, the largest S4 response among its
        prototypes."""
        if name == "UC4" and self.classifier is not None:
            return self.classifier.class_maxima(x)
        return super().stage_output(name, x)

    # ------------------------------------------------------------ learning
    def learn_stage(self, stage, images, labels, *, seed, progress=False, state=None, should_stop=None, cache=None):
        """Learn one stage ("S2", "S3", "S4" or "readout"), the ones below it learned already.

        The first ``config.n_unsupervised`` images of a seeded permutation
        train S2 and S3 (without labels); all images train S4 and the readout.
        Returns None when the stage is learned, or a partial state (plain
        arrays and the position reached) when ``should_stop()`` turned true
        between batches; pass it back as ``state`` to continue exactly.
        """
        return learning.learn_stage(
            self, stage, images, labels, seed=seed, progress=progress, state=state, should_stop=should_stop, cache=cache
        )

    def fit_top(self, c3, labels, *, rng=None, progress=False) -> Neocognitron:
        """Learn only the supervised top (S4 prototypes and readout) from UC3 maps (N, K3, h, w).

        The unsupervised layers stay as they are: e.g. learn S2/S3 once and
        train the top with different numbers of labelled images.
        """
        cfg = self.config
        c3 = np.asarray(c3, dtype=np.float32)
        y = check_labels(labels, len(c3))
        order = np.random.default_rng([seed_from(rng), 0]).permutation(len(c3))
        result = learning.supervised_learning(
            c3[order],
            y[order],
            r=cfg.s4_r_learn,
            max_planes=cfg.s4_planes,
            c_taper=cfg.c_taper,
            batch_size=4 * cfg.batch_size,
            progress=progress,
        )
        self.set_planes("S4", result["templates"], result["counts"], result["labels"])
        self.readout = RidgeReadout(cfg.ridge_alpha).fit(c3.reshape(len(c3), -1), y)
        return self

    def predict_features(self, c3, *, classifier=None) -> np.ndarray:
        """Class labels from UC3 maps (N, K3, h, w)."""
        kind = check_choice(
            self.config.classifier if classifier is None else classifier, "classifier", CLASSIFIERS[self.NAME]
        )
        if kind == "ridge":
            if self.readout is None:
                raise RuntimeError("the ridge readout is not trained yet (fit first)")
            return self.readout.predict(c3.reshape(len(c3), -1))
        return self._prototype_labels(c3)[kind]

    def _prototype_labels(self, c3) -> dict:
        """Labels by the S4 prototypes, {"intvec": ..., "nearest": ...}: one class's prototypes at a time."""
        if self.classifier is None:
            raise RuntimeError("S4 has no prototypes yet (fit first)")
        if len(c3) == 0:
            return {m: np.zeros(0, dtype=np.int64) for m in ("intvec", "nearest")}
        nearest, scores = self.classifier.class_scores(c3, self.config.intvec_candidates)
        return {"intvec": scores.argmax(axis=1), "nearest": nearest}

    def predict_all(self, c3) -> dict:
        """Labels from UC3 maps by every classifier ("intvec", "nearest", "ridge"), sharing one S4 pass.

        The prototypes' cosines are made one class at a time
        (:meth:`PrototypeClassifier.class_scores`), so neither the (N, K) cosines nor every class's
        Gram block are held at once.
        """
        labels = self._prototype_labels(c3)
        out = {m: labels[m] for m in CLASSIFIERS[self.NAME] if m != "ridge"}  # the prototype classifiers
        out["ridge"] = self.predict_features(c3, classifier="ridge")
        return out

    # ------------------------------------------------------------ state
    def set_planes(self, stage, templates, counts=None, labels=None):
        """Install learned templates of "S2", "S3" or "S4" (labels: S4 only)."""
        cfg = self.config
        level = int(stage[1])
        if level in (2, 3):
            spec = cfg.stages[level - 1]
            self.layers[f"US{level}"] = SLayer(
                templates, r=spec.s_r, c=self.connection_weights(spec.s_size), device=self.device, name=f"US{level}"
            )
            self.layers[f"UC{level}"] = self._clayer(spec)
        else:
            self.classifier = PrototypeClassifier(
                templates, labels, r=cfg.s4_r, c_taper=cfg.c_taper, device=self.device
            )
            self.layers["US4"] = self.classifier.layer
        self.counts[stage] = np.asarray(counts if counts is not None else np.ones(len(templates)), dtype=np.int64)

    def stage_arrays(self, stage) -> dict:
        """As :meth:`Hierarchy.stage_arrays`, with the class ``labels`` of the S4 prototypes."""
        out = super().stage_arrays(stage)
        if stage == "S4":
            out["labels"] = self.classifier.labels
        return out

    def __repr__(self) -> str:
        parts = [f"{k}: {getattr(v, 'n_planes', '')}" for k, v in self.layers.items() if isinstance(v, SLayer)]
        return f"Neocognitron({', '.join(parts)})"
