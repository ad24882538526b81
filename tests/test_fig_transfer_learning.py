"""The transfer-learning figure's MNIST -> Fashion-MNIST panel, run on a synthetic Fashion-MNIST set."""

from __future__ import annotations

import gzip
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from v1sim import datasets

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fig_transfer_learning.py"


@pytest.fixture(scope="module")
def fig():
    spec = importlib.util.spec_from_file_location("fig_transfer_learning_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _idx(arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    return bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape) + arr.tobytes()


def _fake_fashion(folder: Path, per_class: int) -> None:
    """Ten classes told apart by which horizontal band of the image is bright, with noise."""
    rng = np.random.default_rng(0)
    for split, n in (("train", per_class), ("test", 4)):
        labels = np.repeat(np.arange(10), n).astype(np.uint8)
        images = rng.integers(0, 60, (len(labels), 28, 28)).astype(np.uint8)
        for i, c in enumerate(labels):
            images[i, 2 * c + 4 : 2 * c + 7] = 230
        for stem, arr in zip(datasets.MNIST_FILES[split], (images, labels)):
            (folder / f"{stem}.gz").write_bytes(gzip.compress(_idx(arr), mtime=0))


def test_without_the_files_the_panel_says_why(fig, monkeypatch, tmp_path):
    monkeypatch.delenv(fig.FASHION_ENV, raising=False)
    assert fig._fashion(quick=True).startswith("not drawn")
    monkeypatch.setenv(fig.FASHION_ENV, str(tmp_path))  # a folder without the files
    assert "could not be read" in fig._fashion(quick=True)


def test_fashion_panel_is_measured_from_the_files_given(fig, monkeypatch, tmp_path):
    _fake_fashion(tmp_path, per_class=10)
    monkeypatch.setenv(fig.FASHION_ENV, str(tmp_path))
    sizes, accuracies = fig._fashion(quick=True)
    assert sizes == [10, 100]
    assert set(accuracies) == set(fig.METHODS)
    for acc in accuracies.values():
        acc = np.asarray(acc)
        assert acc.shape == (2, 2) and np.all((acc >= 0) & (acc <= 1))
    # with 100 labelled images of bands this easy, training from scratch beats chance (0.1) clearly
    assert np.mean(accuracies["scratch"][1]) > 0.3
