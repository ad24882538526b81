"""`v1sim train` from the command line: offline default data, JSON result, errors, resume.

ConvNets (lenet5) and the S/C hierarchies (neocognitron, hmax) share the flags, the run folder and
the exit codes; the hierarchies refuse the SGD flags.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from v1sim.cli import main

#: what every `v1sim train --json` prints, ConvNet or S/C hierarchy
RESULT_KEYS = {"test_accuracy", "test_error", "epochs", "train_seconds", "images_per_second", "out"}


def test_train_lenet5_offline_json(tmp_path, capsys):
    code = main(
        [
            "train",
            "lenet5",
            "--epochs",
            "1",
            "--limit",
            "256",
            "--batch-size",
            "32",
            "--out",
            str(tmp_path),
            "--json",
            "--quiet",
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert RESULT_KEYS <= result.keys()
    assert result["epochs"] == 1 and 0.0 <= result["test_error"] <= 1.0
    assert (tmp_path / "last.npz").is_file() and (tmp_path / "metrics.jsonl").is_file()

    # resume with more epochs continues from epoch 1
    code = main(
        [
            "train",
            "lenet5",
            "--epochs",
            "2",
            "--limit",
            "256",
            "--batch-size",
            "32",
            "--out",
            str(tmp_path),
            "--resume",
            "--json",
            "--quiet",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["epochs"] == 2


def test_resume_continues_the_run_that_was_started(tmp_path, monkeypatch):
    from v1sim._core.io import reset_kill_points

    out = str(tmp_path / "run")
    reset_kill_points()
    monkeypatch.setenv("V1SIM_TEST_KILL_AT", "step:6:INT")  # Ctrl-C in epoch 2 (4 steps an epoch)
    code, result, err = _run(
        "train",
        "lenet5",
        "--epochs",
        "2",
        "--limit",
        "128",
        "--batch-size",
        "32",
        "--lr",
        "0.02",
        "--out",
        out,
        "--json",
        "--quiet",
    )
    assert code == 130 and result is None and err.count("\n") == 1 and "in epoch 2" in err
    monkeypatch.delenv("V1SIM_TEST_KILL_AT")
    run_json = (tmp_path / "run" / "run.json").read_bytes()
    # no --epochs: the run's 2 epochs, not the recipe's 20; --limit, --lr, --batch-size from run.json
    code, result, err = _run("train", "lenet5", "--resume", "--out", out, "--json", "--quiet")
    assert code == 0, err
    assert result["epochs"] == 2 and not result["already_finished"]
    assert (tmp_path / "run" / "run.json").read_bytes() == run_json
    # a larger --epochs extends it; the checkpoints record the new target, run.json stays as it was
    code, result, _ = _run("train", "lenet5", "--resume", "--epochs", "3", "--out", out, "--json", "--quiet")
    assert code == 0 and result["epochs"] == 3
    code, result, err = _run("train", "lenet5", "--resume", "--out", out, "--json", "--quiet")
    assert code == 0 and result["already_finished"] and result["epochs"] == 3
    assert "already finished" in err and (tmp_path / "run" / "run.json").read_bytes() == run_json
    # flags that contradict the run: one line naming each flag with the saved and the given value
    code, _, err = _run("train", "lenet5", "--resume", "--lr", "0.1", "--limit", "64", "--out", out, "--quiet")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "--lr: 0.02 in the saved run, 0.1 given" in err and "--limit: 128 in the saved run, 64 given" in err
    code, _, err = _run("train", "resnet20", "--resume", "--out", out, "--quiet")
    assert code == 2 and "holds a lenet5 run, not resnet20" in err
    code, _, err = _run("train", "lenet5", "--epochs", "1", "--out", out, "--quiet")  # forgot --resume
    assert code == 2 and "already holds a run" in err


def test_out_that_is_a_file_is_a_one_line_usage_error(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    for model in ("lenet5", "hmax"):
        code, _, err = _run("train", model, "--out", str(tmp_path / "file"), "--limit", "8", "--quiet")
        assert code == 2
        assert err.strip() == f"v1sim train: the run folder {tmp_path / 'file'} is an existing file, not a folder"


def test_train_errors_are_usage_errors(tmp_path, capsys):
    assert main(["train", "no-such-net", "--out", str(tmp_path)]) == 2
    assert "known" in capsys.readouterr().err
    assert main(["train", "vgg16", "--epochs", "1", "--out", str(tmp_path), "--quiet"]) == 2
    assert "224" in capsys.readouterr().err
    assert main(["train", "lenet5", "--epochs", "0", "--out", str(tmp_path), "--quiet"]) == 2
    assert "epochs" in capsys.readouterr().err
    assert main(["train", "lenet5", "--resume", "--out", str(tmp_path / "empty"), "--quiet"]) == 2
    assert "run.json is missing (no run was started there)" in capsys.readouterr().err


# ----------------------------------------------------------------------------- S/C hierarchies

HIERARCHY_ARGS = ["--limit", "200", "--json", "--quiet"]  # 200 digits: a few seconds; all 1,000 test digits


def _run(*argv):
    """(exit code, last stdout line as JSON or None, stderr) of ``v1sim ARGV``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    lines = out.getvalue().strip().splitlines()
    return code, json.loads(lines[-1]) if lines else None, err.getvalue()


@pytest.fixture(scope="module")
def neocognitron_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("neocognitron")
    code, result, err = _run("train", "neocognitron", "--out", str(out), *HIERARCHY_ARGS)
    assert code == 0, err
    return out, result


def test_train_neocognitron_json(neocognitron_run):
    out, result = neocognitron_run
    assert RESULT_KEYS <= result.keys()
    assert result["model"] == "neocognitron" and result["dataset"] == "digits" and result["n_train"] == 200
    assert result["epochs"] == 1 and result["classifier"] == "intvec"
    assert result["test_accuracy"] > 0.8  # chance is 0.1
    assert result["test_error"] == pytest.approx(1 - result["test_accuracy"])
    assert set(result["accuracies"]) == {"intvec", "nearest", "ridge"}
    for name in ("run.json", "metrics.jsonl", "last.npz", "previous.npz", "best.npz"):
        assert (out / name).is_file(), name
    assert sorted(p.name for p in out.glob("*.json*")) == ["metrics.jsonl", "run.json"]  # one file per checkpoint


def test_train_neocognitron_resume_after_a_finished_run_reports_it(neocognitron_run):
    out, result = neocognitron_run
    code, again, err = _run("train", "neocognitron", "--out", str(out), "--resume", "--json", "--quiet")
    assert code == 0 and "already finished" in err
    assert again["peak_rss_mb"] >= result["peak_rss_mb"] > 0  # this process's peak so far: it never falls
    peak = {"peak_rss_mb": again["peak_rss_mb"]}
    assert again == {**result, "already_finished": True, **peak}  # nothing learned or tested again; --limit: run.json
    # flags that contradict the run are refused, naming the flag and both values
    code, _, err = _run("train", "neocognitron", "--out", str(out), "--resume", "--seed", "1", *HIERARCHY_ARGS)
    assert code == 2 and "--seed: 0 in the saved run, 1 given" in err
    code, _, err = _run(
        "train", "neocognitron", "--out", str(out), "--resume", "--classifier", "ridge", "--limit", "100", "--quiet"
    )
    assert code == 2 and "--classifier: 'intvec' in the saved run, 'ridge' given" in err
    assert "--limit: 200 in the saved run, 100 given" in err and len(err.strip().splitlines()) == 1


def test_train_neocognitron_interrupted_then_resumed(neocognitron_run, tmp_path, monkeypatch):
    from v1sim._core.io import load_checkpoint, reset_kill_points

    reset_kill_points()
    monkeypatch.setenv("V1SIM_TEST_KILL_AT", "step:6:INT")  # Ctrl-C a few batches into the learning
    code, result, err = _run("train", "neocognitron", "--out", str(tmp_path), *HIERARCHY_ARGS)
    assert code == 130 and result is None
    assert "interrupted" in err and "checkpoint" in err and "Traceback" not in err
    _, last = load_checkpoint(tmp_path / "last")
    assert "readout" not in last["done"] and not (tmp_path / "best.npz").exists()
    monkeypatch.delenv("V1SIM_TEST_KILL_AT")
    code, resumed, _ = _run("train", "neocognitron", "--out", str(tmp_path), "--resume", *HIERARCHY_ARGS)
    assert code == 0
    assert resumed["test_accuracy"] == neocognitron_run[1]["test_accuracy"]  # the same model as without Ctrl-C


def test_train_hmax_json(tmp_path):
    code, result, err = _run(
        "train", "hmax", "--epochs", "1", "--classifier", "ridge", "--out", str(tmp_path), *HIERARCHY_ARGS
    )
    assert code == 0, err
    assert RESULT_KEYS <= result.keys()
    assert result["model"] == "hmax" and result["classifier"] == "ridge" and result["epochs"] == 1
    assert result["test_accuracy"] > 0.6  # chance is 0.1


@pytest.mark.parametrize(
    "model, flags, named",
    [
        ("neocognitron", ["--lr", "0.1"], "--lr"),
        ("hmax", ["--momentum", "0.9"], "--momentum"),
        ("neocognitron", ["--batch-size", "32"], "--batch-size"),
        ("hmax", ["--weight-decay", "0"], "--weight-decay"),
        ("neocognitron", ["--lr-step", "2", "--lr-gamma", "0.5"], "--lr-step, --lr-gamma"),
        ("hmax", ["--epochs", "3"], "--epochs"),
        ("neocognitron", ["--warmup-steps", "10", "--log-every", "5"], "--warmup-steps, --log-every"),
        ("hmax", ["--classifier", "intvec"], "--classifier"),
        ("lenet5", ["--classifier", "ridge"], "--classifier"),
        ("neocognitron", ["--classifier", "svm"], "--classifier svm"),  # names from v1sim.hierarchy.CLASSIFIERS
        ("neocognitron", ["--limit", "0"], "--limit"),
        ("hmax", ["--shift", "2", "--flip"], "--shift, --flip"),
    ],
)
def test_train_flags_that_do_not_apply_are_usage_errors(tmp_path, model, flags, named):
    code, result, err = _run("train", model, *flags, "--out", str(tmp_path / "run"), "--quiet")
    assert code == 2 and result is None
    assert named in err
    assert not (tmp_path / "run").exists()


def test_cuda_without_a_gpu_is_a_clear_error_not_a_traceback(tmp_path):
    from v1sim.backend import cuda_available

    if cuda_available():
        pytest.skip("a GPU (or the simulator) is usable here")
    code, result, err = _run("train", "lenet5", "--device", "cuda", "--limit", "64", "--out", str(tmp_path / "run"))
    assert code == 1 and result is None
    assert "numba-cuda" in err and "NUMBA_ENABLE_CUDASIM" in err and "Traceback" not in err


def test_train_help_tells_convnets_from_hierarchies(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for word in ("ConvNets", "S/C hierarchies", "lenet5", "resnet20", "neocognitron", "hmax", "--classifier"):
        assert word in text


def test_augmentation_flags_are_recorded_and_checked_on_resume(tmp_path):
    out = str(tmp_path / "run")
    code, result, _ = _run("train", "lenet5", "--epochs", "1", "--limit", "128", "--shift", "2", "--out", out, "--json")
    assert code == 0 and result["test_error"] < 1
    config = json.loads((tmp_path / "run" / "run.json").read_text())["config"]
    assert config["shift"] == 2 and config["flip"] is False
    code, result, err = _run("train", "lenet5", "--resume", "--shift", "3", "--out", out, "--quiet")
    assert code == 2 and "--shift: 2 in the saved run, 3 given" in err
