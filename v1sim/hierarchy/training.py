"""Training a hierarchy: :func:`train` (the run folder of ``v1sim train``), :func:`load_model`, :func:`make_model`."""

from __future__ import annotations

import dataclasses
import json
import sys
import time

import numpy as np

from .._core.io import checkpoint_path, kill_point, load_checkpoint
from .._core.runs import RunFolder, check_finite, differences, finite_number, require
from .._core.validate import (
    check_choice,
    check_labels,
    check_nonnegative_int,
    check_positive_int,
)
from ..backend import peak_rss_mb
from ..errors import CheckpointError
from .base import as_images
from .catalog import CLASSIFIERS
from .hmax import HMAX
from .neocognitron import Neocognitron

__all__ = ["MODELS", "load_model", "make_model", "train"]

#: model name -> (model class, config class)
MODELS = {cls.NAME: (cls, cls.CONFIG) for cls in (Neocognitron, HMAX)}


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
    """Rebuild a trained model from a checkpoint written by :func:`train` (``out/best`` or ``out/last``).

    ``path`` may name the checkpoint with or without ``.npz``; checkpoints of
    the older two-file format (``.npz`` + ``.json``) load too.

    Raises
    ------
    v1sim.errors.CheckpointError
        If the file is missing or corrupt (also: NaN or infinite arrays, an invalid configuration), or does not
        hold a hierarchy model.
    """
    arrays, meta = load_checkpoint(path)
    check_finite(checkpoint_path(path), arrays)
    model_name = meta.get("model")
    if model_name not in MODELS or not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{path} does not hold a hierarchy model (model {model_name!r})", path=path)
    model = _model_from(model_name, meta["config"], device, path=checkpoint_path(path))
    _load_learned(model, arrays, checkpoint_path(path))
    return model


def _model_from(model_name, config: dict, device="auto", *, path=None):
    """A fresh model of the configuration a checkpoint or ``run.json`` records (lists back to tuples).

    A configuration the config class refuses is a CheckpointError naming ``path`` (the file is at fault, not
    an argument of the caller).
    """
    cls, config_cls = MODELS[model_name]
    fields = {f.name for f in dataclasses.fields(config_cls)}
    try:
        cfg = config_cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in config.items() if k in fields})
    except (ValueError, TypeError) as exc:
        raise CheckpointError(
            f"checkpoint {path} holds an invalid {model_name} configuration: {exc}", path=path
        ) from None
    return cls(cfg, device=device)


def _load_learned(model, arrays, path) -> None:
    """Load the learned arrays (not the ``partial/`` state of a stage in progress); CheckpointError if they misfit."""
    learned = {k: v for k, v in arrays.items() if not k.startswith("partial/")}
    try:
        model.load_state_dict(learned)
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise CheckpointError(f"checkpoint {path} does not fit a {type(model).__name__}: {exc}", path=path) from None
    for key, a in model.state_dict().items():
        if key not in learned or np.shape(learned[key]) != np.shape(a):
            raise CheckpointError(
                f"checkpoint {path} is inconsistent: array {key!r} is missing or of another shape", path=path
            )


def _check_checkpoint(model_name, stages, facts, probe, arrays, info, path) -> None:
    """Refuse (one CheckpointError naming ``path``) a checkpoint that is not a consistent state of this run."""

    def bad(what):
        return CheckpointError(f"checkpoint {path} is inconsistent: {what}", path=path)

    for key in ("model", "config", "seed", "n_train"):
        require(path, info, key, (str, dict, int), "what the run was started with")
    other = differences(info, facts)
    if other:
        raise bad(f"it belongs to another run ({'; '.join(other)})")
    done = require(path, info, "done", list, "the list of the stages learned")
    history = require(path, info, "history", list, "a list of stage records")
    seconds = require(path, info, "train_seconds", (int, float), "the seconds of learning")
    if done != list(stages[: len(done)]):
        raise bad(f"its stages done {done} are not the first stages of {list(stages)}")
    recorded = [h.get("stage") if isinstance(h, dict) else h for h in history]
    if recorded not in (done, [*stages, "test"] if done == list(stages) else done):
        raise bad(f"its history records the stages {recorded}, its stages done are {done}")
    if not finite_number(seconds) or seconds < 0:
        raise bad(f"train_seconds is {seconds!r}, expected a number >= 0")
    partial_stage = info.get("partial_stage")
    partial = [k for k in arrays if k.startswith("partial/")]
    if partial_stage is not None and (len(done) == len(stages) or partial_stage != stages[len(done)] or not partial):
        raise bad(f"partial stage {partial_stage!r} is not the next stage to learn, or its state is missing")
    missing = [s for s in done if s != "readout" and f"{s}/templates" not in arrays]
    missing += ["readout"] if "readout" in done and not any(k.startswith("readout/") for k in arrays) else []
    if missing:
        raise bad(f"the arrays of the stages done {missing} are missing")
    scratch = _model_from(model_name, info["config"], path=path)
    _load_learned(scratch, arrays, path)
    try:  # one image through the learned layers: templates whose shapes do not fit together fail here
        scratch.forward(probe)
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise bad(f"its learned arrays do not fit together ({exc})") from None


def train(
    model_name,
    train_data,
    test_data,
    *,
    out_dir,
    seed=0,
    n_train=None,
    progress=True,
    resume=False,
    device="auto",
    meta=None,
    **overrides,
) -> dict:
    """Train a Neocognitron or HMAX on labelled images and test it: the CLI's ``v1sim train`` entry point.

    One pass: each learned stage ("S2", "S3", "S4" and "readout" for the
    Neocognitron; "S2" and "readout" for HMAX) is learned in turn, the
    stages below it fixed. The run folder is the one of every trainer
    (:class:`v1sim._core.runs.RunFolder`): ``run.json`` when it starts, then
    after each stage an atomic ``last.npz`` (the one before kept as
    ``previous.npz``) and a ``metrics.jsonl`` record. Ctrl-C, at any point,
    lets the batch, stage, test or write in hand finish, saves the stage's
    partial state and raises; ``resume=True`` continues exactly. At the end
    the model is tested with every classifier it offers and saved as
    ``best.npz``.

    Parameters
    ----------
    model_name : {"neocognitron", "hmax"}
    train_data, test_data : tuple of (images, labels)
        Images (N, 1, H, W), (N, H, W) float in [0, 1]; integer labels (N,).
    out_dir : str or Path
        The run folder; a new run refuses a folder that holds one.
    seed : int
        Seeds the presentation order, the subset and HMAX's imprinting.
    n_train : int, optional
        Use a seeded random subset of this many training images.
    progress : bool
        Progress bars and a summary line on stderr.
    resume : bool
        Continue the run in ``out_dir`` from its newest usable checkpoint (same
        model, configuration, seed, n_train and ``meta`` as in its
        ``run.json``). A finished run is reported, not trained again
        (``already_finished`` in the result).
    device : {"auto", "cpu", "parallel", "cuda"}
    meta : dict, optional
        Extra JSON-able facts recorded in ``run.json`` and checked on resume
        (the CLI's dataset and --limit).
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
        planes per learned stage), ``n_train``, ``test_seconds``,
        ``already_finished``, ``peak_rss_mb`` (the process's peak resident
        memory, :func:`v1sim.backend.peak_rss_mb`).

    Raises
    ------
    v1sim.errors.TrainingInterrupted
        On Ctrl-C, after the checkpoint is written.
    v1sim.errors.CheckpointError
        If ``resume`` finds no run, other settings, or no usable checkpoint;
        or if a new run is asked for in a folder holding one.
    """
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
    folder = RunFolder(out_dir)
    facts = {"model": model_name, "config": _config_json(model.config), "seed": seed, "n_train": len(x), **(meta or {})}
    stages = model.LEARNED + ("readout",)
    state = {"done": [], "history": [], "train_seconds": 0.0, "partial_stage": None}
    partial = None

    def checkpoint(extra_arrays=None, partial_stage=None):
        folder.save_last(
            dict(model.state_dict(), **(extra_arrays or {})), {**facts, **state, "partial_stage": partial_stage}
        )

    with folder.interrupts() as interrupted:
        if resume:
            folder.check_settings(facts)
            saved = folder.resume(lambda a, i, p: _check_checkpoint(model_name, stages, facts, x[:1], a, i, p))
            if saved is not None:
                arrays, info = saved
                _load_learned(model, arrays, folder.path / "last.npz")
                state = {k: info[k] for k in ("done", "history", "train_seconds")}
                if info.get("partial_stage") is not None:
                    partial = (
                        info["partial_stage"],
                        {k[len("partial/") :]: v for k, v in arrays.items() if k.startswith("partial/")},
                    )
                folder.write_metrics(state["history"])
                if state["history"] and state["history"][-1].get("stage") == "test":
                    return _result(state["history"][-1], model_name, len(x), folder, already_finished=True)
        else:
            folder.start(facts)
        kill_point("start")
        cache: dict = {}

        def stop():  # checked by learn_stage between batches
            kill_point("step")
            return interrupted()

        for stage in stages[len(state["done"]) :]:
            if interrupted():
                checkpoint()
                raise folder.interruption(f"before stage {stage}")
            start = time.perf_counter()
            result = model.learn_stage(
                stage,
                x,
                y,
                seed=seed,
                progress=progress,
                should_stop=stop,
                cache=cache,
                state=partial[1] if partial and partial[0] == stage else None,
            )
            stage_seconds = time.perf_counter() - start
            state["train_seconds"] += stage_seconds
            if result is not None:
                checkpoint({f"partial/{k}": v for k, v in result.items()}, partial_stage=stage)
                raise folder.interruption(f"in stage {stage}")
            state["done"].append(stage)
            record = {
                "stage": stage,
                "seconds": stage_seconds,
                "train_seconds": state["train_seconds"],
                "images": len(x),
            }
            if stage in model.counts:
                record["planes"] = int(len(model.counts[stage]))
            state["history"].append(record)
            checkpoint()
            folder.write_metrics(state["history"])
        cache.clear()  # the training set's maps (full MNIST: 0.56 GB of UC3) are not needed for the test
        if interrupted():
            raise folder.interruption("before the test")
        final = _test(model, model_name, (x_test, y_test), len(x), state["train_seconds"], progress)
        state["history"].append(final)
        folder.write_metrics(state["history"])
        checkpoint()
        folder.save_best(
            model.state_dict(), {**facts, "test_accuracy": final["test_accuracy"], "classifier": final["classifier"]}
        )
    return _result(final, model_name, len(x), folder)


def _test(model, model_name, test, n_train, seconds, progress) -> dict:
    """Test with every classifier the model offers: the final ``metrics.jsonl`` record."""
    x_test, y_test = test
    kill_point("evaluate")
    start = time.perf_counter()
    features = model.features(x_test, model.FEATURE_STAGE, progress=progress, desc="test features")
    accuracies = {c: float(np.mean(p == y_test)) for c, p in model.predict_all(features).items()}
    test_seconds = time.perf_counter() - start
    classifier = getattr(model.config, "classifier", CLASSIFIERS[model_name][0])
    accuracy = accuracies[classifier]
    planes = {s: int(len(v)) for s, v in model.counts.items()}
    final = {
        "epoch": 1,
        "stage": "test",
        "classifier": classifier,
        "test_accuracy": accuracy,
        "test_error": 1.0 - accuracy,
        "accuracies": accuracies,
        "planes": planes,
        "train_seconds": seconds,
        "images_per_second": n_train / seconds if seconds > 0 else float("nan"),
        "test_seconds": test_seconds,
        "test_images_per_second": len(x_test) / test_seconds,
    }
    if progress:
        others = ", ".join(f"{k} {100 * (1 - v):.2f}%" for k, v in accuracies.items() if k != classifier)
        print(
            f"{model_name}: test error {100 * (1 - accuracy):.2f}% ({classifier}{'; ' + others if others else ''}), "
            f"planes {planes}, {final['images_per_second']:.0f} training images/s",
            file=sys.stderr,
            flush=True,
        )
    return final


def _result(final, model_name, n_train, folder, *, already_finished=False) -> dict:
    """What :func:`train` returns, from the final ``metrics.jsonl`` record."""
    return {
        "test_accuracy": final["test_accuracy"],
        "test_error": final["test_error"],
        "epochs": 1,
        "train_seconds": final["train_seconds"],
        "images_per_second": final["images_per_second"],
        "out": str(folder.path),
        "model": model_name,
        "classifier": final["classifier"],
        "accuracies": final["accuracies"],
        "planes": final["planes"],
        "n_train": n_train,
        "test_seconds": final["test_seconds"],
        "already_finished": already_finished,
        "peak_rss_mb": peak_rss_mb(),  # of the whole process so far (v1sim.backend.peak_rss_mb)
    }
