"""Benchmark: the Neocognitron and HMAX on the embedded digits, and S-layers against scipy.ndimage.

Run from the repository root::

    python benchmarks/bench_neocognitron.py            # about a minute
    python benchmarks/bench_neocognitron.py --quick    # fewer images and repeats

(a) S-layer computation (excitation, V-cell and shunting output) of the
    default Neocognitron's US1, US2 and US3 on a batch of digits: v1sim's
    ``SLayer`` (one ``correlate_batch`` per sum) against the same equations
    written with ``scipy.ndimage.correlate``, one call per image, cell plane
    and input plane, timed alternately in blocks of five calls (ratio of
    medians of the block means; see ``_common.paired_medians``). US1 is small
    enough (2 -> 8 planes) that ``SLayer`` computes it with the fused S-cell
    kernel (``s_cells_5``: unrolled for 5-wide templates,
    :mod:`v1sim.kernels.cpu.scells`); US2 and US3 by GEMM. Outputs are checked to agree
    before timing. Also US4,
    the labelled prototypes: the cosines of UC3 maps with every prototype as
    one matrix product (``PrototypeClassifier.similarity``) against the same
    S4 cells as an ``SLayer`` valid correlation (``e / v``).
(b) Training throughput (digits/s) of one pass: Neocognitron (S2, S3
    competitive learning, S4 prototypes, readout) and HMAX (imprinting,
    readout); inference throughput (digits/s) from pixels to class.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
import scipy.ndimage as ndi  # noqa: E402
from _common import machine_report, paired_medians, report  # noqa: E402

from v1sim.datasets import load_digits  # noqa: E402
from v1sim.hierarchy import HMAX, Neocognitron, NeocognitronConfig  # noqa: E402


def scipy_slayer(layer, x):
    """The shunting S-cell of ``layer`` on x (N, C, H, W) with scipy.ndimage, plane by plane ('same' padding)."""
    n, ch = x.shape[:2]
    k = layer.n_planes
    e = np.empty((n, k) + x.shape[2:], dtype=x.dtype)
    for i in range(n):
        for p in range(k):
            acc = ndi.correlate(x[i, 0], layer.a[p, 0], mode="constant")
            for c in range(1, ch):
                acc += ndi.correlate(x[i, c], layer.a[p, c], mode="constant")
            e[i, p] = acc
    v = np.sqrt(np.stack([ndi.correlate((x[i] ** 2).sum(0), layer.c, mode="constant") for i in range(n)]))[:, None]
    theta = layer.theta
    return layer.r * np.maximum(e - theta * v, 0) / (1 + theta * v)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images and repeats")
    args = parser.parse_args(argv)
    print(machine_report())
    repeat = 5 if args.quick else 9
    n_train = 300 if args.quick else 1000
    n_batch = 16 if args.quick else 64
    x, y = load_digits("train")
    xt, yt = load_digits("test")

    net = Neocognitron(NeocognitronConfig(n_unsupervised=min(500, n_train)))
    net.fit(x[:50], y[:50], rng=0)  # compile / load every kernel once
    start = time.perf_counter()
    net = Neocognitron(NeocognitronConfig(n_unsupervised=min(500, n_train))).fit(x[:n_train], y[:n_train], rng=0)
    t_train = time.perf_counter() - start
    maps = net.forward(x[:n_batch], upto="UC3")
    rows = []
    for name, below in (("US1", "UG"), ("US2", "UC1"), ("US3", "UC2")):
        layer, inp = net.layers[name], maps[below]
        ours, ref = layer(inp), scipy_slayer(layer, inp)
        err = float(np.abs(ours - ref).max() / max(np.abs(ref).max(), 1e-12))
        assert err < 1e-4, f"{name}: v1sim and scipy disagree (relative error {err:.1e})"
        t_ours, t_ref = paired_medians(lambda: layer(inp), lambda: scipy_slayer(layer, inp), repeat=repeat, block=5)
        k, c, kh, kw = layer.templates.shape
        rows.append(
            (
                f"{name}: {n_batch} digits, {c}->{k} planes {kh}x{kw} @{inp.shape[2]}",
                t_ours,
                "scipy.ndimage.correlate per plane",
                t_ref,
            )
        )
    c3, clf = maps["UC3"], net.classifier
    ours = clf.similarity(c3)
    ref = clf.layer.excitation(c3)[:, :, 0, 0] / np.maximum(clf.layer.inhibition(c3)[:, :, 0, 0], 1e-12)
    assert np.abs(ours - ref).max() < 1e-4, "US4: GEMM cosines and SLayer correlation disagree"
    t_ours, t_ref = paired_medians(
        lambda: clf.similarity(c3),
        lambda: clf.layer.excitation(c3) / np.maximum(clf.layer.inhibition(c3), 1e-12),
        repeat=repeat,
    )
    k, c, kh, kw = clf.templates.shape
    rows.append(
        (
            f"US4 cosines: {n_batch} digits, {k} prototypes {c}@{kh}x{kw}",
            t_ours,
            "SLayer valid correlation (e / v)",
            t_ref,
        )
    )
    report(rows, "S-layer (excitation + V-cell + shunting output), v1sim SLayer vs scipy.ndimage")

    n_test = 300 if args.quick else 1000
    start = time.perf_counter()
    pred = net.predict(xt[:n_test])
    t_test = time.perf_counter() - start
    hmax = HMAX().fit(x[:50], y[:50], rng=0)
    start = time.perf_counter()
    hmax = HMAX().fit(x[:n_train], y[:n_train], rng=0)
    t_htrain = time.perf_counter() - start
    start = time.perf_counter()
    hpred = hmax.predict(xt[:n_test])
    t_htest = time.perf_counter() - start
    print("\n## Throughput (one pass of learning; inference from pixels to class)")
    print(
        f"{'model':<14} {'train digits/s':>15} {'infer digits/s':>15} {'test error':>11}"
        f"  (train {n_train}, test {n_test})"
    )
    for name, tt, ti, p in (("neocognitron", t_train, t_test, pred), ("hmax", t_htrain, t_htest, hpred)):
        print(f"{name:<14} {n_train / tt:>15.0f} {n_test / ti:>15.0f} {100 * np.mean(p != yt[:n_test]):>10.2f}%")
    planes = {k: len(v) for k, v in net.counts.items()}
    print(f"neocognitron planes {planes}; classifier {net.config.classifier}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
