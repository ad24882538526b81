r"""Hierarchies of S- and C-cells: the Neocognitron and HMAX on v1sim's kernel layer.

The lecture's "sandwich" (S C S C ...): simple cells with modifiable
weights, complex cells that pool. An S-layer *is* a convolution (one
:func:`v1sim.correlate_batch` of the layer below with the planes' weights)
and a C-layer *is* a pooling (one :func:`v1sim.pool2d`), so these models run
on the same kernels as the ConvNet engine.

Equations (n: position, k: cell plane, kappa: input plane, nu: offset in the
connection area, phi[x] = max(x, 0))
----------------------------------------------------------------------------
Contrast extraction, Fukushima (2003)'s layer UG (``SLayer(tuning="linear")``)::

    u_G(n, k) = phi[ (-1)^k sum_nu a_G(nu) u_0(n + nu) ],  k = ON, OFF

with ``a_G`` a balanced difference of Gaussians (:func:`v1sim.filters.dog_kernel`).

S-cell, Fukushima (1980, 1988) in Fukushima's (2003) notation (``tuning="shunting"``)::

    e(n, k) = sum_kappa sum_nu a(nu, kappa, k) u_C(n + nu, kappa)     excitation
    v(n)    = sqrt( sum_kappa sum_nu c(nu) u_C(n + nu, kappa)^2 )      V-cell
    u_S(n, k) = r phi[ (1 + e(n, k)) / (1 + theta b(k) v(n)) - 1 ],   theta = r / (1 + r)
              = r phi[ e - theta b v ] / (1 + theta b v)

``r`` is the selectivity (Fukushima 1980's r_l; ``r = theta / (1 - theta)``
in the 2003 paper), ``c(nu)`` fixed connection weights decreasing from the
centre (:func:`connection_kernel`). The weights are kept as a template
``X_k`` (the patches the plane learned) with ``a = c X / ||X||_c`` and
``b = sqrt(sum a^2 / c) = 1`` (``||X||_c^2 = sum c X^2``; the relation
between ``b`` and ``a`` that Fukushima (2003) keeps during learning), so ``e / (b v)`` is the c-weighted cosine
``s`` between input patch and template and the cell fires iff ``s > theta``.

C-cell (``CLayer``), Fukushima (1988) with uniform ``d(nu)`` (average pooling)::

    u_C(n, k) = psi[ sum_nu d(nu) u_S(n + nu, k) ],   psi[x] = phi[x] / (alpha + phi[x])

or a max (HMAX) or L2 pool; the windows step by ``stride`` (subsampling).

Learning
--------
US1 is fixed (oriented edges: first Gaussian derivatives split into ON and
OFF lobes). US2, US3: unsupervised competitive learning with winner-take-all
in hypercolumns, one seed per plane per image, weight sharing
(``Delta a = q c u_C`` at the seed, Fukushima 1988/2003) and add-if-silent
generation of new planes from the patch where every S-cell is silent
(Fukushima 2003, 2013), at a higher selectivity ``r_learn`` than in
recognition. US4: supervised competitive learning of labelled prototypes
(reinforce the winner if it has the right label and fires, else a new
prototype). Classification by the most similar prototype, by interpolating
vectors (Fukushima 2007: the most similar line segment between two
prototypes of one class) or by a ridge readout on UC3 (for comparison).

HMAX (:class:`HMAX`) is a configuration of the same layers: S1 Gabor bank
(normalised dot product ``|e| / v``), C1 max over position and pairs of
scales, S2 Gaussian RBF around prototypes imprinted from training images
(``||x - X||_c^2 = v^2 - 2 e + b^2``, from the same two correlations),
C2 global max, ridge readout.

References
----------
.. [1] Fukushima K (1980). Neocognitron: a self-organizing neural network model
   for a mechanism of pattern recognition unaffected by shift in position.
   Biological Cybernetics 36(4):193-202.
.. [2] Fukushima K (1988). Neocognitron: a hierarchical neural network capable
   of visual pattern recognition. Neural Networks 1(2):119-130.
.. [3] Fukushima K (2003). Neocognitron for handwritten digit recognition.
   Neurocomputing 51:161-180.
.. [4] Fukushima K (2007). Interpolating vectors for robust pattern
   recognition. Neural Networks 20(8):904-916.
.. [5] Fukushima K (2013). Artificial vision by multi-layered neural networks:
   neocognitron and its advances. Neural Networks 37:103-119.
.. [6] Riesenhuber M, Poggio T (1999). Hierarchical models of object
   recognition in cortex. Nature Neuroscience 2(11):1019-1025.
.. [7] Serre T, Wolf L, Bileschi S, Riesenhuber M, Poggio T (2007). Robust
   object recognition with cortex-like mechanisms. IEEE TPAMI 29(3):411-426.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from ._hierarchy_layers import CLayer, SLayer, connection_kernel, vcell
from ._hierarchy_readout import PrototypeClassifier, RidgeReadout, as_images, check_labels
from ._hmax import HMAX, HMAXConfig
from ._io import CheckpointError, load_checkpoint, save_checkpoint, write_jsonl
from ._neocognitron import Neocognitron, NeocognitronConfig
from ._validate import check_choice, check_nonnegative_int, check_positive_int

__all__ = [
    "CLayer",
    "HMAX",
    "HMAXConfig",
    "MODELS",
    "Neocognitron",
    "NeocognitronConfig",
    "PrototypeClassifier",
    "RidgeReadout",
    "SLayer",
    "connection_kernel",
    "load_model",
    "make_model",
    "train",
    "vcell",
]

#: model name -> (model class, config class)
MODELS = {"neocognitron": (Neocognitron, NeocognitronConfig), "hmax": (HMAX, HMAXConfig)}
#: the stage whose maps feed the classifiers, and the classifiers each model offers (first: default for HMAX)
FEATURE_STAGE = {"neocognitron": "UC3", "hmax": "UC2"}
CLASSIFIERS = {"neocognitron": ("intvec", "nearest", "ridge"), "hmax": ("ridge",)}


def make_model(model_name, *, device="auto", **overrides):
    """A fresh model with its default configuration changed by ``overrides``.

    >>> make_model("neocognitron", s2_planes=16).config.s2_planes
    16
    """
    check_choice(model_name, "model_name", tuple(MODELS))
    cls, config_cls = MODELS[model_name]
    return cls(config_cls().replace(**overrides), device=device)


def _config_json(config) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(config)))


def _check_data(data, name):
    try:
        images, labels = data
    except (TypeError, ValueError):
        raise TypeError(f"{name}_data must be a pair (images, labels)") from None
    x = as_images(images, f"{name} images")
    return x, check_labels(labels, len(x), f"{name} labels")


def load_model(path, *, device="auto"):
    """Rebuild a trained model from a checkpoint written by :func:`train` (``out/best`` or ``out/last``)."""
    arrays, meta = load_checkpoint(path)
    model_name = meta.get("model")
    if model_name not in MODELS:
        raise CheckpointError(f"{path} does not hold a hierarchy model (model {model_name!r})")
    cls, config_cls = MODELS[model_name]
    fields = {f.name for f in dataclasses.fields(config_cls)}
    config = config_cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in meta["config"].items() if k in fields})
    model = cls(config, device=device)
    model.load_state_dict({k: v for k, v in arrays.items() if not k.startswith("partial/")})
    return model


def train(model_name, train_data, test_data, *, out_dir, seed=0, n_train=None, progress=True, resume=False,
          device="auto", **overrides) -> dict:  # fmt: skip
    """Train a Neocognitron or HMAX on labelled images and test it: the CLI's ``v1sim train`` entry point.

    One pass: each learned stage ("S2", "S3", "S4" and "readout" for the
    Neocognitron; "S2" and "readout" for HMAX) is learned in turn, the
    stages below it fixed. After each stage ``out_dir/last.{npz,json}`` is
    written atomically and ``metrics.jsonl`` gets a record; on Ctrl-C the
    current stage stops between batches, its partial state is saved, and a
    ``resume=True`` run continues it exactly. At the end the model is tested
    with every classifier it offers and saved as ``out_dir/best``.

    Parameters
    ----------
    model_name : {"neocognitron", "hmax"}
    train_data, test_data : tuple of (images, labels)
        Images (N, 1, H, W), (N, H, W) float in [0, 1]; integer labels (N,).
    out_dir : str or Path
        Folder for checkpoints and metrics.
    seed : int
        Seeds the presentation order, the subset and HMAX's imprinting.
    n_train : int, optional
        Use a seeded random subset of this many training images.
    progress : bool
        Progress bars and a summary line on stderr.
    resume : bool
        Continue from ``out_dir/last`` (same model, configuration, seed and n_train).
    device : {"auto", "cpu", "parallel", "cuda"}
    **overrides
        Configuration fields (:class:`NeocognitronConfig`, :class:`HMAXConfig`),
        e.g. ``s2_planes=32`` or ``classifier="nearest"``.

    Returns
    -------
    dict
        ``test_accuracy``, ``test_error`` (of the model's classifier),
        ``epochs`` (1), ``train_seconds``, ``images_per_second`` (training
        images per second of learning), ``out``; also ``model``,
        ``classifier``, ``accuracies`` (every classifier), ``planes`` (cell
        planes per learned stage), ``n_train``, ``test_seconds``.

    Raises
    ------
    v1sim.nn.train.TrainingInterrupted
        On Ctrl-C, after the checkpoint is written.
    v1sim._io.CheckpointError
        If ``resume`` finds no usable checkpoint, or one of another run.
    """
    from .nn.train import TrainingInterrupted, _deferred_interrupt

    check_choice(model_name, "model_name", tuple(MODELS))
    seed = check_nonnegative_int(seed, "seed")
    x, y = _check_data(train_data, "train")
    x_test, y_test = _check_data(test_data, "test")
    if n_train is not None:
        n_train = check_positive_int(n_train, "n_train")
        if n_train > len(x):
            raise ValueError(f"n_train={n_train} exceeds the {len(x)} training images")
        pick = np.sort(np.random.default_rng([seed, 1]).permutation(len(x))[:n_train])
        x, y = x[pick], y[pick]
    model = make_model(model_name, device=device, **overrides)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"model": model_name, "config": _config_json(model.config), "seed": seed, "n_train": len(x)}
    done, history, seconds, partial, partial_stage = [], [], 0.0, None, None
    if resume:
        arrays, info = load_checkpoint(out / "last")

        def difference(key, saved, now):  # the checkpoint's value and the requested one; a config's changed fields
            if isinstance(saved, dict) and isinstance(now, dict):
                return f"{key}: {', '.join(sorted(f for f in {*saved, *now} if saved.get(f) != now.get(f)))} changed"
            return f"{key}: {saved!r} in the checkpoint, {now!r} now"

        mismatched = [difference(k, info.get(k), v) for k, v in meta.items() if info.get(k) != v]
        if mismatched:
            raise CheckpointError(f"cannot resume {out}: it was trained with other settings ({'; '.join(mismatched)})")
        model.load_state_dict({k: v for k, v in arrays.items() if not k.startswith("partial/")})
        done, history, seconds = list(info["done"]), list(info["history"]), float(info["train_seconds"])
        partial_stage = info.get("partial_stage")
        partial = {k[len("partial/") :]: v for k, v in arrays.items() if k.startswith("partial/")} or None

    def checkpoint(extra_arrays=None, **extra):
        arrays = dict(model.state_dict(), **(extra_arrays or {}))
        save_checkpoint(out / "last", arrays, {**meta, "done": done, "history": history, "train_seconds": seconds,
                                               "partial_stage": None, **extra})  # fmt: skip

    stages = model.LEARNED + ("readout",)
    cache: dict = {}
    with _deferred_interrupt() as interrupted:
        for stage in stages:
            if stage in done:
                continue
            start = time.perf_counter()
            state = partial if partial_stage == stage else None
            result = model.learn_stage(stage, x, y, seed=seed, progress=progress, state=state,
                                       should_stop=interrupted, cache=cache)  # fmt: skip
            stage_seconds = time.perf_counter() - start
            seconds += stage_seconds
            if result is not None:
                checkpoint({f"partial/{k}": v for k, v in result.items()}, partial_stage=stage)
                raise TrainingInterrupted(f"interrupted in stage {stage}; checkpoint written to {out / 'last.json'}")
            done.append(stage)
            record = {"stage": stage, "seconds": stage_seconds, "train_seconds": seconds, "images": len(x)}
            if stage in model.counts:
                record["planes"] = int(len(model.counts[stage]))
            history.append(record)
            checkpoint()
            write_jsonl(out / "metrics.jsonl", history)
            if interrupted() and stage != stages[-1]:
                raise TrainingInterrupted(f"interrupted after stage {stage}; checkpoint written to {out / 'last.json'}")

    start = time.perf_counter()
    features = model.features(x_test, FEATURE_STAGE[model_name], progress=progress, desc="test features")
    accuracies = {c: float(np.mean(p == y_test)) for c, p in model.predict_all(features).items()}
    test_seconds = time.perf_counter() - start
    classifier = getattr(model.config, "classifier", CLASSIFIERS[model_name][0])
    accuracy = accuracies[classifier]
    planes = {s: int(len(v)) for s, v in model.counts.items()}
    final = {
        "epoch": 1, "stage": "test", "classifier": classifier, "test_accuracy": accuracy, "test_error": 1.0 - accuracy,
        "accuracies": accuracies, "planes": planes, "train_seconds": seconds,
        "images_per_second": len(x) / seconds if seconds > 0 else float("nan"),
        "test_seconds": test_seconds, "test_images_per_second": len(x_test) / test_seconds,
    }  # fmt: skip
    history = [h for h in history if h.get("stage") != "test"] + [final]
    write_jsonl(out / "metrics.jsonl", history)
    checkpoint()
    save_checkpoint(out / "best", model.state_dict(), {**meta, "test_accuracy": accuracy, "classifier": classifier})
    if progress:
        others = ", ".join(f"{k} {100 * (1 - v):.2f}%" for k, v in accuracies.items() if k != classifier)
        print(f"{model_name}: test error {100 * (1 - accuracy):.2f}% ({classifier}{'; ' + others if others else ''}), "
              f"planes {planes}, {final['images_per_second']:.0f} training images/s",
              file=sys.stderr, flush=True)  # fmt: skip
    return {
        "test_accuracy": accuracy,
        "test_error": 1.0 - accuracy,
        "epochs": 1,
        "train_seconds": seconds,
        "images_per_second": final["images_per_second"],
        "out": str(out),
        "model": model_name,
        "classifier": classifier,
        "accuracies": accuracies,
        "planes": planes,
        "n_train": len(x),
        "test_seconds": test_seconds,
    }
