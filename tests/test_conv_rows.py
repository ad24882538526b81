"""Thin-patch convolutions summed along output rows (v1sim.kernels.conv_rows, tiles of v1sim.kernels.row_tiles).

Forward against the naive loops; backward against the im2col path (float64, to 1e-12: the weight gradient's
sums run in another order) and float64 central differences; thread counts and float32; LeNet-5's curve
with C1 on this path within 1e-6 of im2col's. The weight gradient's register tiles (v1sim.kernels.row_tiles)
against float64 sums, group by group.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import naive
import numpy as np
import pytest
from conv_gradients import assert_conv2d_gradients

from v1sim.kernels import conv_blocks, conv_rows, row_tiles
from v1sim.nn import functional as F


def test_which_convolutions_are_summed_along_rows():
    assert conv_rows.eligible((8, 1, 32, 32), (6, 1, 5, 5), (1, 1), 1)  # LeNet-5's C1
    assert conv_rows.eligible((8, 3, 32, 32), (16, 3, 3, 3), (1, 1), 1)  # an RGB 3x3: 27 weights
    assert not conv_rows.eligible((8, 6, 14, 14), (16, 6, 5, 5), (1, 1), 1)  # C3: 150 weights (shifted GEMMs)
    assert not conv_rows.eligible((8, 1, 28, 28), (32, 1, 11, 11), (1, 1), 1)  # an 11-wide kernel: no compiled width
    assert not conv_rows.eligible((8, 1, 32, 32), (6, 1, 5, 5), (2, 2), 1)  # stride 2
    assert not conv_rows.eligible((8, 2, 32, 32), (6, 1, 5, 5), (1, 1), 2)  # grouped
    assert conv_blocks.plan((8, 1, 32, 32), (6, 1, 5, 5), (1, 1), (0, 0), 1, 28, 28, 4).direct


CASES = [  # (x shape, w shape, padding)
    ((3, 1, 12, 11), (4, 1, 5, 5), (0, 0)),
    ((3, 3, 9, 10), (5, 3, 3, 3), (1, 1)),
    ((2, 1, 8, 9), (3, 1, 3, 7), (2, 3)),  # rectangular
    ((2, 1, 6, 6), (2, 1, 3, 3), (4, 4)),  # padding wider than the kernel
    ((9, 2, 17, 40), (3, 2, 3, 5), (1, 2)),  # rows of several vectors; more images than weight-gradient groups
    ((2, 1, 7, 70), (11, 1, 3, 3), (1, 0)),  # two groups of filters (8 and 3); rows in three segments
    ((2, 1, 5, 3), (6, 1, 3, 3), (0, 0)),  # a one-column output: a tile's row almost all masked
]


@pytest.mark.parametrize("x_shape, w_shape, padding", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rows_match_naive_and_the_im2col_path(x_shape, w_shape, padding, dtype):
    rng = np.random.default_rng(5)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in (x_shape, w_shape, w_shape[0]))
    out, cache = F.conv2d_forward(x, w, b, 1, padding)
    assert cache.blocks.direct and out.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 2e-5
    want = naive.correlate(x.astype(np.float64), w.astype(np.float64), (1, 1), padding, b.astype(np.float64))
    np.testing.assert_allclose(out, want, rtol=tol, atol=tol)
    g = rng.standard_normal(out.shape).astype(dtype)
    dx, dw, db = F.conv2d_backward(g, cache)
    im2col = dataclasses.replace(cache.blocks, direct=False, shifted=None)
    xp = conv_blocks.forward(x, w, b, im2col, "cpu")[1]
    want_dx, want_dw = conv_blocks.backward(g, xp, w, im2col, True, "cpu")
    assert dx.dtype == dw.dtype == dtype and dx.shape == x.shape
    np.testing.assert_allclose(dx, want_dx, rtol=tol, atol=tol * 4)
    np.testing.assert_allclose(dw, want_dw, rtol=tol, atol=tol * 4)
    no_dx, dw_only, _ = F.conv2d_backward(g, F.conv2d_forward(x, w, b, 1, padding)[1], input_grad=False)
    assert no_dx is None
    np.testing.assert_array_equal(dw_only, dw)


@pytest.mark.parametrize("x_shape, w_shape, padding", CASES[:3])
def test_rows_gradients_match_central_differences(x_shape, w_shape, padding):
    assert_conv2d_gradients(x_shape, w_shape, 1, padding, 6, lambda blocks: blocks.direct)


def test_rows_are_the_same_on_any_number_of_threads():
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((19, 1, 20, 20), dtype=np.float32), rng.standard_normal((6, 1, 5, 5), dtype=np.float32)
    g = rng.standard_normal((19, 6, 16, 16), dtype=np.float32)
    results = []
    for device in ("cpu", "parallel"):
        out, cache = F.conv2d_forward(x, w, None, 1, 0, device=device)
        results.append((out, *F.conv2d_backward(g, cache)[:2]))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)  # the weight gradient's groups are set by the batch, not the threads


def test_rows_on_an_empty_batch():
    out, cache = F.conv2d_forward(np.zeros((0, 1, 8, 8)), np.ones((2, 1, 3, 3)), None, 1, 1)
    dx, dw, _ = F.conv2d_backward(np.zeros(out.shape), cache)
    assert out.shape == (0, 2, 8, 8) and dx.shape == (0, 1, 8, 8) and not dw.any()


def test_lenet5_training_curve_with_c1_on_rows_stays_within_1e6_of_im2col(monkeypatch, lenet5_curve):
    """30 float32 SGD steps of LeNet-5 with C1 summed along rows follow the im2col path's curve to float32
    rounding (C1's sums run in another order), the bound issue 15 sets."""

    rows, w_rows = lenet5_curve()
    monkeypatch.setattr(conv_rows, "MAX_PATCH", 0)  # C1 back on im2col
    im2col, w_im2col = lenet5_curve()
    assert im2col[-1] < 0.9 * im2col[0]  # it learns: the comparison is over a real curve
    np.testing.assert_allclose(rows, im2col, rtol=1e-6, atol=0)
    for a, b in zip(w_rows, w_im2col):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "n, c, k, kh, kw, wo, tasks",
    [
        (5, 1, 6, 5, 5, 28, 2),  # LeNet-5's C1: tiles of two filters, one register and a partial one
        (3, 2, 7, 3, 3, 40, 2),  # seven filters in tiles of four and three; rows in two segments
        (2, 3, 3, 7, 7, 9, 4),  # one filter a tile; more groups than images (empty groups add nothing)
    ],
)
def test_row_tiles_weight_gradient_equals_the_float64_sums(dtype, n, c, k, kh, kw, wo, tasks):
    """``parts[t]`` = group ``t``'s sum of g (x) x, every entry written, the same bits on one thread and two."""
    rng = np.random.default_rng(kw)
    ho = 4
    xp = rng.standard_normal((n, c, ho + kh - 1, wo + kw - 1 + 5)).astype(dtype)  # widened on the right
    g = rng.standard_normal((n, k, ho, wo)).astype(dtype)
    got = {d: np.full((tasks, k, c, kh, kw), np.nan, dtype) for d in ("cpu", "parallel")}
    for device, parts in got.items():
        row_tiles.weight_grad[device](g, xp, parts)
    np.testing.assert_array_equal(got["cpu"], got["parallel"])
    for t in range(tasks):
        lo, hi = t * n // tasks, (t + 1) * n // tasks
        want = np.zeros((k, c, kh, kw))
        for u in range(kh):
            for v in range(kw):
                window = xp[lo:hi, :, u : u + ho, v : v + wo].astype(np.float64)
                want[:, :, u, v] = np.einsum("nkyx,ncyx->kc", g[lo:hi].astype(np.float64), window)
        tol = 1e-12 if dtype == np.float64 else 2e-5
        np.testing.assert_allclose(got["cpu"][t], want, rtol=tol, atol=tol * max(1.0, np.abs(want).max()))


_CACHE_CHECK = """
import numpy as np
from v1sim.kernels import correlate, row_tiles
row_tiles.warmup(np.float32)
correlate.warmup(np.float32)
drivers = [*row_tiles.weight_grad.values(), *row_tiles.correlate.values(), *correlate._BANK_ALL.values()]
print(sum(sum(d.stats.cache_misses.values()) for d in drivers), sum(sum(d.stats.cache_hits.values()) for d in drivers))
"""


def test_the_tile_drivers_load_from_numbas_cache_in_a_new_process(tmp_path):
    """A second process loads the compiled drivers instead of compiling them again (a driver closing over its
    tiles had been given a new cache key in every process: a LeNet-5 step's first call 0.4 -> 1.6 s)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    runs = [
        subprocess.run([sys.executable, "-c", _CACHE_CHECK], env=env, capture_output=True, text=True, timeout=600)
        for _ in range(2)
    ]
    assert all(run.returncode == 0 for run in runs), runs[-1].stderr[-2000:]
    (first_misses, _), (misses, hits) = (map(int, run.stdout.split()) for run in runs)
    assert first_misses > 0 and misses == 0 and hits >= first_misses
