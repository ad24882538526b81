"""`v1sim train` from the command line: offline default data, JSON result, errors, resume."""

from __future__ import annotations

import json

from v1sim.cli import main


def test_train_lenet5_offline_json(tmp_path, capsys):
    code = main(["train", "lenet5", "--epochs", "1", "--limit", "256", "--batch-size", "32",
                 "--out", str(tmp_path), "--json", "--quiet"])  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("test_accuracy", "test_error", "epochs", "train_seconds", "images_per_second"):
        assert key in result
    assert result["epochs"] == 1 and 0.0 <= result["test_error"] <= 1.0
    assert (tmp_path / "last.npz").is_file() and (tmp_path / "metrics.jsonl").is_file()

    # resume with more epochs continues from epoch 1
    code = main(["train", "lenet5", "--epochs", "2", "--limit", "256", "--batch-size", "32",
                 "--out", str(tmp_path), "--resume", "--json", "--quiet"])  # fmt: skip
    assert code == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["epochs"] == 2


def test_train_errors_are_usage_errors(tmp_path, capsys):
    assert main(["train", "no-such-net", "--out", str(tmp_path)]) == 2
    assert "known" in capsys.readouterr().err
    assert main(["train", "vgg16", "--epochs", "1", "--out", str(tmp_path), "--quiet"]) == 2
    assert "224" in capsys.readouterr().err
    assert main(["train", "lenet5", "--epochs", "0", "--out", str(tmp_path), "--quiet"]) == 2
    assert "epochs" in capsys.readouterr().err
    assert main(["train", "lenet5", "--resume", "--out", str(tmp_path / "empty"), "--quiet"]) == 2
    assert "missing" in capsys.readouterr().err
