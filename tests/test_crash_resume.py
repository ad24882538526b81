"""Crash consistency: `v1sim train` killed (SIGKILL) or Ctrl-C'd (SIGINT) at every write boundary, then resumed.

Each run is a real `python -m v1sim train` process that sends itself the signal at the N-th pass through a
named boundary (``V1SIM_TEST_KILL_AT=POINT:N[:INT]``, see :func:`v1sim._core.io.kill_point`). After
``--resume`` the run must finish with the weights, optimiser state and metrics of an uninterrupted run,
bit for bit (only the wall-clock fields differ).
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from v1sim._core.io import load_checkpoint
from v1sim.datasets import load_digits

CLOCK = {"seconds", "images_per_second", "train_seconds", "test_seconds", "test_images_per_second"}


def _write_idx(folder, split, images, labels):
    stem = {"train": "train", "test": "t10k"}[split]
    pixels = np.round(images[:, 0] * 255).astype(np.uint8)
    (folder / f"{stem}-images-idx3-ubyte").write_bytes(struct.pack(">4i", 0x803, *pixels.shape) + pixels.tobytes())
    header = struct.pack(">2i", 0x801, len(labels))
    (folder / f"{stem}-labels-idx1-ubyte").write_bytes(header + labels.astype(np.uint8).tobytes())


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory):
    """A tiny MNIST folder (96 training, 32 test digits), so every run takes a second or two."""
    folder = tmp_path_factory.mktemp("mnist")
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    _write_idx(folder, "train", x[:96], y[:96])
    _write_idx(folder, "test", xt[:32], yt[:32])
    return folder


def _train(out, args, kill=None):
    """Exit code and stderr of ``python -m v1sim train ARGS --out OUT``, killed at ``kill`` if given."""
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env.pop("V1SIM_TEST_KILL_AT", None)
    if kill:
        env["V1SIM_TEST_KILL_AT"] = kill
    proc = subprocess.run(
        [sys.executable, "-m", "v1sim", "train", *args, "--out", str(out), "--quiet", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc.returncode, proc.stderr


def _logs(out, name):
    path = out / name
    if not path.exists():
        return None
    return [{k: v for k, v in json.loads(line).items() if k not in CLOCK} for line in path.read_text().splitlines()]


def _assert_same_run(out, ref):
    for stem in ("last", "best"):
        got, got_meta = load_checkpoint(out / stem)
        want, want_meta = load_checkpoint(ref / stem)
        assert got.keys() == want.keys(), stem
        for k in want:
            np.testing.assert_array_equal(got[k], want[k], err_msg=f"{stem}: {k}")
        for key in ("progress", "generators", "optimizer", "schedule", "done", "partial_stage"):
            if key in want_meta:
                assert got_meta[key] == want_meta[key], f"{stem}: {key}"
    for name in ("metrics.jsonl", "steps.jsonl"):
        assert _logs(out, name) == _logs(ref, name), name
    assert (out / "run.json").read_bytes() == (out / "run.json.start").read_bytes()  # never rewritten
    assert not list(out.glob(".*.tmp")), "temporary files left behind"


def _crash_then_resume(tmp_path, args, kill):
    out = tmp_path / kill.replace(":", "-")
    code, err = _train(out, args, kill)
    expected = {-signal.SIGKILL} if not kill.endswith(":INT") else {130, 0}  # 0: Ctrl-C in the last test
    assert code in expected, f"{kill}: exit {code}\n{err}"
    assert "Traceback" not in err, err
    (out / "run.json.start").write_bytes((out / "run.json").read_bytes())
    code, err = _train(out, [args[0], "--resume", *args[args.index("--data-dir") :]])  # the rest from run.json
    assert code == 0, f"{kill}: resume exit {code}\n{err}"
    return out, err


LENET = ["lenet5", "--dataset", "mnist", "--epochs", "2", "--batch-size", "32", "--log-every", "2", "--lr", "0.02"]
# 96 digits in batches of 32: 3 steps an epoch. Writes in order: steps.jsonl (log-tmp 1), best (checkpoint-tmp 1),
# last (2), metrics.jsonl (log-tmp 2); steps.jsonl (3, 4); best if better, last (rotated to previous first), metrics.
LENET_KILLS = {
    "SIGKILL": [
        "start:1",
        "step:4",
        "evaluate:2",
        "checkpoint-tmp:2",
        "checkpoint-rotated:1",
        "checkpoint-committed:2",
        "log-tmp:3",
    ],
    "SIGINT": ["start:1", "step:2", "evaluate:1", "checkpoint-rotated:1", "log-tmp:2"],
}
NEOCOGNITRON = ["neocognitron", "--dataset", "mnist"]
# 96 digits in batches of 64: Ctrl-C is checked after each of S2's and S3's two batches (step 1-4) and after S4
# (5); last is written after S2, S3, S4, readout and the test (checkpoint-tmp 1-5; rotated from the second on),
# metrics.jsonl after each stage and the test (log-tmp 1-5), best.npz last.
NEO_KILLS = {
    "SIGKILL": ["step:3", "checkpoint-tmp:1", "checkpoint-rotated:2", "checkpoint-committed:4", "evaluate:1"],
    "SIGINT": ["step:3", "evaluate:1"],
}


def _all_kills(points):
    return points["SIGKILL"] + [p + ":INT" for p in points["SIGINT"]]


@pytest.mark.parametrize(
    "args, kills", [(LENET, LENET_KILLS), (NEOCOGNITRON, NEO_KILLS)], ids=["lenet5", "neocognitron"]
)
def test_killed_anywhere_then_resumed_equals_an_uninterrupted_run(tmp_path, mnist_dir, args, kills):
    args = [*args, "--data-dir", str(mnist_dir)]
    ref = tmp_path / "ref"
    code, err = _train(ref, args)
    assert code == 0, err
    with ThreadPoolExecutor(2) as pool:  # separate processes: two at a time on two cores
        results = list(pool.map(lambda kill: (kill, *_crash_then_resume(tmp_path, args, kill)), _all_kills(kills)))
    fell_back = []
    for kill, out, err in results:
        _assert_same_run(out, ref)
        if "resuming from" in err and "previous.npz" in err:
            fell_back.append(kill)
    # a kill between the rotation and the rename leaves only previous.npz: the resume says it used it
    assert any(k.startswith("checkpoint-rotated") and ":INT" not in k for k in fell_back), fell_back
