"""scripts/plain_vs_residual_panels.py: reading v1sim train run folders and drawing them (the MNIST figure's panels)."""

import importlib.util
import json

import numpy as np
import pytest

from v1sim._core.io import write_jsonl
from v1sim.figures import default_scripts_dir

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def fig():
    path = default_scripts_dir() / "plain_vs_residual_panels.py"
    spec = importlib.util.spec_from_file_location("plain_vs_residual_panels_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _metrics(final_train_error, final_test_error, epochs=3):
    """Synthetic metrics.jsonl records in the format fit() writes, errors falling to the given finals."""
    records = []
    for e in range(1, epochs + 1):
        f = e / epochs
        train_err = 0.5 + (final_train_error - 0.5) * f
        test_err = 0.5 + (final_test_error - 0.5) * f
        records.append(
            {
                "epoch": e,
                "lr": 0.1,
                "train_loss": 2.0 * train_err + 0.05,
                "train_accuracy": 1.0 - train_err,
                "test_loss": 2.0 * test_err + 0.1,
                "test_accuracy": 1.0 - test_err,
                "test_error": test_err,
                "seconds": 10.0,
                "images_per_second": 100.0,
            }
        )
    return records


def _make_runs(root, finals):
    for name, (train_err, test_err) in finals.items():
        write_jsonl(root / name / "metrics.jsonl", _metrics(train_err, test_err))
        (root / name / "last.json").write_text(json.dumps({"dataset": "mnist", "model": name}))
    # folders that must be ignored: not a CIFAR depth, another model, no metrics
    write_jsonl(root / "resnet50" / "metrics.jsonl", _metrics(0.9, 0.9))
    write_jsonl(root / "lenet5" / "metrics.jsonl", _metrics(0.9, 0.9))
    (root / "plain32").mkdir()


LECTURE = {"plain20": (0.04, 0.05), "plain56": (0.08, 0.09), "resnet20": (0.04, 0.05), "resnet56": (0.02, 0.03)}


def test_reads_run_folders(fig, tmp_path):
    _make_runs(tmp_path, LECTURE)
    curves = fig.read_runs(tmp_path)
    assert sorted((c["kind"], c["depth"]) for c in curves) == [
        ("plain", 20),
        ("plain", 56),
        ("resnet", 20),
        ("resnet", 56),
    ]
    p56 = next(c for c in curves if c["kind"] == "plain" and c["depth"] == 56)
    np.testing.assert_allclose(p56["x_train"], [1, 2, 3])
    np.testing.assert_allclose(p56["train_error"][-1], 0.08)
    np.testing.assert_allclose(p56["test_error"][-1], 0.09)
    assert p56["dataset"] == "mnist" and p56["unit"] == "epoch"
    assert fig.verdict(curves).startswith("as in the lecture")


def test_verdict_says_when_the_effect_is_absent(fig, tmp_path):
    _make_runs(
        tmp_path, {"plain20": (0.08, 0.09), "plain56": (0.04, 0.05), "resnet20": (0.04, 0.05), "resnet56": (0.08, 0.09)}
    )
    text = fig.verdict(fig.read_runs(tmp_path))
    assert "not" in text and "NOT train worse" in text and "ALSO trains worse" in text


def test_verdict_names_a_narrowed_gap(fig, tmp_path):
    # deeper plain net far worse, deeper ResNet only slightly worse: half of He et al.'s result
    _make_runs(
        tmp_path, {"plain20": (0.05, 0.06), "plain56": (0.40, 0.45), "resnet20": (0.05, 0.06), "resnet56": (0.09, 0.10)}
    )
    text = fig.verdict(fig.read_runs(tmp_path))
    assert text.startswith("half as in the lecture") and "+0.70 nats" in text and "+0.08 nats" in text


def test_draws_run_folders(fig, tmp_path):
    runs = tmp_path / "elsewhere"
    _make_runs(runs, LECTURE)
    path = fig.draw_runs(runs, tmp_path / "out")
    assert path == tmp_path / "out" / "plain_vs_residual.png"
    assert path.read_bytes()[:8] == PNG and path.stat().st_size > 5000


def test_a_folder_without_runs_is_an_error_not_an_empty_figure(fig, tmp_path):
    with pytest.raises(FileNotFoundError, match="no plainN/resnetN run folders"):
        fig.draw_runs(tmp_path, tmp_path / "out")


def test_default_runs_folder_is_relative_to_cwd(fig, tmp_path, monkeypatch):
    monkeypatch.delenv("V1SIM_RUNS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert fig.runs_dir().resolve() == (tmp_path / "runs").resolve()
    _make_runs(tmp_path / "runs", {"plain20": (0.04, 0.05), "resnet20": (0.04, 0.05)})
    assert len(fig.read_runs(fig.runs_dir())) == 2


def test_a_foreign_metrics_file_is_skipped_with_a_warning(fig, tmp_path):
    _make_runs(tmp_path, {"plain20": (0.04, 0.05)})
    (tmp_path / "resnet20").mkdir()
    (tmp_path / "resnet20" / "metrics.jsonl").write_text('{"step": 1, "loss": 2.3}\n')
    with pytest.warns(UserWarning, match="resnet20"):
        curves = fig.read_runs(tmp_path)
    assert [(c["kind"], c["depth"]) for c in curves] == [("plain", 20)]


def test_step_logs_give_per_step_curves_with_test_points_at_epoch_ends(fig, tmp_path):
    # 2 epochs of 12 steps, logged every 4 steps, as fit() writes them
    for name, final in (("plain20", 0.3), ("plain56", 0.6), ("resnet20", 0.3), ("resnet56", 0.2)):
        run = tmp_path / name
        write_jsonl(run / "metrics.jsonl", _metrics(final, final + 0.01, epochs=2))
        steps = [
            {
                "step": s,
                "epoch": s / 12,
                "lr": 0.1,
                "steps": 4,
                "train_loss": 2.3 - (2.3 - final) * s / 24,
                "train_error": 0.9 - (0.9 - final / 3) * s / 24,
            }
            for s in range(4, 25, 4)
        ]
        write_jsonl(run / "steps.jsonl", steps)
        config = {"batch_size": 128, "lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4, "log_every": 4}
        (run / "run.json").write_text(json.dumps({"config": config, "dataset": "mnist", "n_train": 1536}))
    curves = fig.read_runs(tmp_path)
    p56 = next(c for c in curves if (c["kind"], c["depth"]) == ("plain", 56))
    assert p56["unit"] == "iteration" and p56["n_train"] == 1536 and p56["log_every"] == 4
    np.testing.assert_allclose(p56["x_train"], [4, 8, 12, 16, 20, 24])
    np.testing.assert_allclose(p56["x_test"], [12, 24])  # the test set is seen at the end of each epoch
    np.testing.assert_allclose(p56["train_loss"][-1], 0.6)
    assert fig.verdict(curves).startswith("as in the lecture")
    path = fig.draw_runs(tmp_path, tmp_path / "out")
    assert path.read_bytes()[:8] == PNG


def test_recorded_mnist_runs_show_the_lecture_pattern(fig):
    # the four v1sim train logs kept in scripts/data (3 epochs of 20,000 MNIST digits each)
    curves = fig.read_runs(default_scripts_dir() / "data" / "plain_vs_residual_mnist")
    assert sorted((c["kind"], c["depth"]) for c in curves) == [
        ("plain", 20),
        ("plain", 56),
        ("resnet", 20),
        ("resnet", 56),
    ]
    assert all(c["unit"] == "iteration" and len(c["x_train"]) > 90 for c in curves)
    assert fig.verdict(curves).startswith("as in the lecture")
