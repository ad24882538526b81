"""The natural-image ConvNet (sparse_conv): its layers' gradients, its objective, training, resume and CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from v1sim import nn
from v1sim._core.io import load_checkpoint
from v1sim.errors import InputError
from v1sim.nn import models
from v1sim.nn.natural import gabor_fraction, train_natural, whitened_patches
from v1sim.nn.train import TrainConfig, evaluate


def _numeric_grad(f, array, eps=1e-6):
    grad = np.zeros_like(array)
    for i in np.ndindex(array.shape):
        old = array[i]
        array[i] = old + eps
        up = f()
        array[i] = old - eps
        down = f()
        array[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


def _small_model():
    model = models.build("sparse_conv", filters=3, kernel_size=3, sparsity=0.3, rng=0).double()
    model.conv1.bias.data[:] = 0.2  # most codes active, so every weight gets a gradient
    return model


def test_sparse_coding_objective_gradients_match_float64_central_differences():
    model, x = _small_model(), np.random.default_rng(1).standard_normal((2, 1, 5, 5))
    criterion = nn.ReconstructionLoss(model)

    def objective():
        return criterion(model(x), x)

    objective()
    model.zero_grad()
    model.backward(criterion.backward())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, _numeric_grad(objective, p.data), atol=1e-6, err_msg=name)


def test_tied_transpose_input_gradient_and_adjointness():
    model = _small_model()
    rng = np.random.default_rng(2)
    codes, target = rng.standard_normal((2, 3, 3, 3)), rng.standard_normal((2, 1, 5, 5))
    decoder = model.decoder
    # the adjoint of the encoder's correlation: <conv(x), a> = <x, conv_transpose(a)>
    x = rng.standard_normal((2, 1, 5, 5))
    encoded = nn.functional.conv2d_forward(x, model.conv1.unit_weight())[0]
    assert np.sum(encoded * codes) == pytest.approx(np.sum(x * decoder(codes)), rel=1e-12)
    criterion = nn.ReconstructionLoss()

    def objective():
        return criterion(decoder(codes), target)

    objective()
    grad_codes = decoder.backward(criterion.backward())
    np.testing.assert_allclose(grad_codes, _numeric_grad(objective, codes), atol=1e-7)


def test_unit_norm_filters_and_penalty_values():
    model = _small_model()
    norms = np.sqrt(np.sum(model.conv1.unit_weight() ** 2, axis=(1, 2, 3)))
    np.testing.assert_allclose(norms, 1.0, rtol=1e-12)
    model.conv1.weight.data *= 7.0  # the layer computes with the direction only
    np.testing.assert_allclose(np.sqrt(np.sum(model.conv1.unit_weight() ** 2, axis=(1, 2, 3))), 1.0, rtol=1e-12)
    a = np.array([[[[1.0, -2.0]]], [[[0.5, 0.0]]]])
    penalty = nn.L1Penalty(0.5)
    assert np.array_equal(penalty(a), a) and penalty.penalty == pytest.approx(0.5 * 3.5 / 2)
    np.testing.assert_allclose(penalty.backward(np.zeros_like(a)), 0.25 * np.sign(a))
    x = np.ones((2, 1, 2, 2))
    loss = nn.ReconstructionLoss()
    assert loss(np.zeros_like(x), x) == pytest.approx(0.5 * 4)  # 0.5 * mean_n |x_n|^2
    assert loss.chance_loss(x, None) == pytest.approx(2.0)
    assert loss.score(x, x) == 2.0 and loss.score(np.zeros_like(x), x) == 0.0


def _gabor(theta, f, size=12):
    y, x = np.mgrid[0:size, 0:size] - (size - 1) / 2
    xp = x * np.cos(theta) + y * np.sin(theta)
    return np.exp(-(x**2 + y**2) / (2 * 2.5**2)) * np.cos(2 * np.pi * f * xp)


def test_gabor_fraction_is_one_for_gabors_and_near_zero_for_noise():
    gabors = np.stack([_gabor(t, f) for t in np.linspace(0, np.pi, 5, endpoint=False) for f in (0.15, 0.25)])
    assert gabor_fraction(gabors) == 1.0
    noise = np.random.default_rng(0).standard_normal((20, 1, 12, 12))
    assert gabor_fraction(noise) <= 0.1
    assert gabor_fraction(np.concatenate([gabors[:, None], noise[:10]])) == pytest.approx(0.5, abs=0.05)
    with pytest.raises(InputError, match="filters"):
        gabor_fraction(np.zeros((2, 3, 12, 12)))


def test_whitened_patches_are_deterministic_with_unit_energy():
    a, b = whitened_patches(300, 12, rng=5), whitened_patches(300, 12, rng=5)
    assert a.shape == (300, 1, 12, 12) and a.dtype == np.float32 and np.array_equal(a, b)
    assert 0.3 < np.mean(np.sum(a.astype(np.float64) ** 2, axis=(1, 2, 3))) < 3.0  # about one per patch


def test_short_training_reduces_the_objective(tmp_path):
    config = TrainConfig(epochs=2, batch_size=64, lr=0.1, weight_decay=0.0, log_every=0)
    result = train_natural("sparse_conv", config=config, out=tmp_path / "run", progress=False, limit=640)
    test = whitened_patches(4000 + 640, 12, rng=1996)[640:]  # the run's test patches
    untrained = models.build("sparse_conv", rng=0)
    before, _ = evaluate(untrained, test, None, criterion=nn.ReconstructionLoss(untrained))
    assert result["test_loss"] < 0.95 * before
    assert 0.0 <= result["gabor_fraction"] <= 1.0 and result["test_variance_explained"] > 0.0
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["model"] == "sparse_conv" and run["num_classes"] is None


def _train_cli(out, args, kill=None):
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env.pop("V1SIM_TEST_KILL_AT", None)
    if kill:
        env["V1SIM_TEST_KILL_AT"] = kill
    proc = subprocess.run(
        [sys.executable, "-m", "v1sim", "train", "sparse_conv", *args, "--out", str(out), "--quiet", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc.returncode, proc.stdout, proc.stderr


QUICK = ["--limit", "256", "--epochs", "2", "--batch-size", "64", "--log-every", "2"]  # 4 steps an epoch


def test_killed_run_resumes_bit_identically(tmp_path):
    code, out, err = _train_cli(tmp_path / "ref", QUICK)
    assert code == 0, err
    code, _, err = _train_cli(tmp_path / "cut", QUICK, kill="step:6")  # SIGKILL in epoch 2
    assert code == -signal.SIGKILL, err
    code, resumed, err = _train_cli(tmp_path / "cut", ["--resume"])
    assert code == 0, err
    for stem in ("last", "best"):
        got, _ = load_checkpoint(tmp_path / "cut" / stem)
        want, _ = load_checkpoint(tmp_path / "ref" / stem)
        for key in want:
            np.testing.assert_array_equal(got[key], want[key], err_msg=f"{stem}: {key}")
    ref, cut = json.loads(out), json.loads(resumed)
    assert cut["gabor_fraction"] == ref["gabor_fraction"] and cut["test_loss"] == ref["test_loss"]


@pytest.mark.parametrize(
    "args, words",
    [
        (["--dataset", "digits"], "learns from natural images"),
        (["--dataset", "images", "--data-dir", "NOWHERE"], "nowhere does not exist"),
        (["--classifier", "ridge"], "--classifier"),
    ],
)
def test_cli_refuses_with_one_line(tmp_path, args, words):
    args = [a.replace("NOWHERE", str(tmp_path / "nowhere")) for a in args]
    code, _, err = _train_cli(tmp_path / "run", args)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
