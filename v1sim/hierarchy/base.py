"""What the Neocognitron and HMAX do alike: configs, stages, features, learning stage by stage, learned arrays.

A model is a dict of named layers (``"US1"``, ``"UC1"``, ...) run in the
order of ``STAGES``; the stages in ``LEARNED`` appear once learned (their
templates and counts are the model's state), and a readout or classifier
reads the maps of ``FEATURE_STAGE``. Each model says how it learns a stage
(``learn_stage``), installs learned planes (``set_planes``) and classifies
(``predict_features``, ``predict_all``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._core.validate import as_float_array, check_choice
from .readout import RidgeReadout

__all__ = ["Hierarchy", "HierarchyConfig", "as_images", "batched", "seed_from"]


class HierarchyConfig:
    """What the models' frozen configuration dataclasses share."""

    def replace(self, **changes):
        """A copy with ``changes``; unknown names raise a TypeError listing the fields."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(
                f"unknown {type(self).__name__} field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return dataclasses.replace(self, **changes)


def seed_from(rng) -> int:
    """The integer seed of a model's learning: ``rng`` itself, one drawn from a Generator, or a fresh one for None."""
    if rng is None:
        return int(np.random.default_rng().integers(2**31))
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**31))
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return int(rng)
    raise TypeError(f"rng must be None, a non-negative integer seed or a numpy Generator, got {rng!r}")


def as_images(images, name: str, size: int | None = None) -> np.ndarray:
    """(H, W), (N, H, W) or (N, 1, H, W) -> C-contiguous float32 (N, 1, H, W); checks the side."""
    x = as_float_array(images, name, ndim=(2, 3, 4))
    if x.ndim == 2:
        x = x[None, None]
    elif x.ndim == 3:
        x = x[:, None]
    if x.shape[1] != 1:
        raise ValueError(f"{name} must be grey images (N, 1, H, W), got {x.shape[1]} channels (shape {x.shape})")
    if size is not None and x.shape[2:] != (size, size):
        raise ValueError(f"{name} must be {size}x{size} (config image_size), got {x.shape[2]}x{x.shape[3]}")
    return np.ascontiguousarray(x, dtype=np.float32)


def batched(n: int, batch_size: int, *, progress=False, desc="", start=0):
    """Start indices 0, B, 2B, ... below n, with a tqdm bar on stderr when ``progress``."""
    from tqdm.auto import tqdm

    starts = range(start, n, batch_size)
    return tqdm(starts, desc=desc, unit="batch", disable=not progress, leave=False)


class Hierarchy:
    """Base of the S/C hierarchies: a configuration, named layers run in order, learned stages, a readout.

    Subclasses set ``NAME`` (their key in :data:`v1sim.hierarchy.MODELS` and
    :data:`v1sim.hierarchy.CLASSIFIERS`), ``CONFIG`` (their configuration
    class), ``STAGES``, ``LEARNED`` and ``FEATURE_STAGE``, and define
    ``learn_stage``, ``set_planes``, ``predict_features`` and ``predict_all``.

    Attributes
    ----------
    config : the model's configuration (frozen dataclass)
    layers : dict of str to SLayer or CLayer
        The stages built so far, by name.
    counts : dict of str to ndarray
        Per learned stage, how many patches each plane learned.
    readout : RidgeReadout or None
        The linear readout on ``FEATURE_STAGE`` (after learning).
    """

    NAME: str
    CONFIG: type
    STAGES: tuple
    LEARNED: tuple
    FEATURE_STAGE: str

    def __init__(self, config=None, *, device="auto"):
        config = self.CONFIG() if config is None else config
        if not isinstance(config, self.CONFIG):
            name = self.CONFIG.__name__
            article = "an" if name[0] in "AEHIOU" else "a"  # "an HMAXConfig", "a NeocognitronConfig"
            raise TypeError(f"config must be {article} {name}, got {type(config).__name__}")
        self.config = config
        self.device = device
        self.layers: dict = {}
        self.counts: dict[str, np.ndarray] = {}
        self.readout: RidgeReadout | None = None

    @property
    def learned(self) -> tuple[str, ...]:
        """Names of the learned S-layers so far (e.g. "S2", "S3")."""
        return tuple(s for s in self.LEARNED if f"U{s}" in self.layers)

    # ------------------------------------------------------------ forward
    def forward(self, images, *, upto=None) -> dict:
        """Every stage's maps for a batch of images, in order, up to ``upto`` or the last stage built.

        Parameters
        ----------
        images : (N, 1, H, W), (N, H, W) or (H, W) array_like
            Grey images in [0, 1] (ink = 1), ``H = W = config.image_size``.
        upto : str, optional
            Stop after this stage (one of ``STAGES``); default: the last built one.

        Returns
        -------
        dict of str to ndarray
            "U0" and each stage's maps (N, K, H, W) float32, in order.
        """
        x = as_images(images, "images", self.config.image_size)
        if upto is not None:
            check_choice(upto, "upto", self.STAGES)
        maps = {"U0": x}
        prev = x
        for name in self.STAGES[1:]:
            out = None if upto == "U0" else self.stage_output(name, prev)
            if out is None:
                break
            maps[name] = prev = out
            if name == upto:
                break
        return maps

    def stage_output(self, name, x):
        """The maps of stage ``name`` given those of the stage below, or None if it is not built yet."""
        layer = self.layers.get(name)
        return None if layer is None else layer(x)

    def features(self, images, stage=None, *, batch_size=500, progress=False, desc=None) -> np.ndarray:
        """The maps of one stage (default ``FEATURE_STAGE``) for many images, computed in batches (N, K, H, W).

        The batches are written into one array allocated at the first batch (not gathered and concatenated:
        on full MNIST the UC3 maps of the training set are 0.56 GB, and a concatenation held them twice).
        """
        stage = self.FEATURE_STAGE if stage is None else check_choice(stage, "stage", self.STAGES)
        x = as_images(images, "images", self.config.image_size)
        out = None
        for start in batched(len(x), batch_size, progress=progress, desc=desc or f"{stage} features"):
            maps = self.forward(x[start : start + batch_size], upto=stage)
            if stage not in maps:
                raise RuntimeError(f"stage {stage} is not built yet (learned so far: {self.learned or 'none'})")
            if out is None:
                out = np.empty((len(x),) + maps[stage].shape[1:], dtype=maps[stage].dtype)
            out[start : start + batch_size] = maps[stage]
        return out  # as_images refuses an empty batch: at least one batch ran

    # ------------------------------------------------------------ learning and predicting
    def fit(self, images, labels, *, rng=None, progress=False):
        """Learn every stage in turn (``LEARNED``, then the readout). Deterministic for an integer ``rng``."""
        seed = seed_from(rng)
        cache: dict = {}
        for stage in self.LEARNED + ("readout",):
            self.learn_stage(stage, images, labels, seed=seed, progress=progress, cache=cache)
        return self

    def learn_stage(self, stage, images, labels, *, seed, progress=False, state=None, should_stop=None, cache=None):
        raise NotImplementedError

    def set_planes(self, stage, templates, counts=None, labels=None):
        raise NotImplementedError

    def predict_features(self, features, *, classifier=None) -> np.ndarray:
        raise NotImplementedError

    def predict(self, images, *, classifier=None, batch_size=500, progress=False) -> np.ndarray:
        """Class labels (N,) int64 by the configured (or given) classifier."""
        return self.predict_features(
            self.features(images, self.FEATURE_STAGE, batch_size=batch_size, progress=progress), classifier=classifier
        )

    # ------------------------------------------------------------ state
    def stage_arrays(self, stage) -> dict:
        """The learned arrays of ``stage`` by name (without the stage prefix)."""
        return {"templates": self.layers[f"U{stage}"].templates, "counts": self.counts[stage]}

    def state_dict(self) -> dict:
        """Learned arrays by name (``S2/templates``, ``S2/counts``, ..., ``readout/...``), for a checkpoint."""
        out = {f"{stage}/{k}": v for stage in self.learned for k, v in self.stage_arrays(stage).items()}
        if self.readout is not None:
            out.update({f"readout/{k}": v for k, v in self.readout.state_dict().items()})
        return out

    def load_state_dict(self, arrays: dict) -> None:
        """Restore what :meth:`state_dict` returned (stages missing from it stay unlearned)."""
        for stage in self.LEARNED:
            if f"{stage}/templates" in arrays:
                try:
                    self.set_planes(
                        stage,
                        arrays[f"{stage}/templates"],
                        arrays.get(f"{stage}/counts"),
                        arrays.get(f"{stage}/labels"),
                    )
                except ValueError as exc:  # a message about the layer's arguments: say which arrays they were
                    raise ValueError(f"the arrays of stage {stage} do not fit its configuration: {exc}") from None
        readout = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("readout/")}
        if readout:
            self.readout = RidgeReadout.from_state(readout)
