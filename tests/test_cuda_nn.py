"""Full CUDA training (device="cuda") against the CPU: every layer's forward and backward pass, GEMM, SGD.

As in ``test_cuda.py``, all comparisons run in *one* fresh interpreter with
``NUMBA_ENABLE_CUDASIM=1`` (unless the caller set the variable, e.g. to 0 on a
machine with a GPU), which prints one JSON record per comparison; each test
checks one record. Shapes are small and odd so that partial tiles and tail
blocks are exercised.

Under the simulator the script also makes the simulated device arrays as
strict as real ones (only the attributes numba's DeviceNDArray has), so code
that would silently fall back to numpy there fails here too, and it counts
host<->device copies to show that a training step keeps everything on the
device except the batch, the labels and the per-row losses.
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
import json, os, sys
sys.setswitchinterval(2e-4)  # simulated CUDA threads hand the GIL over sooner: about 2x faster here
import numpy as np
from v1sim import backend

if not backend.cuda_available():
    print(json.dumps({"skip": "numba.cuda reports no usable GPU or simulator"}))
    sys.exit(SKIP_EXIT)

from numba import cuda
from v1sim import nn
from v1sim.kernels import cuda as kc
from v1sim.nn import device as _device, models

DeviceArray = type(cuda.device_array(1, np.float32))
if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    # real DeviceNDArrays have no numpy methods: make the simulator's arrays as strict
    allowed = {"shape", "strides", "dtype", "size", "ndim", "itemsize", "nbytes", "alloc_size", "stream", "flags",
               "T", "bind", "copy_to_device", "copy_to_host", "getitem", "setitem", "is_c_contiguous",
               "is_f_contiguous", "ravel", "reshape", "split", "squeeze", "transpose", "view"}
    loose = DeviceArray.__getattr__

    def strict(self, name):
        if not name.startswith("__") and name not in allowed:
            raise AttributeError(f"numba device arrays have no attribute {name!r} (the simulator's would)")
        return loose(self, name)

    DeviceArray.__getattr__ = strict

copies = {"h2d": 0, "d2h": 0}
to_device, copy_to_host = cuda.to_device, DeviceArray.copy_to_host


def counted_to_device(*a, **k):
    copies["h2d"] += 1
    return to_device(*a, **k)


def counted_copy_to_host(self, *a, **k):
    copies["d2h"] += 1
    return copy_to_host(self, *a, **k)


cuda.to_device, DeviceArray.copy_to_host = counted_to_device, counted_copy_to_host

rng = np.random.default_rng(0)
results = {}


def host(a):
    return None if a is None else np.asarray(_device.to_host(a))


def record(name, got, want, **extra):
    got, want = host(got), host(want)
    same = got is not None and want is not None and got.shape == want.shape
    err = float(np.max(np.abs(got.astype(np.float64) - want))) if same and got.size else None
    results[name] = {"shape": None if got is None else list(got.shape),
                     "want_shape": None if want is None else list(want.shape),
                     "dtype": None if got is None else str(got.dtype), "want_dtype": None if want is None else str(want.dtype),
                     "max_err": err, "scale": float(np.max(np.abs(want))) if same and want.size else 0.0, **extra}


# -- GEMM against numpy, odd shapes, every transpose flag ----------------------
m, k, n = 19, 23, 37
for ta in (False, True):
    for tb in (False, True):
        a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
        c = kc.gemm(kc.to_device(a), kc.to_device(b), kc.empty((m, n), np.float32), ta, tb)
        record(f"gemm ta={int(ta)} tb={int(tb)}", c, ((a.T if ta else a).astype(np.float64) @ (b.T if tb else b)).astype(np.float32))
a, b, c0 = (rng.standard_normal(s).astype(np.float32) for s in ((3, 5, 17), (3, 17, 7), (3, 5, 7)))
record("gemm batched accumulate", kc.gemm(kc.to_device(a), kc.to_device(b), kc.to_device(c0), accumulate=True),
       (np.matmul(a.astype(np.float64), b) + c0).astype(np.float32))
a, b = rng.standard_normal((9, 20)), rng.standard_normal((20, 11))
record("gemm float64", kc.gemm(kc.to_device(a), kc.to_device(b), kc.empty((9, 11), np.float64)), a @ b)


# -- every layer, forward and backward, CUDA against CPU ------------------------
def compare_layer(name, make, x, train=True, warm=0):
    mods = {}
    for device in ("cuda", "cpu"):
        mod = make()
        mod.to(device).train(train)
        for _ in range(warm):  # e.g. batch norm running statistics before evaluation
            mod.train(True)(x)
            mod.train(train)
        mods[device] = mod
    out_c, out_h = mods["cuda"](_device.to_device(x)), mods["cpu"](x)  # inside a network, activations are on the device
    record(f"{name} forward", out_c, out_h, device_out=_device.is_device(out_c))
    g = rng.standard_normal(np.shape(out_h)).astype(np.float32)
    record(f"{name} dx", mods["cuda"].backward(g), mods["cpu"].backward(g))
    for (pname, pc), (_, ph) in zip(mods["cuda"].named_parameters(), mods["cpu"].named_parameters()):
        record(f"{name} grad {pname}", pc.grad, ph.grad, device_param=_device.is_device(pc.data))
    for (bname, bc), (_, bh) in zip(mods["cuda"].named_buffers(), mods["cpu"].named_buffers()):
        record(f"{name} buffer {bname}", bc, bh)


x4 = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
xg = rng.standard_normal((2, 4, 5, 6)).astype(np.float32)
x2 = rng.standard_normal((3, 5)).astype(np.float32)
LAYERS = {
    "Conv2d 3x3 p1": (lambda: nn.Conv2d(3, 4, 3, padding=1, rng=1), x4),
    "Conv2d (3,2) s2 p(1,0)": (lambda: nn.Conv2d(3, 4, (3, 2), stride=2, padding=(1, 0), rng=2), x4),
    "Conv2d groups=2": (lambda: nn.Conv2d(4, 6, 3, padding=1, groups=2, rng=3), xg),
    "Conv2d 1x1 no bias": (lambda: nn.Conv2d(3, 5, 1, bias=False, rng=4), x4),
    "LocallyConnected2d": (lambda: nn.LocallyConnected2d(3, 2, (7, 6), 3, stride=2, padding=1, rng=5), x4),
    "Linear": (lambda: nn.Linear(5, 4, rng=6), x2),
    "Flatten+Linear": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(3 * 7 * 6, 4, rng=7)), x4),
    "ReLU": (nn.ReLU, x4),
    "Tanh": (nn.Tanh, x4),
    "Sigmoid": (nn.Sigmoid, x4),
    "MaxPool2d 2": (lambda: nn.MaxPool2d(2), x4),
    "MaxPool2d 3/2 p1": (lambda: nn.MaxPool2d(3, 2, 1), x4),
    "AvgPool2d 2": (lambda: nn.AvgPool2d(2), x4),
    "AvgPool2d 3/2 p1": (lambda: nn.AvgPool2d(3, 2, 1), x4),
    "GlobalAvgPool2d": (nn.GlobalAvgPool2d, x4),
    "LocalResponseNorm": (lambda: nn.LocalResponseNorm(3, alpha=0.3, beta=0.75, k=2.0), x4),
    "BatchNorm2d train": (lambda: nn.BatchNorm2d(3), x4),
    "BatchNorm1d train": (lambda: nn.BatchNorm1d(5), x2),
    "Dropout": (lambda: nn.Dropout(0.4, rng=8), x4),
    "BasicBlock identity": (lambda: nn.BasicBlock(3, 3, rng=9), x4),
    "BasicBlock projection": (lambda: nn.BasicBlock(3, 4, 2, "B", rng=10), x4),
    "BasicBlock zero-pad": (lambda: nn.BasicBlock(3, 4, 2, "A", rng=11), x4),
    "Bottleneck projection": (lambda: nn.Bottleneck(3, 2, rng=12), x4),
    "Inception": (lambda: nn.Inception(3, 2, 2, 3, 1, 2, 2, rng=13), x4),
}
for name, (make, x) in LAYERS.items():
    compare_layer(name, make, x)
compare_layer("BatchNorm2d eval", lambda: nn.BatchNorm2d(3), x4, train=False, warm=1)

logits = rng.standard_normal((5, 7)).astype(np.float32)
labels = np.array([0, 6, 3, 3, 1])
crits = {d: nn.CrossEntropyLoss() for d in ("cuda", "cpu")}
loss_c = crits["cuda"](_device.to_device(logits), labels)
record("CrossEntropyLoss forward", np.float32(loss_c), np.float32(crits["cpu"](logits, labels)))
record("CrossEntropyLoss backward", crits["cuda"].backward(), crits["cpu"].backward())


# -- a few SGD steps of a small network -----------------------------------------
def small_net():
    return nn.Sequential(nn.Conv2d(1, 3, 3, rng=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3 * 4 * 3, 5, rng=2))


xs = rng.standard_normal((3, 1, 10, 8)).astype(np.float32)
ys = np.array([1, 4, 0])
trained, kinds = {}, {}
for device in ("cuda", "cpu"):
    net = small_net().to(device)
    opt = nn.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3, nesterov=True)
    crit, losses = nn.CrossEntropyLoss(), []
    for step in range(3):
        before = dict(copies)
        losses.append(crit(net(xs), ys))
        net.zero_grad()
        net.backward_without_input_grad(crit.backward())
        opt.step()
        if device == "cuda":
            kinds = {"param": all(_device.is_device(p.data) for p in net.parameters()),
                     "grad": all(_device.is_device(p.grad) for p in net.parameters()),
                     "velocity": all(_device.is_device(v) for v in opt._velocity.values()),
                     "buffers": all(_device.is_device(b) for _, b in net.named_buffers()),
                     "h2d": copies["h2d"] - before["h2d"], "d2h": copies["d2h"] - before["d2h"]}
    trained[device] = (net, opt, losses)
record("sgd losses", np.float32(trained["cuda"][2]), np.float32(trained["cpu"][2]))
for (pname, pc), (_, ph) in zip(trained["cuda"][0].named_parameters(), trained["cpu"][0].named_parameters()):
    record(f"sgd param {pname}", pc.data, ph.data)
results["sgd placement"] = kinds
state = trained["cuda"][1].state_dict()
results["sgd optimizer state on host"] = {"host": all(isinstance(v, np.ndarray) for k, v in state.items() if k.startswith("velocity"))}

# -- state_dict round trips ------------------------------------------------------
cuda_net = trained["cuda"][0].eval()
state = cuda_net.state_dict()
cpu_net = small_net().eval()
cpu_net.load_state_dict(state)
record("state_dict cuda->cpu", cuda_net(xs), cpu_net(xs), host=all(isinstance(v, np.ndarray) for v in state.values()))
back = small_net().to("cuda").eval()
back.load_state_dict(cpu_net.state_dict())
record("state_dict cpu->cuda", back(xs), cpu_net(xs), device_param=_device.is_device(back[0].weight.data))

# -- LeNet-5 built for cuda: one training step -----------------------------------
xl = rng.standard_normal((2, 1, 32, 32)).astype(np.float32)
yl = np.array([3, 7])
for device, key in (("cuda", "cuda"), ("cpu", "cpu")):
    net = models.build("lenet5", rng=0, device=device)
    opt, crit = nn.SGD(net.parameters(), lr=0.05, momentum=0.9), nn.CrossEntropyLoss()
    loss = crit(net(xl), yl)
    net.zero_grad()
    net.backward_without_input_grad(crit.backward())
    opt.step()
    trained[key] = (net, [loss])
record("lenet5 loss", np.float32(trained["cuda"][1]), np.float32(trained["cpu"][1]))
for (pname, pc), (_, ph) in zip(trained["cuda"][0].named_parameters(), trained["cpu"][0].named_parameters()):
    record(f"lenet5 param {pname}", pc.data, ph.data, device_param=_device.is_device(pc.data))

print(json.dumps(results))
""".replace("SKIP_EXIT", str(SKIP_EXIT))

LAYERS = {
    "Conv2d 3x3 p1": ["weight", "bias"], "Conv2d (3,2) s2 p(1,0)": ["weight", "bias"], "Conv2d groups=2": ["weight", "bias"],
    "Conv2d 1x1 no bias": ["weight"], "LocallyConnected2d": ["weight", "bias"], "Linear": ["weight", "bias"],
    "Flatten+Linear": ["1.weight", "1.bias"], "ReLU": [], "Tanh": [], "Sigmoid": [], "MaxPool2d 2": [], "MaxPool2d 3/2 p1": [],
    "AvgPool2d 2": [], "AvgPool2d 3/2 p1": [], "GlobalAvgPool2d": [], "LocalResponseNorm": [],
    "BatchNorm2d train": ["weight", "bias"], "BatchNorm1d train": ["weight", "bias"], "Dropout": [],
    "BatchNorm2d eval": ["weight", "bias"],
}  # fmt: skip
BLOCKS = ("BasicBlock identity", "BasicBlock projection", "BasicBlock zero-pad", "Bottleneck projection", "Inception")


@pytest.fixture(scope="module")
def results():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM=SIMULATOR)
    env.pop("V1SIM_DEVICE", None)
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    if proc.returncode == SKIP_EXIT:
        pytest.skip(f"CUDA unavailable with NUMBA_ENABLE_CUDASIM={SIMULATOR}: {proc.stdout.strip()}")
    assert proc.returncode == 0, f"CUDA nn script failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _close(r, tol=1e-5):
    assert r["shape"] == r["want_shape"], r
    assert r["dtype"] == r["want_dtype"], r
    assert r["max_err"] is not None, r
    assert r["max_err"] <= tol * max(1.0, r["scale"]), r


def _comparisons(results):
    return {k: v for k, v in results.items() if "max_err" in v}


@pytest.mark.parametrize("flags", ["ta=0 tb=0", "ta=0 tb=1", "ta=1 tb=0", "ta=1 tb=1"])
def test_gemm_matches_numpy_for_each_transpose_flag(results, flags):
    _close(results[f"gemm {flags}"])


def test_gemm_batched_accumulate_and_float64(results):
    _close(results["gemm batched accumulate"])
    _close(results["gemm float64"], tol=1e-12)


@pytest.mark.parametrize("layer", list(LAYERS) + list(BLOCKS))
def test_layer_forward_and_gradients_match_cpu(results, layer):
    rows = {k: v for k, v in results.items() if k.startswith(layer + " ")}
    assert f"{layer} forward" in rows and f"{layer} dx" in rows, sorted(results)
    assert rows[f"{layer} forward"]["device_out"], "the CUDA layer's output should stay on the device"
    grads = [k for k in rows if k.startswith(f"{layer} grad ")]
    if layer in LAYERS:
        assert sorted(grads) == sorted(f"{layer} grad {p}" for p in LAYERS[layer])
    else:
        assert grads, f"{layer} has parameters"
    for name, r in rows.items():
        _close(r)
        if "device_param" in r:
            assert r["device_param"], name


def test_batch_norm_running_statistics_match_cpu(results):
    buffers = [k for k in results if k.startswith("BatchNorm2d train buffer")]
    assert len(buffers) == 2
    for name in buffers:
        _close(results[name])


def test_cross_entropy_matches_cpu(results):
    _close(results["CrossEntropyLoss forward"])
    _close(results["CrossEntropyLoss backward"])


def test_sgd_steps_match_cpu(results):
    _close(results["sgd losses"])
    params = [k for k in results if k.startswith("sgd param ")]
    assert len(params) == 6  # conv w, b; bn gamma, beta; linear w, b
    for name in params:
        _close(results[name])


def test_training_state_stays_on_device(results):
    kinds = results["sgd placement"]
    assert kinds["param"] and kinds["grad"] and kinds["velocity"] and kinds["buffers"], kinds
    # per step: the batch and the labels go in, the per-row losses come out; nothing else crosses
    assert (kinds["h2d"], kinds["d2h"]) == (2, 1), kinds
    assert results["sgd optimizer state on host"]["host"]


def test_state_dict_round_trips_between_devices(results):
    r = results["state_dict cuda->cpu"]
    assert r["host"]
    _close(r)
    r = results["state_dict cpu->cuda"]
    assert r["device_param"]
    _close(r)


def test_lenet5_built_for_cuda_trains_like_cpu(results):
    _close(results["lenet5 loss"])
    params = [k for k in results if k.startswith("lenet5 param ")]
    assert len(params) == 10
    for name in params:
        _close(results[name])
        assert results[name]["device_param"], name


def test_every_comparison_is_finite(results):
    for name, r in _comparisons(results).items():
        assert r["max_err"] is not None and r["max_err"] == r["max_err"], name
