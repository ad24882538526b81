"""Training loop: minibatch SGD with metrics, atomic checkpoints and exact resume.

:func:`fit` trains a :class:`~v1sim.nn.Module` on (images, labels) arrays into
a run folder (:class:`v1sim._core.runs.RunFolder`, the same for every trainer):

``run.json``
    How the run was started: the configuration, the model and dataset names,
    the numbers of training and test images. Written once; a resume checks
    its settings against it and never rewrites it.
``metrics.jsonl``
    One JSON object per finished epoch (losses, accuracies, learning rate,
    seconds).
``steps.jsonl``
    The training curve at a finer grain (He et al.'s plots are per
    iteration): every ``log_every`` SGD steps, the mean training loss and
    error of those steps, measured on each minibatch before its update.
``last.npz`` (and ``previous.npz``, the one before it)
    Everything needed to continue, in one file: weights and buffers,
    optimiser momentum, schedule, the random generators of dropout layers,
    the epoch and the position inside it, the metrics so far and the epoch
    target (``epochs``; a resume with a larger ``epochs`` extends the run and
    the checkpoints record the new target, ``run.json`` the original one).
    Written after every epoch and on Ctrl-C; its contents and the checks a
    resume makes are in :mod:`v1sim.nn.checkpoints`.
``best.npz``
    The weights of the epoch with the lowest test error (there is no
    separate validation split; the test set is what LeNet-5's paper reports).

:func:`v1sim.nn.runlog.load_run` reads the logs back (a folder holding only
``run.json`` and the two ``.jsonl`` files is enough, e.g. to plot a run
without its checkpoints).

Resume is exact: the minibatch order of epoch ``e`` is drawn from a generator
seeded with ``(seed, e)``, so a resumed run replays the same batches from
where it stopped and finishes with the same weights as an uninterrupted one.

Divergence: with ``C`` classes the loss of a uniform guess is ``ln C``. A
step whose loss exceeds ``DIVERGED_STEP * ln C`` (100 ln C, 230 for digits),
or an epoch whose mean training loss exceeds ``DIVERGED_EPOCH * ln C``
(10 ln C), or a NaN/infinite loss or activation, stops the run with a
:class:`~v1sim.errors.TrainingError` naming the epoch. A network that learns
never gets there: LeNet-5 starts at ln C and falls; at ``--lr 1`` it reached
98 after two epochs (stuck at 90% error), at ``--lr 1e4`` 1e7 within one.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from functools import partial

import numpy as np

from .._core.io import kill_point
from .._core.runs import RunFolder
from .._core.validate import check_labels
from ..backend import peak_rss_mb
from ..datasets.augment import augment
from ..errors import InputError, InputTypeError, NonFiniteError, TrainingError, TrainingInterrupted
from .checkpoints import check_checkpoint, checkpoint_state, fresh_position, fresh_window, restore_checkpoint
from .config import TrainConfig, warmup_factor
from .loss import CrossEntropyLoss
from .optim import SGD, StepLR, set_layer_rates

__all__ = ["TrainConfig", "TrainingError", "TrainingInterrupted", "evaluate", "fit", "warmup_factor"]

DIVERGED_STEP = 100  # a step's loss above this many times ln(classes) stops the run
DIVERGED_EPOCH = 10  # so does an epoch's mean training loss above this many times ln(classes)


def check_data(images, labels, name):
    """(N, C, H, W) finite float32 images and (N,) int64 labels (:func:`~v1sim._core.validate.check_labels`).

    ``labels`` None (unsupervised data) stays None. Errors name ``"{name} images"`` or ``"{name} labels"``
    (``name`` is "train" or "test").
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise InputError(f"{name} images must be (N, C, H, W), got shape {images.shape}", argument=f"{name} images")
    labels = None if labels is None else check_labels(labels, images.shape[0], f"{name} labels")
    x = np.ascontiguousarray(images, dtype=np.float32)
    bad = x.size - int(np.count_nonzero(np.isfinite(x)))
    if bad:  # found here, not blamed on the learning rate a few steps later
        raise NonFiniteError(
            f"{name} images must be finite, got {bad} NaN or infinite value(s) (after conversion to float32)",
            argument=f"{name} images",
        )
    return x, labels


def evaluate(model, images, labels, *, batch_size=256, criterion=None) -> tuple[float, float]:
    """Mean loss and score of ``model`` (in eval mode) on a dataset: cross-entropy and accuracy by default.

    ``criterion`` is an objective of :mod:`v1sim.nn.loss` (``labels`` None for a reconstruction).
    """
    criterion = criterion or CrossEntropyLoss()
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    try:
        for start in range(0, len(images), batch_size):
            x = images[start : start + batch_size]
            target = criterion.targets(x, None if labels is None else labels[start : start + batch_size])
            output = model(x)
            loss_sum += criterion(output, target) * len(x)
            correct += criterion.score(output, target)
    finally:
        model.train(was_training)
    return loss_sum / len(images), correct / len(images)


class _Run:
    """One :func:`fit` run: its model, optimiser and counters, and the step, epoch and checkpoint that change them."""

    def __init__(self, model, config, train, test, folder, meta, progress, criterion):
        self.model, self.config, self.folder, self.meta, self.progress = model, config, folder, meta, progress
        (self.x, self.y), (self.x_test, self.y_test) = train, test
        set_layer_rates(model, config.freeze, config.lr_mult)  # what trains (transfer learning)
        self.optimizer = SGD(
            model.parameters(),
            lr=config.lr,
            momentum=config.momentum,
            weight_decay=config.weight_decay,
            nesterov=config.nesterov,
        )
        self.schedule = StepLR(self.optimizer, config.lr_step, config.lr_gamma) if config.lr_step else None
        self.criterion = criterion
        self.steps_per_epoch = math.ceil(len(self.x) / config.batch_size)
        # a trivial guess's loss (ln C for classes): the scale of the divergence checks
        self.chance_loss = max(criterion.chance_loss(*train), criterion.chance_loss(*test))
        self.chance = criterion.chance_name
        self.history: list[dict] = []
        self.steps_log: list[dict] = []
        self.position, self.window = fresh_position(), fresh_window()
        self.clock = None  # perf_counter() when this process began the current epoch's steps

    # ----------------------------------------------------------------------------- the run folder

    def facts(self) -> dict:
        """What ``run.json`` records, and a resume must match (``epochs`` apart)."""
        return {
            "config": dataclasses.asdict(self.config),
            **self.meta,
            "n_train": len(self.x),
            "n_test": len(self.x_test),
        }

    def open(self, resume: bool) -> None:
        """Start the run, or restore the newest usable checkpoint and rewrite the logs to match it."""
        facts = self.facts()
        if not resume:
            self.folder.start(facts)
            return
        facts["config"].pop("epochs")  # the one setting a resume may change
        self.folder.check_settings(facts)
        saved = self.folder.resume(partial(check_checkpoint, self))
        if saved is None:  # started, but stopped before its first checkpoint: begin again
            return
        restore_checkpoint(self, *saved)
        self.folder.write_metrics(self.history)
        if self.steps_log:
            self.folder.write_steps(self.steps_log)
        done, target = self.position["epoch"], self.config.epochs
        if done > target or (done == target and self.position["batch"]):
            raise InputError(
                f"epochs={target} is fewer than the {done + bool(self.position['batch'])} epoch(s) "
                f"{self.folder.path} holds already",
                argument="epochs",
            )

    def interrupt(self, where: str):
        """Save ``last`` at the current position and raise TrainingInterrupted (Ctrl-C)."""
        if self.clock is not None:  # in the middle of an epoch: keep its seconds so far
            self.position["seconds"] += time.perf_counter() - self.clock
            self.clock = None
        self.folder.save_last(*checkpoint_state(self))
        raise self.folder.interruption(where)

    # ----------------------------------------------------------------------------- training

    def diverged(self, what, epoch, batch=None, cause=None):
        where = f"epoch {epoch + 1}" + ("" if batch is None else f", batch {batch + 1}")
        raise TrainingError(
            f"{what} at {where}: training diverged; lower the learning rate (--lr, now {self.optimizer.lr:g})"
        ) from cause

    def step(self, epoch, batch, order) -> float:
        """One SGD step on minibatch ``batch`` of epoch ``epoch``; returns its loss (measured before the update)."""
        cfg, pos, win = self.config, self.position, self.window
        idx = order[batch * cfg.batch_size : (batch + 1) * cfg.batch_size]
        x = self.x[idx]
        if cfg.shift or cfg.flip:  # drawn from (seed, epoch, batch): a resume augments the same way
            x = augment(x, np.random.default_rng([cfg.seed, epoch, batch, 1]), flip=cfg.flip, shift=cfg.shift)
        y = self.criterion.targets(x, None if self.y is None else self.y[idx])
        try:
            logits = self.model(x)
            loss = self.criterion(logits, y)
        except NonFiniteError as exc:  # layers refuse NaN/inf activations
            self.diverged("the activations became NaN or infinite", epoch, batch, exc)
        if not math.isfinite(loss) or loss > DIVERGED_STEP * self.chance_loss:
            self.diverged(
                f"the loss reached {loss:.4g} "
                f"(> {DIVERGED_STEP} {self.chance} = {DIVERGED_STEP * self.chance_loss:.0f})",
                epoch,
                batch,
            )
        self.model.zero_grad()
        self.model.backward_without_input_grad(self.criterion.backward())  # no gradient w.r.t. the images
        scheduled, step = self.optimizer.lr, epoch * self.steps_per_epoch + batch
        self.optimizer.lr = scheduled * cfg.lr_factor(step)
        self.optimizer.step()
        self.optimizer.lr = scheduled
        right = self.criterion.score(logits, y)
        pos["batch"], pos["seen"] = batch + 1, pos["seen"] + len(y)
        pos["loss_sum"], pos["correct"] = pos["loss_sum"] + loss * len(y), pos["correct"] + right
        if cfg.log_every:
            win["loss_sum"], win["wrong"] = win["loss_sum"] + loss * len(y), win["wrong"] + len(y) - right
            win["seen"], win["steps"] = win["seen"] + len(y), win["steps"] + 1
            if win["steps"] == cfg.log_every:
                self.steps_log.append(
                    {
                        "step": step + 1,
                        "epoch": epoch + (batch + 1) / self.steps_per_epoch,
                        "lr": scheduled * cfg.lr_factor(step),
                        "steps": win["steps"],
                        "train_loss": win["loss_sum"] / win["seen"],
                        "train_error": win["wrong"] / win["seen"],
                    }
                )
                self.window = fresh_window()
                self.folder.write_steps(self.steps_log)
        return loss

    def train_epoch(self, epoch, interrupted) -> bool:
        """The remaining steps of ``epoch``; False if Ctrl-C stopped it between two steps."""
        from tqdm.auto import tqdm

        first, steps = self.position["batch"], self.steps_per_epoch
        order = np.random.default_rng([self.config.seed, epoch]).permutation(len(self.x))
        bar = tqdm(
            range(first, steps),
            desc=f"epoch {epoch + 1}/{self.config.epochs}",
            unit="batch",
            initial=first,
            total=steps,
            disable=not self.progress,
            leave=False,
        )
        self.clock = time.perf_counter()
        with bar:
            for batch in bar:
                loss = self.step(epoch, batch, order)
                if batch % 10 == 0:
                    bar.set_postfix(loss=f"{loss:.3f}", acc=f"{self.position['correct'] / self.position['seen']:.3f}")
                kill_point("step")
                if interrupted():
                    return False
        return True

    def end_epoch(self, epoch) -> None:
        """Test, log and checkpoint the epoch just trained (``best`` first, if it is the best so far)."""
        pos = self.position
        seconds = pos["seconds"] + time.perf_counter() - self.clock
        self.clock = None
        train_loss = pos["loss_sum"] / pos["seen"] if pos["seen"] else math.nan
        if not train_loss <= DIVERGED_EPOCH * self.chance_loss:
            self.diverged(
                f"the mean training loss reached {train_loss:.4g} (> {DIVERGED_EPOCH} {self.chance} = "
                f"{DIVERGED_EPOCH * self.chance_loss:.1f})",
                epoch,
            )
        kill_point("evaluate")
        test_loss, test_acc = evaluate(self.model, self.x_test, self.y_test, criterion=self.criterion)
        metric = self.criterion.metric  # "accuracy" for classifiers
        record = {
            "epoch": epoch + 1,
            "lr": self.optimizer.lr,
            "train_loss": train_loss,
            f"train_{metric}": pos["correct"] / pos["seen"],
            "test_loss": test_loss,
            f"test_{metric}": test_acc,
            "test_error": 1.0 - test_acc,
            "seconds": seconds,
            "images_per_second": pos["seen"] / seconds if seconds > 0 else float("nan"),
        }
        self.history.append(record)
        if self.schedule is not None:
            self.schedule.step()
        self.position = fresh_position(epoch + 1)
        state = checkpoint_state(self)
        if record["test_error"] <= min(h["test_error"] for h in self.history):
            self.folder.save_best(*state)
        self.folder.save_last(*state)
        self.folder.write_metrics(self.history)
        if self.progress:
            print(
                f"epoch {epoch + 1}: train loss {train_loss:.4f}, test error {100 * record['test_error']:.2f}%, "
                f"{record['images_per_second']:.0f} images/s",
                file=sys.stderr,
                flush=True,
            )

    def summary(self, *, already_finished=False) -> dict:
        """The result :func:`fit` returns, from the history."""
        final, best = self.history[-1], min(self.history, key=lambda h: h["test_error"])
        train_seconds = sum(h["seconds"] for h in self.history)
        images = sum(h["images_per_second"] * h["seconds"] for h in self.history)
        return {
            f"test_{self.criterion.metric}": final[f"test_{self.criterion.metric}"],
            "test_error": final["test_error"],
            "test_loss": final["test_loss"],
            "epochs": final["epoch"],
            "train_seconds": train_seconds,
            "images_per_second": images / train_seconds if train_seconds > 0 else float("nan"),
            "best_epoch": best["epoch"],
            "best_test_error": best["test_error"],
            "out": str(self.folder.path),
            "already_finished": already_finished,
            "peak_rss_mb": peak_rss_mb(),  # of the whole process so far (v1sim.backend.peak_rss_mb)
        }


def fit(model, train, test, config: TrainConfig, out_dir, *, resume=False, progress=True, meta=None, criterion=None):
    """Train ``model`` with minibatch SGD on softmax cross-entropy, or another objective (``criterion``).

    Parameters
    ----------
    model : v1sim.nn.Module
        Network mapping (N, C, H, W) float32 images to (N, classes) logits.
    train, test : tuple of (images, labels)
        Finite images (N, C, H, W) float32 and integer labels (N,).
    config : TrainConfig
        Hyper-parameters.
    out_dir : str or Path
        The run folder (see the module docstring); a new run refuses a
        folder that holds one.
    resume : bool
        Continue the run in ``out_dir`` from its newest usable checkpoint
        (weights, optimiser, schedule, random generators, position; ``last``,
        else ``previous``); ``config`` and ``meta`` must match ``run.json``,
        except ``epochs``, the target, which may grow. A run that reached it
        is reported, not trained (``already_finished`` in the result).
    progress : bool
        Show a progress bar per epoch on stderr.
    meta : dict, optional
        Extra JSON-able facts stored in ``run.json`` and the checkpoints
        (model name, dataset).
    criterion : objective of :mod:`v1sim.nn.loss`, optional
        Default :class:`~v1sim.nn.CrossEntropyLoss`. With
        :class:`~v1sim.nn.ReconstructionLoss` the labels may be None, the
        logs' ``accuracy`` is its ``metric`` (``variance_explained``) and the
        error the fraction unexplained.

    Returns
    -------
    dict
        ``test_accuracy``, ``test_error``, ``test_loss``, ``epochs``,
        ``train_seconds``, ``images_per_second``, ``best_epoch``,
        ``best_test_error``, ``out``, ``already_finished``, ``peak_rss_mb``
        (the process's peak resident memory, :func:`v1sim.backend.peak_rss_mb`).

    Raises
    ------
    v1sim.errors.InputError
        For malformed or non-finite images or labels (naming ``"train images"``,
        ``"test labels"``, ...: labels are integers >= 0, one per image), or
        an ``epochs`` below what a resumed run holds.
    v1sim.errors.InputTypeError
        If ``config`` is not a :class:`TrainConfig`, or labels are not integers.
    v1sim.errors.TrainingError
        If training diverges (see the module docstring); names the epoch.
    v1sim.errors.TrainingInterrupted
        On Ctrl-C (at any point: the step, evaluation or write in hand is
        finished first), after writing the ``last`` checkpoint.
    v1sim.errors.CheckpointError
        If ``resume`` finds no run, settings that contradict it, or no usable
        checkpoint; or if a new run is asked for in a folder holding one.
    """
    if not isinstance(config, TrainConfig):
        raise InputTypeError(f"config must be a TrainConfig, got {type(config).__name__}", argument="config")
    run = _Run(
        model,
        config,
        check_data(*train, "train"),
        check_data(*test, "test"),
        RunFolder(out_dir),
        dict(meta or {}),
        progress,
        criterion or CrossEntropyLoss(),
    )
    with run.folder.interrupts() as interrupted:
        run.open(resume)
        if run.position["epoch"] == config.epochs:
            return run.summary(already_finished=True)
        model.train()
        kill_point("start")
        if interrupted():
            run.interrupt("before training")
        for epoch in range(run.position["epoch"], config.epochs):
            if not run.train_epoch(epoch, interrupted):
                run.interrupt(f"in epoch {epoch + 1}")
            run.end_epoch(epoch)
            if interrupted() and epoch + 1 < config.epochs:
                raise run.folder.interruption(f"after epoch {epoch + 1}")
    return run.summary()
