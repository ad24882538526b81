"""GPU check: CUDA against CPU (kernels, every ConvNet layer, a LeNet-5 step), then timings against PyTorch.

The one prepared script a session with a GPU runs (about 2-5 minutes,
most of it numba-cuda compiling each kernel on first use)::

    python benchmarks/gpu_check.py [--out results.json]

and, without a GPU, to see that it executes (Numba's simulator, tiny sizes,
meaningless timings)::

    NUMBA_ENABLE_CUDASIM=1 python benchmarks/gpu_check.py --quick

Part 1 compares every CUDA twin with its CPU twin on odd shapes, then every
``v1sim.nn`` layer's forward pass and gradients on ``device="cuda"`` with the
CPU, and one LeNet-5 SGD step (float32, tolerance 1e-5 relative to the
output scale); it exits non-zero on a mismatch. Part 2 times (median of
several calls, the first call reported apart: it compiles) a LeNet-5
training step at batch 64 and 256 and the VGG-style 3x3 layer (64->64,
56x56, batch 8) forward + backward on v1sim's CUDA engine and, when PyTorch
with CUDA is importable, on PyTorch (cuDNN), printing the ratios; the full
run also times the public-API kernels of earlier checks.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

# numba-cuda 0.30 still registers an overload for np.row_stack, which numpy 2.5
# removed; give it the alias back so the CUDA target imports (benchmark-only shim).
if not hasattr(np, "row_stack"):
    np.row_stack = np.vstack

import v1sim  # noqa: E402
from v1sim import kernels  # noqa: E402
from v1sim.pooling import pool2d, pool2d_backward  # noqa: E402


def _median(fn, repeat=7, warmup=2, sync=None):
    for _ in range(warmup):
        fn()
    if sync:
        sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def check(rng):
    results = []

    def compare(name, a, b):
        scale = max(float(np.abs(b).max()), 1e-12)
        err = float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max() / scale)
        results.append({"case": name, "rel_err": err, "ok": err <= 1e-5})

    for shape, wshape, stride, pad in [
        ((2, 3, 13, 11), (5, 3, 3, 4), (1, 1), (1, 1)),
        ((3, 1, 29, 31), (7, 1, 5, 5), (2, 3), (2, 0)),
        ((4, 16, 17, 17), (9, 16, 3, 3), (1, 1), (1, 1)),
    ]:
        x = rng.standard_normal(shape, dtype=np.float32)
        w = rng.standard_normal(wshape, dtype=np.float32)
        b = rng.standard_normal(wshape[0], dtype=np.float32)
        ref = v1sim.correlate_batch(x, w, b, stride=stride, padding=pad, method="direct", device="cpu")
        got = v1sim.correlate_batch(x, w, b, stride=stride, padding=pad, device="cuda")
        compare(f"correlate_batch x{shape} w{wshape} s{stride} p{pad}", got, ref)
    img = rng.random((3, 37, 41), dtype=np.float32)
    bank = rng.standard_normal((6, 7, 6), dtype=np.float32)
    for mode in ("reflect", "wrap", "constant"):
        compare(
            f"apply_bank mode={mode}",
            v1sim.apply_bank(img, bank, mode=mode, device="cuda"),
            v1sim.apply_bank(img, bank, mode=mode, method="direct", device="cpu"),
        )
    x = rng.standard_normal((2, 3, 19, 23), dtype=np.float32)
    for kind in ("max", "avg", "l2"):
        compare(
            f"pool2d {kind} 3/2 pad 1",
            pool2d(x, 3, 2, 1, kind=kind, device="cuda"),
            pool2d(x, 3, 2, 1, kind=kind, device="cpu"),
        )
    out_g, idx_g = pool2d(x, 3, 2, 1, return_indices=True, device="cuda")
    out_c, idx_c = pool2d(x, 3, 2, 1, return_indices=True, device="cpu")
    results.append(
        {
            "case": "pool2d max indices",
            "rel_err": float(np.count_nonzero(idx_g != idx_c)),
            "ok": bool(np.array_equal(idx_g, idx_c)),
        }
    )
    g = rng.standard_normal(out_c.shape, dtype=np.float32)
    compare(
        "pool2d_backward max",
        pool2d_backward(g, x.shape, 3, 2, 1, indices=idx_c, device="cuda"),
        pool2d_backward(g, x.shape, 3, 2, 1, indices=idx_c, device="cpu"),
    )
    return results


def timings(rng):
    from numba import cuda

    try:
        import torch

        has_torch = torch.cuda.is_available()
    except ImportError:
        torch, has_torch = None, False
    sync = cuda.synchronize
    rows = []
    cases = [
        ("digits 256x1x28x28 * 32x11x11", (256, 1, 28, 28), (32, 1, 11, 11), 1, 0),
        ("VGG-style 8x64x56x56 * 64x64x3x3 p1", (8, 64, 56, 56), (64, 64, 3, 3), 1, 1),
        ("AlexNet conv1 8x3x227x227 * 96x3x11x11 s4", (8, 3, 227, 227), (96, 3, 11, 11), 4, 0),
    ]
    for name, xs, ws, stride, pad in cases:
        x = rng.standard_normal(xs, dtype=np.float32)
        w = rng.standard_normal(ws, dtype=np.float32)
        row = {"case": name}
        row["cpu_parallel_s"] = _median(lambda: v1sim.correlate_batch(x, w, stride=stride, padding=pad), repeat=3)
        row["cuda_api_s"] = _median(lambda: v1sim.correlate_batch(x, w, stride=stride, padding=pad, device="cuda"))
        xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        ho = (xp.shape[2] - ws[2]) // stride + 1
        wo = (xp.shape[3] - ws[3]) // stride + 1
        dx, dw = cuda.to_device(xp), cuda.to_device(w)
        dout = cuda.device_array((xs[0], ws[0], ho, wo), np.float32)
        kern = kernels.get("correlate_valid", "cuda")
        row["cuda_kernel_s"] = _median(lambda: kern(dx, dw, stride, stride, dout), sync=sync)
        if has_torch:
            tx = torch.from_numpy(x).cuda()
            tw = torch.from_numpy(w).cuda()
            with torch.no_grad():
                row["torch_cuda_s"] = _median(
                    lambda: torch.nn.functional.conv2d(tx, tw, stride=stride, padding=pad), sync=torch.cuda.synchronize
                )
            ref = torch.nn.functional.conv2d(tx, tw, stride=stride, padding=pad).cpu().numpy()
            row["torch_rel_err"] = float(np.abs(dout.copy_to_host() - ref).max() / np.abs(ref).max())
        rows.append(row)
    x = rng.random((48, 512, 512), dtype=np.float32)
    row = {"case": "max pool 2x2 48x512x512"}
    row["cpu_parallel_s"] = _median(lambda: pool2d(x, 2))
    row["cuda_api_s"] = _median(lambda: pool2d(x, 2, device="cuda"))
    dx = cuda.to_device(x[:, None])
    dout = cuda.device_array((48, 1, 256, 256), np.float32)
    didx = cuda.device_array((48, 1, 256, 256), np.int32)
    kern = kernels.get("max_pool", "cuda")
    row["cuda_kernel_s"] = _median(lambda: kern(dx, 2, 2, 2, 2, 0, 0, dout, didx), sync=sync)
    if has_torch:
        tx = torch.from_numpy(x).cuda()
        row["torch_cuda_s"] = _median(lambda: torch.nn.functional.max_pool2d(tx, 2), sync=torch.cuda.synchronize)
    rows.append(row)
    return rows


def _to_host(a):
    from v1sim.nn import device as _device

    return np.asarray(_device.to_host(a))


def check_layers(rng, quick=False):
    """Every nn layer on "cuda" against "cpu" (forward, dx, parameter gradients), then one LeNet-5 SGD step."""
    from v1sim import nn
    from v1sim.nn import device as _device
    from v1sim.nn import models

    results = []

    def compare(name, a, b):
        a, b = _to_host(a), _to_host(b)
        scale = max(float(np.abs(b).max()), 1.0)
        err = float(np.abs(a.astype(np.float64) - b).max() / scale) if a.shape == b.shape else float("inf")
        results.append({"case": name, "rel_err": err, "ok": err <= 1e-5})

    s = 5 if quick else 13
    x4 = rng.standard_normal((2, 3, s, s + 1), dtype=np.float32)
    x2 = rng.standard_normal((3, 7), dtype=np.float32)
    layers = [
        ("Conv2d 3x3 p1", lambda: nn.Conv2d(3, 8, 3, padding=1, rng=1), x4),
        ("Conv2d 5x3 s2 p(2,1) groups=1", lambda: nn.Conv2d(3, 4, (5, 3), 2, (2, 1), rng=2), x4),
        ("Conv2d groups=3", lambda: nn.Conv2d(3, 6, 3, padding=1, groups=3, rng=3), x4),
        ("LocallyConnected2d", lambda: nn.LocallyConnected2d(3, 4, x4.shape[2:], 3, 2, 1, rng=4), x4),
        ("Linear", lambda: nn.Linear(7, 5, rng=5), x2),
        ("ReLU", nn.ReLU, x4),
        ("Tanh", nn.Tanh, x4),
        ("Sigmoid", nn.Sigmoid, x4),
        ("MaxPool2d 3/2 p1", lambda: nn.MaxPool2d(3, 2, 1), x4),
        ("AvgPool2d 2", lambda: nn.AvgPool2d(2), x4),
        ("GlobalAvgPool2d", nn.GlobalAvgPool2d, x4),
        ("LocalResponseNorm", lambda: nn.LocalResponseNorm(3, alpha=0.3), x4),
        ("BatchNorm2d", lambda: nn.BatchNorm2d(3), x4),
        ("BatchNorm1d", lambda: nn.BatchNorm1d(7), x2),
        ("Dropout", lambda: nn.Dropout(0.3, rng=6), x4),
        ("BasicBlock identity", lambda: nn.BasicBlock(3, 3, rng=7), x4),
        ("BasicBlock projection", lambda: nn.BasicBlock(3, 4, 2, "B", rng=8), x4),
        ("BasicBlock zero-pad", lambda: nn.BasicBlock(3, 4, 2, "A", rng=9), x4),
        ("Bottleneck", lambda: nn.Bottleneck(3, 2, rng=10), x4),
        ("Inception", lambda: nn.Inception(3, 2, 2, 3, 1, 2, 2, rng=11), x4),
    ]
    for name, make, x in layers:
        gpu, cpu = make().to("cuda"), make().to("cpu")
        out_g, out_c = gpu(_device.to_device(x)), cpu(x)
        compare(f"nn {name} forward", out_g, out_c)
        g = rng.standard_normal(out_c.shape, dtype=np.float32)
        compare(f"nn {name} dx", gpu.backward(g), cpu.backward(g))
        for (pname, pg), (_, pc) in zip(gpu.named_parameters(), cpu.named_parameters()):
            compare(f"nn {name} grad {pname}", pg.grad, pc.grad)
    logits = rng.standard_normal((5, 7), dtype=np.float32)
    labels = np.array([0, 6, 3, 3, 1])
    ce_g, ce_c = nn.CrossEntropyLoss(), nn.CrossEntropyLoss()
    compare(
        "nn CrossEntropyLoss", np.float32(ce_g(_device.to_device(logits), labels)), np.float32(ce_c(logits, labels))
    )
    compare("nn CrossEntropyLoss backward", ce_g.backward(), ce_c.backward())
    batch = 2 if quick else 16
    x = rng.standard_normal((batch, 1, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    nets = {}
    for device in ("cuda", "cpu"):
        net = models.build("lenet5", rng=0, device=device)
        opt, crit = nn.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4), nn.CrossEntropyLoss()
        losses = []
        for _ in range(2):
            losses.append(crit(net(x), y))
            net.zero_grad()
            net.backward_without_input_grad(crit.backward())
            opt.step()
        nets[device] = (net, losses)
    compare("LeNet-5 two SGD steps: losses", np.float32(nets["cuda"][1]), np.float32(nets["cpu"][1]))
    for (pname, pg), (_, pc) in zip(nets["cuda"][0].named_parameters(), nets["cpu"][0].named_parameters()):
        compare(f"LeNet-5 two SGD steps: {pname}", pg.data, pc.data)
    return results


def _torch_lenet(net):
    """PyTorch twin of v1sim's LeNet-5 with the same weights."""
    import torch

    tnn = torch.nn
    model = tnn.Sequential(
        tnn.Conv2d(1, 6, 5),
        tnn.Tanh(),
        tnn.AvgPool2d(2),
        tnn.Conv2d(6, 16, 5),
        tnn.Tanh(),
        tnn.AvgPool2d(2),
        tnn.Conv2d(16, 120, 5),
        tnn.Tanh(),
        tnn.Flatten(),
        tnn.Linear(120, 84),
        tnn.Tanh(),
        tnn.Linear(84, 10),
    )
    weighted = [m for m in model if isinstance(m, (tnn.Conv2d, tnn.Linear))]
    state = net.state_dict()
    for m, name in zip(weighted, ("c1", "c3", "c5", "f6", "output")):
        m.weight.data = torch.from_numpy(state[f"{name}.weight"])
        m.bias.data = torch.from_numpy(state[f"{name}.bias"])
    return model.cuda()


def _timed(fn, repeat, sync):
    start = time.perf_counter()
    fn()
    sync()
    first = time.perf_counter() - start
    return first, _median(fn, repeat=repeat, warmup=1 if repeat > 1 else 0, sync=sync)


def nn_timings(rng, quick=False):
    """LeNet-5 training steps and the VGG 3x3 layer's forward + backward: v1sim cuda against PyTorch cuda."""
    from numba import cuda

    from v1sim import nn
    from v1sim.nn import device as _device
    from v1sim.nn import models

    try:
        import torch

        has_torch = torch.cuda.is_available()
    except ImportError:
        torch, has_torch = None, False
    repeat = 1 if quick else 10
    rows = []
    for batch in (1,) if quick else (64, 256):
        x = rng.standard_normal((batch, 1, 32, 32), dtype=np.float32)
        y = rng.integers(0, 10, batch)
        net = models.build("lenet5", rng=0, device="cuda")
        opt, crit = nn.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4), nn.CrossEntropyLoss()

        def step():
            crit(net(x), y)
            net.zero_grad()
            net.backward_without_input_grad(crit.backward())
            opt.step()

        row = {"case": f"LeNet-5 train step, batch {batch}"}
        row["cuda_first_s"], row["cuda_s"] = _timed(step, repeat, cuda.synchronize)
        if has_torch:
            model = _torch_lenet(models.build("lenet5", rng=0, device="cpu"))
            topt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
            ty = torch.from_numpy(y)

            def tstep():
                tx = torch.from_numpy(x).cuda()
                topt.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(tx), ty.cuda())
                loss.backward()
                topt.step()
                loss.item()

            row["torch_first_s"], row["torch_cuda_s"] = _timed(tstep, repeat, torch.cuda.synchronize)
        rows.append(row)
    n, c, s = (2, 8, 12) if quick else (8, 64, 56)
    x = rng.standard_normal((n, c, s, s), dtype=np.float32)
    conv = nn.Conv2d(c, c, 3, padding=1, rng=0, device="cuda")
    xd = _device.to_device(x)
    g = _device.to_device(rng.standard_normal((n, c, s, s), dtype=np.float32))

    def layer():
        conv(xd)
        conv.zero_grad()
        conv.backward(g)

    row = {"case": f"VGG 3x3 conv {c}->{c}, {s}x{s}, batch {n}: forward + backward (device arrays)"}
    row["cuda_first_s"], row["cuda_s"] = _timed(layer, repeat, cuda.synchronize)
    if has_torch:
        tconv = torch.nn.Conv2d(c, c, 3, padding=1).cuda()
        tx = torch.from_numpy(x).cuda().requires_grad_(True)
        tg = torch.from_numpy(_to_host(g)).cuda()

        def tlayer():
            tconv.zero_grad()
            tx.grad = None
            tconv(tx).backward(tg)

        row["torch_first_s"], row["torch_cuda_s"] = _timed(tlayer, repeat, torch.cuda.synchronize)
    rows.append(row)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few repeats (for NUMBA_ENABLE_CUDASIM=1)")
    args = parser.parse_args(argv)
    from numba import cuda

    if not cuda.is_available():
        print(
            "no CUDA GPU available (set NUMBA_ENABLE_CUDASIM=1 and pass --quick to run in the simulator)",
            file=sys.stderr,
        )
        return 2
    name = getattr(cuda.get_current_device(), "name", "Numba CUDA simulator")
    print(f"GPU: {name.decode() if isinstance(name, bytes) else name}", flush=True)
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        sys.setswitchinterval(2e-4)  # simulated CUDA threads hand the GIL over sooner: about 2x faster
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    checks = (check(rng) if not args.quick else []) + check_layers(rng, args.quick)
    print(f"checks ({time.perf_counter() - start:.1f} s incl. compilation):")
    for r in checks:
        print(f"  {'ok ' if r['ok'] else 'BAD'} {r['case']:<60} rel err {r['rel_err']:.2e}")
    start = time.perf_counter()
    rows = nn_timings(rng, args.quick) + ([] if args.quick else timings(rng))
    print(f"timings ({time.perf_counter() - start:.1f} s; median seconds, first call apart):")
    for r in rows:
        print("  " + ", ".join(f"{k}={v:.3e}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
        if "torch_cuda_s" in r:
            own = r.get("cuda_s", r.get("cuda_kernel_s"))
            print(f"    v1sim cuda / PyTorch cuda time: {own / r['torch_cuda_s']:.2f}x", flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"checks": checks, "timings": rows, "threads": os.cpu_count(), "quick": args.quick}, fh, indent=1)
    return 0 if all(r["ok"] for r in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
