"""Training loop: learning, metrics, atomic checkpoints, exact resume after Ctrl-C."""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest

from v1sim import nn
from v1sim._core.io import load_checkpoint
from v1sim.datasets import load_digits
from v1sim.errors import CheckpointError
from v1sim.nn.runlog import load_run
from v1sim.nn.train import TrainConfig, TrainingError, TrainingInterrupted, fit


def small_net(seed=0, dropout=True):
    layers = [
        nn.Conv2d(1, 4, 5, rng=seed),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 5, rng=seed + 1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
    ]
    if dropout:
        layers.append(nn.Dropout(0.25, rng=seed + 2))
    layers.append(nn.Linear(8 * 4 * 4, 10, rng=seed + 3))
    return nn.Sequential(*layers)


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    return (x[:512], y[:512]), (xt[:200], yt[:200])


def weights(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def test_training_learns_digits_and_writes_metrics(digits, tmp_path):
    model = small_net()
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.05, momentum=0.9, weight_decay=0.0, seed=1)
    result = fit(model, *digits, cfg, tmp_path, progress=False, meta={"model": "small"})
    assert result["test_accuracy"] > 0.5  # chance is 0.1
    assert result["test_error"] == pytest.approx(1 - result["test_accuracy"])
    assert result["epochs"] == 3 and result["images_per_second"] > 0
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]
    assert json.loads(lines[-1])["train_loss"] < json.loads(lines[0])["train_loss"]
    arrays, meta = load_checkpoint(tmp_path / "best")
    assert meta["model"] == "small" and any(k.startswith("model/") for k in arrays)
    assert not list(tmp_path.glob("*.tmp")), "temporary files left behind"


class InterruptAt(nn.Module):
    """Passes x through and sends this process SIGINT at the k-th training forward."""

    def __init__(self, k):
        super().__init__()
        self.k, self.calls = k, 0

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls == self.k:
                os.kill(os.getpid(), signal.SIGINT)
        return x

    def backward(self, grad_out):
        return grad_out

    def output_shape(self, input_shape):
        return input_shape


def test_interrupt_then_resume_equals_uninterrupted_run(digits, tmp_path):
    # warm-up and the 3-step log window both straddle the interruption (step 11 of 16)
    cfg = TrainConfig(epochs=2, batch_size=64, lr=0.05, seed=3, warmup_steps=12, log_every=3)
    reference = small_net(seed=5)
    fit(reference, *digits, cfg, tmp_path / "ref", progress=False)

    model = nn.Sequential(InterruptAt(11), small_net(seed=5))  # 8 batches/epoch: stops in epoch 2
    with pytest.raises(TrainingInterrupted):
        fit(model, *digits, cfg, tmp_path / "run", progress=False)
    _, meta = load_checkpoint(tmp_path / "run" / "last")
    assert meta["progress"]["epoch"] == 1 and meta["progress"]["batch"] == 3

    resumed = nn.Sequential(InterruptAt(0), small_net(seed=99))  # other init: resume must overwrite it
    fit(resumed, *digits, cfg, tmp_path / "run", resume=True, progress=False)
    got, want = weights(resumed[1]), weights(reference)
    assert got.keys() == want.keys()
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    ref_metrics = (tmp_path / "ref" / "metrics.jsonl").read_text().splitlines()
    run_metrics = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    for a, b in zip(ref_metrics, run_metrics):
        ra, rb = json.loads(a), json.loads(b)
        assert ra["train_loss"] == pytest.approx(rb["train_loss"], rel=1e-6)
        assert ra["test_accuracy"] == rb["test_accuracy"]
    ref_steps = [json.loads(line) for line in (tmp_path / "ref" / "steps.jsonl").read_text().splitlines()]
    run_steps = [json.loads(line) for line in (tmp_path / "run" / "steps.jsonl").read_text().splitlines()]
    assert [r["step"] for r in run_steps] == [r["step"] for r in ref_steps] == [3, 6, 9, 12, 15]
    for ra, rb in zip(ref_steps, run_steps):
        assert ra["lr"] == rb["lr"] and ra["train_error"] == rb["train_error"]
        assert ra["train_loss"] == pytest.approx(rb["train_loss"], rel=1e-6)


def test_warmup_and_step_log(digits, tmp_path):
    cfg = TrainConfig(epochs=1, batch_size=32, lr=0.1, weight_decay=0.0, warmup_steps=10, log_every=4)
    assert [cfg.lr_factor(s) for s in (0, 5, 10, 50)] == pytest.approx([0.1, 0.55, 1.0, 1.0])
    fit(small_net(dropout=False), *digits, cfg, tmp_path, progress=False)
    steps = [json.loads(line) for line in (tmp_path / "steps.jsonl").read_text().splitlines()]
    assert [r["step"] for r in steps] == [4, 8, 12, 16]  # 512 images / 32 = 16 steps
    assert [r["lr"] for r in steps] == pytest.approx([0.1 * cfg.lr_factor(s - 1) for s in (4, 8, 12, 16)])
    assert steps[-1]["epoch"] == pytest.approx(1.0)
    logs = load_run(tmp_path)  # the logs read back, as plotting code does
    assert logs["steps"] == steps and [r["epoch"] for r in logs["epochs"]] == [1]
    assert logs["run"]["config"]["warmup_steps"] == 10 and logs["run"]["n_train"] == 512
    assert all(0 <= r["train_error"] <= 1 and r["train_loss"] > 0 for r in steps)
    # the per-step log averages to the epoch's training loss in metrics.jsonl
    epoch = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[0])
    assert np.mean([r["train_loss"] for r in steps]) == pytest.approx(epoch["train_loss"], rel=1e-6)
    assert np.mean([r["train_error"] for r in steps]) == pytest.approx(1 - epoch["train_accuracy"], rel=1e-6)


def test_resume_refuses_other_settings_and_corrupt_checkpoints(digits, tmp_path):
    cfg = TrainConfig(epochs=1, batch_size=64, lr=0.05)
    fit(small_net(), *digits, cfg, tmp_path, progress=False)
    with pytest.raises(CheckpointError, match="other settings"):
        fit(small_net(), *digits, TrainConfig(epochs=2, batch_size=32, lr=0.05), tmp_path, resume=True, progress=False)
    npz = tmp_path / "last.npz"
    npz.write_bytes(npz.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="corrupt"):
        fit(small_net(), *digits, cfg, tmp_path, resume=True, progress=False)
    with pytest.raises(CheckpointError, match="missing"):
        fit(small_net(), *digits, cfg, tmp_path / "nothing-here", resume=True, progress=False)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow on the way to NaN is the point
def test_divergence_stops_with_a_clear_message(digits, tmp_path):
    cfg = TrainConfig(epochs=1, batch_size=64, lr=1e30, momentum=0.0, weight_decay=0.0)
    with pytest.raises(TrainingError, match="lower the learning rate"):
        fit(small_net(dropout=False), *digits, cfg, tmp_path, progress=False)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_loss_stuck_far_above_chance_stops_at_the_epoch_end(digits, tmp_path):
    """LeNet-5 at lr 1: no step passes 100 ln C, but epoch 2's mean loss (101) is past 10 ln C (23)."""
    from v1sim.nn import models
    from v1sim.nn.recipes import prepare_images, recipe

    (x, y), (xt, yt) = digits
    train, test = (prepare_images(x, (1, 32, 32)), y), (prepare_images(xt[:100], (1, 32, 32)), yt[:100])
    cfg = TrainConfig(**{**recipe("lenet5"), "epochs": 3, "lr": 1.0})
    with pytest.raises(TrainingError, match=r"mean training loss reached 10\d\.\d \(> 10 ln C = 23.0\) at epoch 2:"):
        fit(models.build("lenet5", rng=0), train, test, cfg, tmp_path, progress=False)
    assert [json.loads(line)["epoch"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()] == [1]


def test_load_run_needs_a_metrics_log(tmp_path):
    with pytest.raises(FileNotFoundError, match="metrics.jsonl"):
        load_run(tmp_path)
    (tmp_path / "metrics.jsonl").write_text("{not json\n")
    with pytest.raises(ValueError, match="JSON-lines"):
        load_run(tmp_path)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": -1}, "batch_size"),
        ({"lr": 0.0}, "lr"),
        ({"momentum": 1.0}, "momentum"),
        ({"lr_gamma": 0.0}, "lr_gamma"),
        ({"warmup_steps": -1}, "warmup_steps"),
        ({"log_every": -5}, "log_every"),
    ],
)
def test_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_labels_out_of_range_are_refused(digits, tmp_path):
    (x, y), test = digits
    bad = y.copy()
    bad[0] = 10
    with pytest.raises(ValueError, match="label"):
        fit(
            nn.Sequential(nn.Flatten(), nn.Linear(784, 10, rng=0)),
            (x, bad),
            test,
            TrainConfig(epochs=1),
            tmp_path,
            progress=False,
        )


def test_lenet5_overfits_256_digits(digits, tmp_path):
    """The engine can drive LeNet-5's training loss to ~0 on a small set (a capacity and gradient sanity check)."""
    from v1sim.nn import models
    from v1sim.nn.recipes import prepare_images

    (x, y), _ = digits
    x = prepare_images(x[:256], (1, 32, 32))
    y = y[:256]
    model = models.build("lenet5", rng=0)
    cfg = TrainConfig(epochs=25, batch_size=32, lr=0.05, momentum=0.9, weight_decay=0.0, seed=0)
    result = fit(model, (x, y), (x, y), cfg, tmp_path, progress=False)
    losses = [json.loads(line)["train_loss"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert result["test_accuracy"] == 1.0  # every training image right: memorised
    assert losses[-1] < 0.02 < losses[0] / 50


def test_train_steps_is_deterministic_and_learns(digits):
    from v1sim.nn.recipes import predict_labels, train_steps

    (x, y), (xt, yt) = digits
    a = train_steps("lenet5", x[:256], y[:256], steps=30, seed=3)
    b = train_steps("lenet5", x[:256], y[:256], steps=30, seed=3)
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(va, vb, err_msg=k)
    pred = predict_labels(a, xt, (1, 32, 32))
    assert pred.shape == yt.shape and np.mean(pred == yt) > 0.5  # chance is 0.1
    assert not a.training
    with pytest.raises(ValueError, match="steps"):
        train_steps("lenet5", x[:8], y[:8], steps=0)


class Seen(InterruptAt):
    """InterruptAt that also keeps a copy of every training minibatch it passes on."""

    def __init__(self, k):
        super().__init__(k)
        self.batches = []

    def forward(self, x):
        if self.training:
            self.batches.append(np.array(x))
        return super().forward(x)


def test_augmentation_moves_the_minibatches_and_resumes_exactly(digits, tmp_path):
    from v1sim.datasets import augment

    cfg = TrainConfig(epochs=2, batch_size=64, lr=0.05, seed=3, shift=2, flip=True)
    probe = Seen(0)
    reference = nn.Sequential(probe, small_net(seed=5))
    fit(reference, *digits, cfg, tmp_path / "ref", progress=False)
    (x, _), _ = digits
    order = np.random.default_rng([3, 1]).permutation(len(x))  # epoch 1's batch order (nn.train)
    want = augment(x[order[64:128]], np.random.default_rng([3, 1, 1, 1]), flip=True, shift=2)
    np.testing.assert_array_equal(probe.batches[8 + 1], want)  # epoch 1, batch 1: augmented, as documented
    assert not np.array_equal(probe.batches[9], x[order[64:128]])

    model = nn.Sequential(InterruptAt(11), small_net(seed=5))  # 8 batches/epoch: stops in epoch 2
    with pytest.raises(TrainingInterrupted):
        fit(model, *digits, cfg, tmp_path / "run", progress=False)
    resumed = nn.Sequential(InterruptAt(0), small_net(seed=99))
    fit(resumed, *digits, cfg, tmp_path / "run", resume=True, progress=False)
    got, ref = weights(resumed[1]), weights(reference[1])
    for k in ref:
        np.testing.assert_array_equal(got[k], ref[k], err_msg=k)
    plain = small_net(seed=5)
    fit(plain, *digits, TrainConfig(epochs=2, batch_size=64, lr=0.05, seed=3), tmp_path / "plain", progress=False)
    assert any(not np.array_equal(weights(plain)[k], ref[k]) for k in ref)  # augmentation changed the run


@pytest.mark.parametrize("kwargs, match", [({"shift": -1}, "shift"), ({"flip": 1}, "flip")])
def test_bad_augmentation_settings(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        TrainConfig(**kwargs)
