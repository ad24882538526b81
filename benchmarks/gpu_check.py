"""GPU check: CUDA kernels against the CPU kernels, then timings of both (one run).

Run on a machine with an NVIDIA GPU and numba-cuda::

    python benchmarks/gpu_check.py [--out results.json]

Part 1 compares every CUDA twin with its CPU twin on odd shapes (float32,
tolerance 1e-5 relative to the output scale) and exits non-zero on a
mismatch. Part 2 times the same work on the CPU (parallel), on the GPU with
host transfers (the public API), on the GPU with device-resident arrays
(kernel only), and, when PyTorch with CUDA is present, torch/cuDNN.
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
        compare(f"apply_bank mode={mode}", v1sim.apply_bank(img, bank, mode=mode, device="cuda"),
                v1sim.apply_bank(img, bank, mode=mode, method="direct", device="cpu"))
    x = rng.standard_normal((2, 3, 19, 23), dtype=np.float32)
    for kind in ("max", "avg", "l2"):
        compare(f"pool2d {kind} 3/2 pad 1", pool2d(x, 3, 2, 1, kind=kind, device="cuda"),
                pool2d(x, 3, 2, 1, kind=kind, device="cpu"))
    out_g, idx_g = pool2d(x, 3, 2, 1, return_indices=True, device="cuda")
    out_c, idx_c = pool2d(x, 3, 2, 1, return_indices=True, device="cpu")
    results.append({"case": "pool2d max indices", "rel_err": float(np.count_nonzero(idx_g != idx_c)),
                    "ok": bool(np.array_equal(idx_g, idx_c))})
    g = rng.standard_normal(out_c.shape, dtype=np.float32)
    compare("pool2d_backward max", pool2d_backward(g, x.shape, 3, 2, 1, indices=idx_c, device="cuda"),
            pool2d_backward(g, x.shape, 3, 2, 1, indices=idx_c, device="cpu"))
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
                row["torch_cuda_s"] = _median(lambda: torch.nn.functional.conv2d(tx, tw, stride=stride, padding=pad),
                                              sync=torch.cuda.synchronize)
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    from numba import cuda

    if not cuda.is_available():
        print("no CUDA GPU available", file=sys.stderr)
        return 2
    print(f"GPU: {cuda.get_current_device().name.decode() if isinstance(cuda.get_current_device().name, bytes) else cuda.get_current_device().name}")
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    checks = check(rng)
    print(f"checks ({time.perf_counter() - start:.1f} s incl. compilation):")
    for r in checks:
        print(f"  {'ok ' if r['ok'] else 'BAD'} {r['case']:<52} rel err {r['rel_err']:.2e}")
    rows = timings(rng)
    print("timings (median seconds):")
    for r in rows:
        print("  " + ", ".join(f"{k}={v:.3e}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
        if "torch_cuda_s" in r:
            print(f"    cuda kernel vs cuDNN: {r['torch_cuda_s'] / r['cuda_kernel_s']:.2f}x; "
                  f"cuda kernel vs CPU parallel: {r['cpu_parallel_s'] / r['cuda_kernel_s']:.1f}x")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"checks": checks, "timings": rows, "threads": os.cpu_count()}, fh, indent=1)
    return 0 if all(r["ok"] for r in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
