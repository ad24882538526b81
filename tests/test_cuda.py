"""CUDA twins (device="cuda") against the CPU kernels.

Without a GPU the twins run in Numba's CUDA simulator. ``NUMBA_ENABLE_CUDASIM``
is read when Numba is first imported, and by the time this module is collected
another test module has usually imported Numba already, so setting the
variable here would come too late (and would leak into every later test).
Instead all comparisons run in *one* fresh interpreter (the simulator starts
slowly) whose environment has ``NUMBA_ENABLE_CUDASIM=1`` unless the caller set
the variable (e.g. ``NUMBA_ENABLE_CUDASIM=0`` on a machine with a real GPU,
where the same script then runs on the device). The script prints one JSON
record per comparison; each test below checks one record.

Shapes are small and odd (2 x 3 x 13 x 11) so that the 128-thread blocks end
in partial tail blocks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM", "1")  # the caller's choice wins
SKIP_EXIT = 77

SCRIPT = r"""
import json, sys
import numpy as np
import scipy.signal
import v1sim
from v1sim import backend, kernels
from v1sim.pooling import pool2d_backward

if not backend.cuda_available():
    print(json.dumps({"skip": "numba.cuda reports no usable GPU or simulator"}))
    sys.exit(SKIP_EXIT)

rng = np.random.default_rng(0)
results = {}


def record(name, got, want, exact=False):
    got, want = np.asarray(got), np.asarray(want)
    same_shape = got.shape == want.shape
    err = float(np.max(np.abs(got.astype(np.float64) - want))) if same_shape and got.size else None
    results[name] = {
        "shape": list(got.shape), "want_shape": list(want.shape), "dtype": str(got.dtype),
        "want_dtype": str(want.dtype), "max_err": err, "exact": exact,
        "scale": float(np.max(np.abs(want))) if want.size else 0.0,
    }


x = rng.standard_normal((2, 3, 13, 11)).astype(np.float32)
w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
b = rng.standard_normal(4).astype(np.float32)
for stride, padding in (((1, 1), (0, 0)), ((2, 2), (1, 1)), ((1, 3), (2, 0))):
    args = dict(stride=stride, padding=padding)
    record(f"correlate_batch s={stride} p={padding}",
           v1sim.correlate_batch(x, w, b, device="cuda", **args),
           v1sim.correlate_batch(x, w, b, device="cpu", **args))
x64, w64 = x[:1].astype(np.float64), w.astype(np.float64)
record("correlate_batch float64",
       v1sim.correlate_batch(x64, w64, stride=2, padding=1, device="cuda"),
       v1sim.correlate_batch(x64, w64, stride=2, padding=1, device="cpu"))

images = rng.standard_normal((2, 13, 11)).astype(np.float32)
bank = rng.standard_normal((3, 5, 4)).astype(np.float32)
for mode in ("reflect", "constant"):
    record(f"apply_bank auto {mode}",
           v1sim.apply_bank(images, bank, mode=mode, cval=0.5, device="cuda"),
           v1sim.apply_bank(images, bank, mode=mode, cval=0.5, device="cpu"))
record("apply_bank single image", v1sim.apply_bank(images[0], bank, device="cuda"),
       v1sim.apply_bank(images[0], bank, device="cpu"))
record("correlate2d same", v1sim.correlate2d(images[0], bank[0], mode="same", device="cuda"),
       scipy.signal.correlate2d(images[0].astype(np.float64), bank[0].astype(np.float64), mode="same"))

wbank = rng.standard_normal((3, 3, 2, 9)).astype(np.float32)  # (C, kh, kw, K)
outs = [np.zeros((2, 9, 6, 10), np.float32) for _ in range(2)]
for device, out in zip(("cuda", "cpu"), outs):
    kernels.get("correlate_valid_bank", device)(x, wbank, 2, 1, out)
record("kernel correlate_valid_bank", outs[0], outs[1])

xi = rng.integers(-3, 4, size=(2, 3, 13, 11)).astype(np.float32)  # ties: first maximum
for size, stride, padding in ((2, None, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 0))):
    geom = (size, stride, padding)
    out_g, idx_g = v1sim.pool2d(xi, *geom, return_indices=True, device="cuda")
    out_c, idx_c = v1sim.pool2d(xi, *geom, return_indices=True, device="cpu")
    record(f"pool2d max {geom}", out_g, out_c, exact=True)
    record(f"pool2d max indices {geom}", idx_g, idx_c, exact=True)
    record(f"pool2d max no indices {geom}", v1sim.pool2d(xi, *geom, device="cuda"), out_c, exact=True)
    for kind in ("avg", "l2"):
        record(f"pool2d {kind} {geom}", v1sim.pool2d(x, *geom, kind=kind, device="cuda"),
               v1sim.pool2d(x, *geom, kind=kind, device="cpu"))
    g = rng.standard_normal(out_c.shape).astype(np.float32)
    record(f"pool2d_backward max {geom}",
           pool2d_backward(g, xi.shape, *geom, indices=idx_c, device="cuda"),
           pool2d_backward(g, xi.shape, *geom, indices=idx_c, device="cpu"))
    record(f"pool2d_backward avg {geom}",
           pool2d_backward(g, xi.shape, *geom, kind="avg", device="cuda"),
           pool2d_backward(g, xi.shape, *geom, kind="avg", device="cpu"))

from v1sim import nn


def small_net(device):
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, device=device, rng=1), nn.Tanh(), nn.AvgPool2d(2, device=device),
        nn.Conv2d(3, 4, 3, padding=1, groups=1, device=device, rng=2), nn.ReLU(), nn.MaxPool2d(2, device=device),
        nn.Flatten(), nn.Linear(4 * 2 * 2, 5, rng=3),
    )


xs = rng.standard_normal((2, 1, 10, 10)).astype(np.float32)
ys = np.array([1, 3])
grads = {}
for device in ("cuda", "cpu"):
    net, crit = small_net(device), nn.CrossEntropyLoss()
    loss = crit(net(xs), ys)
    dx = net.backward(crit.backward())
    grads[device] = [np.float32(loss), dx] + [p.grad for p in net.parameters()]
for i, (got, want) in enumerate(zip(grads["cuda"], grads["cpu"])):
    record(f"nn training step {i}", got, want)

print(json.dumps(results))
""".replace("SKIP_EXIT", str(SKIP_EXIT))

GEOMS = ("(2, None, 0)", "(3, 2, 1)", "((3, 2), (1, 2), (1, 0))")
NAMES = (
    [f"correlate_batch s={s} p={p}" for s, p in (("(1, 1)", "(0, 0)"), ("(2, 2)", "(1, 1)"), ("(1, 3)", "(2, 0)"))]
    + ["correlate_batch float64", "apply_bank auto reflect", "apply_bank auto constant", "apply_bank single image"]
    + ["correlate2d same", "kernel correlate_valid_bank"]
    + [f"pool2d {what} {g}" for g in GEOMS for what in ("max", "max indices", "max no indices", "avg", "l2")]
    + [f"pool2d_backward {kind} {g}" for g in GEOMS for kind in ("max", "avg")]
    + [f"nn training step {i}" for i in range(2 + 6)]  # loss, dx, then the 6 parameter gradients
)


@pytest.fixture(scope="module")
def cuda_results():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM=SIMULATOR)
    env.pop("V1SIM_DEVICE", None)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode == SKIP_EXIT:
        pytest.skip(f"CUDA unavailable with NUMBA_ENABLE_CUDASIM={SIMULATOR}: {proc.stdout.strip()}")
    assert proc.returncode == 0, f"CUDA comparison script failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_every_comparison_ran(cuda_results):
    assert sorted(cuda_results) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_cuda_matches_cpu(cuda_results, name):
    r = cuda_results[name]
    assert r["shape"] == r["want_shape"], r
    want_dtype = "int32" if "max indices" in name else "float64" if "float64" in name else "float32"
    assert r["dtype"] == want_dtype, r
    assert r["max_err"] is not None, r
    if r["exact"]:
        assert r["max_err"] == 0, r
    elif "float64" in name:
        assert r["max_err"] <= 1e-12 * max(1.0, r["scale"]), r
    else:
        assert r["max_err"] <= 1e-5 * max(1.0, r["scale"]), r
