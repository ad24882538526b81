"""Training loop: minibatch SGD with metrics, atomic checkpoints and exact resume.

:func:`fit` trains a :class:`~v1sim.nn.Module` on (images, labels) arrays and
writes into an output folder:

``metrics.jsonl``
    One JSON object per finished epoch (losses, accuracies, learning rate,
    seconds), rewritten atomically after every epoch.
``run.json``
    How the run was made: the configuration, the model and dataset names,
    the numbers of training and test images (written when it starts).
``steps.jsonl``
    The training curve at a finer grain (He et al.'s plots are per
    iteration): every ``log_every`` SGD steps, the mean training loss and
    error of those steps, measured on each minibatch before its update.
``last.npz`` / ``last.json``
    Everything needed to continue: weights and buffers, optimiser momentum,
    schedule, the random generators of dropout layers, the epoch and the
    position inside it, the metrics so far. Written after every epoch and
    when the run is interrupted (Ctrl-C).
``best.npz`` / ``best.json``
    The weights of the epoch with the lowest test error (there is no
    separate validation split; the test set is what LeNet-5's paper reports).

:func:`load_run` reads the logs back (a folder holding only ``run.json``
and the two ``.jsonl`` files is enough, e.g. to plot a run without its
checkpoints).

Resume is exact: the minibatch order of epoch ``e`` is drawn from a generator
seeded with ``(seed, e)``, so a resumed run replays the same batches from
where it stopped and finishes with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CheckpointError, TrainingError, TrainingInterrupted
from .._io import atomic_write, load_checkpoint, save_checkpoint, write_jsonl
from .._validate import check_in_range, check_nonnegative_int, check_positive_float, check_positive_int
from ._device import to_host
from .loss import CrossEntropyLoss
from .optim import SGD, StepLR

__all__ = ["TrainConfig", "TrainingError", "TrainingInterrupted", "evaluate", "fit", "load_run", "warmup_factor"]


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of a run (all of them go into the checkpoints).

    Attributes
    ----------
    epochs : int
        Passes over the training set.
    batch_size : int
        Images per SGD step.
    lr : float
        Base learning rate.
    momentum : float
        SGD momentum in [0, 1).
    weight_decay : float
        L2 penalty coefficient (added to the gradient).
    nesterov : bool
        Nesterov momentum.
    lr_step : int
        Divide the learning rate by ``1 / lr_gamma`` every ``lr_step`` epochs
        (0: constant learning rate).
    lr_gamma : float
        Factor of the step schedule.
    seed : int
        Seeds the batch order and dropout (weights are seeded by the caller).
    warmup_steps : int
        Raise the learning rate linearly from ``lr / 10`` to ``lr`` over the
        first ``warmup_steps`` SGD steps (0: no warm-up). He et al. start
        ResNet-110 at a tenth of the rate until training gets going.
    log_every : int
        Append the mean training loss and error of every ``log_every`` SGD
        steps to ``steps.jsonl`` (0: no step log).
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    nesterov: bool = False
    lr_step: int = 0
    lr_gamma: float = 0.1
    seed: int = 0
    warmup_steps: int = 0
    log_every: int = 50

    def __post_init__(self):
        check_positive_int(self.epochs, "epochs")
        check_positive_int(self.batch_size, "batch_size")
        check_positive_float(self.lr, "lr")
        check_in_range(self.momentum, "momentum", 0.0, 1.0, inclusive=(True, False))
        check_in_range(self.weight_decay, "weight_decay", 0.0, math.inf)
        check_nonnegative_int(self.lr_step, "lr_step")
        check_in_range(self.lr_gamma, "lr_gamma", 0.0, 1.0, inclusive=(False, True))
        check_nonnegative_int(self.seed, "seed")
        check_nonnegative_int(self.warmup_steps, "warmup_steps")
        check_nonnegative_int(self.log_every, "log_every")

    def lr_factor(self, step: int) -> float:
        """Warm-up factor of the learning rate at (0-based) SGD step ``step`` (see :func:`warmup_factor`)."""
        return warmup_factor(step, self.warmup_steps)


def warmup_factor(step: int, warmup_steps: int) -> float:
    """Linear warm-up: the learning rate's factor at (0-based) step ``step``, 0.1 -> 1 over ``warmup_steps``, then 1."""
    if step >= warmup_steps:
        return 1.0
    return 0.1 + 0.9 * step / warmup_steps


def _check_data(images, labels, name):
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 4:
        raise ValueError(f"{name} images must be (N, C, H, W), got shape {images.shape}")
    if labels.shape != (images.shape[0],):
        raise ValueError(f"{name} labels must have shape ({images.shape[0]},), got {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name} labels must be integers, got dtype {labels.dtype}")
    return np.ascontiguousarray(images, dtype=np.float32), labels.astype(np.int64)


def evaluate(model, images, labels, *, batch_size=256) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` (in eval mode) on a dataset."""
    criterion = CrossEntropyLoss()
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    try:
        for start in range(0, len(images), batch_size):
            x, y = images[start : start + batch_size], labels[start : start + batch_size]
            logits = model(x)
            loss_sum += criterion(logits, y) * len(y)
            correct += int(np.count_nonzero(to_host(logits).argmax(axis=1) == y))  # device logits: one copy
    finally:
        model.train(was_training)
    return loss_sum / len(images), correct / len(images)


def _generators(model):
    """The random generators held by modules (dropout), by module name."""
    return {name: m.rng for name, m in model.named_modules() if isinstance(getattr(m, "rng", None), np.random.Generator)}


def _state(model, optimizer, schedule, progress, history, steps_log, config, meta):
    arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
    for k, v in optimizer.state_dict().items():
        if isinstance(v, np.ndarray):
            arrays[f"optim/{k}"] = v
    scalars = {k: v for k, v in optimizer.state_dict().items() if not isinstance(v, np.ndarray)}
    info = {
        "config": dataclasses.asdict(config),
        "optimizer": scalars,
        "schedule": schedule.state_dict() if schedule is not None else None,
        "generators": {k: g.bit_generator.state for k, g in _generators(model).items()},
        "progress": progress,
        "history": history,
        "steps": steps_log,
        **meta,
    }
    return arrays, info


def _restore(model, optimizer, schedule, arrays, info):
    model.load_state_dict({k[len("model/") :]: v for k, v in arrays.items() if k.startswith("model/")})
    optim_state = dict(info["optimizer"])
    optim_state.update({k[len("optim/") :]: v for k, v in arrays.items() if k.startswith("optim/")})
    optimizer.load_state_dict(optim_state)
    if schedule is not None and info.get("schedule") is not None:
        schedule.load_state_dict(info["schedule"])
    generators = _generators(model)
    for name, state in info.get("generators", {}).items():
        if name in generators:
            generators[name].bit_generator.state = state


def fit(model, train, test, config: TrainConfig, out_dir, *, resume=False, progress=True, meta=None) -> dict:
    """Train ``model`` with minibatch SGD and softmax cross-entropy.

    Parameters
    ----------
    model : v1sim.nn.Module
        Network mapping (N, C, H, W) float32 images to (N, classes) logits.
    train, test : tuple of (images, labels)
        Images (N, C, H, W) float32 and integer labels (N,).
    config : TrainConfig
        Hyper-parameters.
    out_dir : str or Path
        Folder for ``metrics.jsonl`` and the ``last``/``best`` checkpoints.
    resume : bool
        Continue from ``out_dir/last`` (weights, optimiser, schedule, random
        generators, position); the configuration must match, except that
        ``epochs`` may grow.
    progress : bool
        Show a progress bar per epoch on stderr.
    meta : dict, optional
        Extra JSON-able facts stored in the checkpoints (model name, dataset).

    Returns
    -------
    dict
        ``test_accuracy``, ``test_error``, ``test_loss``, ``epochs``,
        ``train_seconds``, ``images_per_second``, ``best_epoch``, ``out``.

    Raises
    ------
    TrainingError
        If the loss becomes NaN or infinite (lower the learning rate).
    TrainingInterrupted
        On Ctrl-C, after writing the ``last`` checkpoint.
    v1sim._io.CheckpointError
        If ``resume`` finds no usable checkpoint, or one from another run.
    """
    from tqdm.auto import tqdm

    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    x_train, y_train = _check_data(*train, "train")
    x_test, y_test = _check_data(*test, "test")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = dict(meta or {})
    optimizer = SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                    weight_decay=config.weight_decay, nesterov=config.nesterov)  # fmt: skip
    schedule = StepLR(optimizer, config.lr_step, config.lr_gamma) if config.lr_step else None
    criterion = CrossEntropyLoss()
    history: list[dict] = []
    steps_log: list[dict] = []
    window = {"loss_sum": 0.0, "wrong": 0, "seen": 0, "steps": 0}  # the steps since the last steps.jsonl record
    progress_state = {"epoch": 0, "batch": 0, "loss_sum": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}

    if resume:
        arrays, info = load_checkpoint(out / "last")
        saved = dict(info["config"])
        defaults = dataclasses.asdict(TrainConfig())  # fields added later than the checkpoint take their defaults
        mismatched = [k for k, v in dataclasses.asdict(config).items()
                      if k != "epochs" and saved.get(k, defaults[k]) != v]  # fmt: skip
        mismatched += [k for k, v in meta.items() if info.get(k) != v]
        if mismatched:
            raise CheckpointError(f"cannot resume {out}: it was trained with other settings ({', '.join(mismatched)})")
        _restore(model, optimizer, schedule, arrays, info)
        history = list(info["history"])
        steps_log = list(info.get("steps", []))
        progress_state = dict(info["progress"])
        window = dict(progress_state.pop("window", window))

    run = {"config": dataclasses.asdict(config), **meta, "n_train": len(x_train), "n_test": len(x_test)}
    atomic_write(out / "run.json", (json.dumps(run, indent=1, sort_keys=True) + "\n").encode())
    n = len(x_train)
    steps = math.ceil(n / config.batch_size)
    model.train()
    for epoch in range(progress_state["epoch"], config.epochs):
        order = np.random.default_rng([config.seed, epoch]).permutation(n)
        first = progress_state["batch"]
        bar = tqdm(range(first, steps), desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch",
                   initial=first, total=steps, disable=not progress, leave=False)  # fmt: skip
        start = time.perf_counter()
        with _deferred_interrupt() as interrupted:
            for batch in bar:
                idx = order[batch * config.batch_size : (batch + 1) * config.batch_size]
                x, y = x_train[idx], y_train[idx]
                try:
                    logits = model(x)
                    loss = criterion(logits, y)
                except ValueError as exc:  # layers refuse NaN/inf activations
                    if "finite" not in str(exc):
                        raise
                    loss, cause = float("nan"), exc
                else:
                    cause = None
                if not math.isfinite(loss):
                    bar.close()
                    raise TrainingError(
                        f"the loss became {loss} at epoch {epoch + 1}, batch {batch + 1}: training diverged; "
                        f"lower the learning rate (--lr, now {optimizer.lr:g})"
                    ) from cause
                model.zero_grad()
                model.backward_without_input_grad(criterion.backward())  # no gradient w.r.t. the images
                scheduled, step = optimizer.lr, epoch * steps + batch
                optimizer.lr = scheduled * config.lr_factor(step)
                optimizer.step()
                optimizer.lr = scheduled
                right = int(np.count_nonzero(to_host(logits).argmax(axis=1) == y))  # device logits: one copy
                progress_state["batch"] = batch + 1
                progress_state["loss_sum"] += loss * len(y)
                progress_state["correct"] += right
                progress_state["seen"] += len(y)
                if config.log_every:
                    window["loss_sum"] += loss * len(y)
                    window["wrong"] += len(y) - right
                    window["seen"] += len(y)
                    window["steps"] += 1
                    if window["steps"] == config.log_every:
                        steps_log.append({
                            "step": step + 1, "epoch": epoch + (batch + 1) / steps,
                            "lr": scheduled * config.lr_factor(step), "steps": window["steps"],
                            "train_loss": window["loss_sum"] / window["seen"],
                            "train_error": window["wrong"] / window["seen"],
                        })  # fmt: skip
                        window = {"loss_sum": 0.0, "wrong": 0, "seen": 0, "steps": 0}
                        write_jsonl(out / "steps.jsonl", steps_log)
                if batch % 10 == 0:
                    bar.set_postfix(loss=f"{loss:.3f}", acc=f"{progress_state['correct'] / progress_state['seen']:.3f}")
                if interrupted():
                    bar.close()
                    progress_state["epoch"] = epoch
                    progress_state["seconds"] += time.perf_counter() - start
                    progress_state["window"] = window
                    save_checkpoint(out / "last", *_state(model, optimizer, schedule, progress_state, history,
                                                          steps_log, config, meta))  # fmt: skip
                    raise TrainingInterrupted(f"interrupted; checkpoint written to {out / 'last.json'}")
        bar.close()
        seconds = progress_state["seconds"] + time.perf_counter() - start
        test_loss, test_acc = evaluate(model, x_test, y_test)
        record = {
            "epoch": epoch + 1,
            "lr": optimizer.lr,
            "train_loss": progress_state["loss_sum"] / progress_state["seen"],
            "train_accuracy": progress_state["correct"] / progress_state["seen"],
            "test_loss": test_loss,
            "test_accuracy": test_acc,
            "test_error": 1.0 - test_acc,
            "seconds": seconds,
            "images_per_second": progress_state["seen"] / seconds if seconds > 0 else float("nan"),
        }
        history.append(record)
        if schedule is not None:
            schedule.step()
        progress_state = {"epoch": epoch + 1, "batch": 0, "loss_sum": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}
        state = _state(model, optimizer, schedule, dict(progress_state, window=window), history, steps_log,
                       config, meta)  # fmt: skip
        if record["test_error"] <= min(h["test_error"] for h in history):
            save_checkpoint(out / "best", *state)
        save_checkpoint(out / "last", *state)
        write_jsonl(out / "metrics.jsonl", history)
        if progress:
            print(f"epoch {epoch + 1}: train loss {record['train_loss']:.4f}, test error "
                  f"{100 * record['test_error']:.2f}%, {record['images_per_second']:.0f} images/s",
                  file=sys.stderr, flush=True)  # fmt: skip

    if not history:
        raise TrainingError(f"nothing to do: {out} already holds {progress_state['epoch']} epochs (raise --epochs)")
    final = history[-1]
    train_seconds = sum(h["seconds"] for h in history)
    images = sum(h["images_per_second"] * h["seconds"] for h in history)
    best = min(history, key=lambda h: h["test_error"])
    return {
        "test_accuracy": final["test_accuracy"],
        "test_error": final["test_error"],
        "test_loss": final["test_loss"],
        "epochs": final["epoch"],
        "train_seconds": train_seconds,
        "images_per_second": images / train_seconds if train_seconds > 0 else float("nan"),
        "best_epoch": best["epoch"],
        "best_test_error": best["test_error"],
        "out": str(out),
    }


def load_run(folder) -> dict:
    """The logs of a :func:`fit` run folder: how it was made, per-epoch metrics and the step log.

    Parameters
    ----------
    folder : str or Path
        A run folder (``v1sim train ... --out DIR``); the checkpoints are not
        needed.

    Returns
    -------
    dict
        ``run`` (the contents of ``run.json``: ``config``, ``model``,
        ``dataset``, ``n_train``, ...; empty if absent), ``epochs`` (the
        ``metrics.jsonl`` records, by epoch) and ``steps`` (the
        ``steps.jsonl`` records, by step; empty if absent).

    Raises
    ------
    FileNotFoundError
        If ``folder`` has no ``metrics.jsonl`` (no epoch finished yet).
    ValueError
        If a log is not valid JSON lines.
    """
    folder = Path(folder)
    metrics = folder / "metrics.jsonl"
    if not metrics.is_file():
        raise FileNotFoundError(f"{folder} holds no metrics.jsonl (not a v1sim train run, or no epoch finished)")

    def lines(path):
        try:
            return [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except ValueError as exc:
            raise ValueError(f"{path} is not a JSON-lines log: {exc}") from None

    run_json = folder / "run.json"
    run = json.loads(run_json.read_text(encoding="utf-8")) if run_json.is_file() else {}
    steps = folder / "steps.jsonl"
    return {
        "run": run,
        "epochs": sorted(lines(metrics), key=lambda r: r["epoch"]),
        "steps": sorted(lines(steps), key=lambda r: r["step"]) if steps.is_file() else [],
    }


@contextlib.contextmanager
def _deferred_interrupt():
    """Turn the first Ctrl-C into a flag checked between SGD steps.

    A step is never cut in half (weights updated for some layers only); the
    loop notices the flag after the step and checkpoints. A second Ctrl-C
    interrupts at once. Outside the main thread signals cannot be caught, and
    Ctrl-C behaves as usual.
    """
    hits = []

    def handler(signum, frame):
        hits.append(signum)
        if len(hits) > 1:
            raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread
        yield lambda: False
        return
    try:
        yield lambda: bool(hits)
    finally:
        signal.signal(signal.SIGINT, previous)
