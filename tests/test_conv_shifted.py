"""Convolutions as shifted products (v1sim.kernels.conv_shifted) and BLAS called from Numba.

Forward against the naive loops, backward against the im2col path (the former layout, to 1e-12 in
float64: only the summation order differs) and against float64 central differences, on register tiles
and on BLAS's products; any blocking and any number of tasks give the same numbers; the GEMM binding
against numpy for every transposition.
"""

from __future__ import annotations

import dataclasses

import naive
import numpy as np
import pytest
from conv_gradients import assert_conv2d_gradients

from v1sim.kernels import blas, conv_blocks, conv_shifted, shifted_grid
from v1sim.nn import functional as F


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (False, True), (True, False), (True, True)])
def test_gemm_from_numba_matches_numpy_on_windows_of_larger_buffers(dtype, trans_a, trans_b):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((7, 5)).astype(dtype), rng.standard_normal((5, 9)).astype(dtype)
    big_a = rng.standard_normal((12, 20)).astype(dtype)  # operands as windows: BLAS's leading dimension
    big_b = rng.standard_normal((14, 30)).astype(dtype)
    a_view = big_a[2 : 2 + (5 if trans_a else 7), 3 : 3 + (7 if trans_a else 5)]
    b_view = big_b[1 : 1 + (9 if trans_b else 5), 4 : 4 + (5 if trans_b else 9)]
    a_view[...] = a.T if trans_a else a
    b_view[...] = b.T if trans_b else b
    buf = np.full((9, 16), 3.0, dtype)
    c = buf[1:8, 2:11]
    r = blas.routines()
    blas.gemm(r.for_dtype(dtype), r.scratch()[0], trans_a, trans_b, 2.0, a_view, b_view, 0.5, c)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(c, 2.0 * a @ b + 1.5, rtol=tol, atol=tol)
    c[...] = 3.0
    np.testing.assert_array_equal(buf, 3.0)  # nothing outside the window written


def test_gemm_falls_back_to_scipys_blas(monkeypatch):
    """Without numpy's bundled OpenBLAS symbols, scipy.linalg.cython_blas's ?gemm (LP64) computes the same."""
    monkeypatch.setattr(blas, "_numpy_openblas", lambda: None)
    blas.routines.cache_clear()
    try:
        r = blas.routines()
        assert r.library == "scipy.linalg.cython_blas" and r.int_type == np.int32
        rng = np.random.default_rng(1)
        a, b = rng.standard_normal((4, 6)), rng.standard_normal((6, 3))
        c = np.empty((4, 3))
        blas.gemm(r.for_dtype(np.float64), r.scratch()[0], False, False, 1.0, a, b, 0.0, c)
        np.testing.assert_allclose(c, a @ b, rtol=1e-12)
    finally:
        blas.routines.cache_clear()


def test_which_convolutions_run_shifted():
    assert conv_shifted.eligible((8, 16, 32, 32), (16, 16, 3, 3), (1, 1), 1, 32, 32)  # ResNet-20's first stage
    assert conv_shifted.eligible((8, 64, 8, 8), (64, 64, 3, 3), (1, 1), 1, 8, 8)  # 100 positions for 64: 1.56
    assert not conv_shifted.eligible((8, 64, 7, 7), (64, 64, 3, 3), (1, 1), 1, 7, 7)  # 81 for 49
    assert conv_shifted.eligible((8, 16, 32, 32), (16, 16, 3, 3), (2, 2), 1, 16, 16)  # stride 2: 17x17 for 16x16
    assert conv_shifted.eligible((8, 64, 56, 56), (128, 64, 1, 1), (2, 2), 1, 28, 28)  # a 1x1 projection
    assert not conv_shifted.eligible((8, 64, 19, 19), (64, 64, 11, 11), (4, 4), 1, 3, 3)  # 5x5 grid for 3x3
    assert not conv_shifted.eligible((8, 16, 32, 32), (16, 8, 3, 3), (1, 1), 2, 32, 32)  # grouped
    assert conv_shifted.eligible((8, 6, 14, 14), (16, 6, 5, 5), (1, 1), 1, 10, 10)  # LeNet-5's C3: 1.96 at 5x5
    assert not conv_shifted.eligible((8, 1, 32, 32), (6, 1, 5, 5), (1, 1), 1, 28, 28)  # its C1: one channel
    assert not conv_shifted.eligible((8, 16, 5, 5), (120, 16, 5, 5), (1, 1), 1, 1, 1)  # its C5: 25 columns for 1
    assert not conv_shifted.eligible((8, 4, 32, 32), (16, 4, 3, 3), (1, 1), 1, 32, 32)  # 36 weights per filter
    plan = conv_blocks.plan((8, 16, 32, 32), (16, 16, 3, 3), (1, 1), (1, 1), 1, 32, 32, 4)
    assert plan.shifted is not None and plan.shifted.tasks == plan.tasks


CASES = [  # (x shape, w shape, stride, padding)
    ((3, 8, 9, 7), (5, 8, 3, 3), (1, 1), (1, 1)),
    ((2, 9, 10, 13), (4, 9, 3, 5), (1, 1), (2, 1)),  # rectangular kernel, padding wider than half of it on one axis
    ((4, 8, 6, 6), (3, 8, 1, 1), (1, 1), (0, 0)),  # a 1x1 convolution: one tap
    ((2, 8, 12, 11), (6, 8, 4, 2), (1, 1), (0, 3)),  # even kernel sizes
    ((5, 16, 8, 8), (7, 16, 3, 3), (1, 1), (1, 1)),
    ((3, 8, 9, 10), (4, 8, 3, 3), (2, 2), (1, 1)),  # ResNet's downsampling: 4 phases, odd and even sizes
    ((2, 8, 11, 9), (5, 8, 1, 1), (2, 2), (0, 0)),  # a 1x1 projection at stride 2: one phase built, 3 never read
    ((2, 8, 13, 12), (3, 8, 5, 4), (3, 2), (2, 1)),  # unequal strides; rows past the last tap get no gradient
    ((2, 8, 12, 12), (3, 8, 2, 2), (3, 3), (0, 0)),  # stride above the kernel: pixels no tap reads
    # whole registers of output channels: the weight gradient on register tiles too (float64: 8 lanes here)
    ((3, 16, 9, 7), (16, 16, 3, 3), (1, 1), (1, 1)),
    ((2, 8, 10, 9), (32, 8, 3, 3), (2, 2), (1, 1)),
    ((2, 16, 7, 8), (8, 16, 3, 3), (1, 1), (1, 1)),
    ((9, 8, 4, 4), (5, 8, 3, 3), (1, 1), (1, 1)),  # 4x4 maps: tiles run across the images (tile_runs)
    ((2, 8, 6, 5), (3, 8, 3, 3), (1, 1), (3, 2)),  # padding past the kernel's reach: the grid as wide as the output
]


def test_rows_share_their_padding_on_the_grid_at_stride_1():
    """A 3x3 layer's row of 32 pixels takes 33 grid columns (one zero column between rows, not two), and an image
    33 rows; at stride 2 each phase keeps the output's width plus the taps' reach."""
    p = conv_shifted.plan((8, 16, 32, 32), (16, 16, 3, 3), (1, 1), (1, 1), 1, 4)
    assert (p.hq, p.wq) == (33, 33)
    assert (shifted_grid.grid_extent(32, 34, 1, 1, 1), shifted_grid.grid_extent(32, 32, 3, 0, 1)) == (34, 32)
    p = conv_shifted.plan((8, 16, 32, 32), (16, 16, 3, 3), (2, 2), (1, 1), 1, 4)
    assert (p.hq, p.wq) == (17, 17)


def test_tile_runs_join_images_only_when_that_takes_fewer_tiles():
    from v1sim.kernels.shifted_grid import tile_runs

    assert tile_runs(7, 81, 72, 32) == (1, 81, 6 * 81 + 72)  # 18 tiles joined against 7 * 3
    assert tile_runs(3, 1089, 1056, 32) == (3, 1089, 1056)  # 33 tiles an image, exactly: alone
    assert tile_runs(1, 81, 72, 32) == (1, 81, 72)


BLOCKINGS = [  # (whole images, images per block, rows per block): one row, a few rows, one image, several images
    (False, 1, 1),
    (False, 1, 3),
    (True, 1, None),
    (True, 2, None),
    (True, 7, None),
]


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CASES)
@pytest.mark.parametrize("whole, images, rows", BLOCKINGS)
@pytest.mark.parametrize("tasks", [1, 2, 5])
@pytest.mark.parametrize("tiles", [True, False], ids=["tiles", "blas"])
def test_shifted_products_match_naive_and_im2col_for_any_blocking(
    x_shape, w_shape, stride, padding, whole, images, rows, tasks, tiles
):
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    p = conv_shifted.plan(x_shape, w_shape, stride, padding, tasks, 8)
    assert p.tiles  # up to 64 channels: the register tiles
    p = dataclasses.replace(p, whole=whole, images=images, rows=p.hq if rows is None else rows, tiles=tiles)
    out, xc = conv_shifted.forward(x, w, b, p, "cpu")
    np.testing.assert_allclose(out, naive.correlate(x, w, stride, padding, b), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(out.shape)
    dx, dw = conv_shifted.backward(g, xc, w, p, True, "cpu")
    no_dx, dw_only = conv_shifted.backward(g, xc, w, p, False, "cpu")
    out_p, xc_p = conv_shifted.forward(x, w, b, p, "parallel")  # the groups on Numba's threads: the same bits
    for a, e in zip((out_p, *conv_shifted.backward(g, xc_p, w, p, True, "parallel")), (out, dx, dw)):
        np.testing.assert_array_equal(a, e)
    im2col = conv_blocks.plan(x_shape, w_shape, stride, padding, 1, p.ho, p.wo, 8)
    im2col = dataclasses.replace(im2col, shifted=None)
    want_dx, want_dw = conv_blocks.backward(g, conv_blocks.forward(x, w, b, im2col, "cpu")[1], w, im2col, True, "cpu")
    np.testing.assert_allclose(dx, want_dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, want_dw, rtol=1e-12, atol=1e-12)
    assert no_dx is None
    np.testing.assert_array_equal(dw_only, dw)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", [CASES[0], CASES[1], CASES[5], CASES[7], CASES[10]])
@pytest.mark.parametrize("tile_channels", [conv_shifted.MAX_TILE_CHANNELS, 0], ids=["tiles", "blas"])
def test_shifted_conv2d_gradients_match_central_differences(
    monkeypatch, x_shape, w_shape, stride, padding, tile_channels
):
    monkeypatch.setattr(conv_shifted, "MAX_TILE_CHANNELS", tile_channels)
    tiles = tile_channels > 0
    on_path = lambda blocks: blocks.shifted is not None and blocks.shifted.tiles == tiles  # noqa: E731
    assert_conv2d_gradients(x_shape, w_shape, stride, padding, 3, on_path)


def test_which_convolutions_run_on_register_tiles():
    """Up to MAX_TILE_CHANNELS input and output channels (ResNet-20's layers, VGG's first block); wider layers
    keep BLAS's products, whose packing reuses the weights better."""
    assert conv_shifted.plan((8, 16, 32, 32), (16, 16, 3, 3), (1, 1), (1, 1), 8, 4).tiles
    assert conv_shifted.plan((8, 32, 16, 16), (64, 32, 3, 3), (2, 2), (1, 1), 8, 4).tiles
    assert conv_shifted.plan((8, 64, 8, 8), (64, 64, 3, 3), (1, 1), (1, 1), 8, 4).tiles
    assert not conv_shifted.plan((8, 128, 28, 28), (128, 128, 3, 3), (1, 1), (1, 1), 8, 4).tiles
    assert not conv_shifted.plan((8, 64, 28, 28), (128, 64, 3, 3), (1, 1), (1, 1), 8, 4).tiles


def test_shifted_conv2d_is_the_same_on_any_number_of_threads_and_in_float32(monkeypatch):
    monkeypatch.setattr(conv_blocks, "MIN_TASK_MACS", 1)  # several groups of images even for this small layer
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((9, 16, 12, 12)), rng.standard_normal((8, 16, 3, 3))
    g = rng.standard_normal((9, 8, 12, 12))
    results = {}
    for device in ("cpu", "parallel"):
        out, cache = F.conv2d_forward(x.astype(np.float32), w.astype(np.float32), None, 1, 1, device=device)
        assert cache.blocks.shifted is not None and cache.blocks.tasks > 1
        results[device] = (out, *F.conv2d_backward(g.astype(np.float32), cache)[:2])
    for a, b in zip(results["cpu"], results["parallel"]):
        np.testing.assert_array_equal(a, b)  # groups summed in a fixed order, whatever the threads
    out64, cache64 = F.conv2d_forward(x, w, None, 1, 1)
    for a, b in zip(results["cpu"], (out64, *F.conv2d_backward(g, cache64)[:2])):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max())


def test_shifted_conv2d_on_an_empty_batch():
    x, w = np.zeros((0, 16, 8, 8)), np.ones((4, 16, 3, 3))
    out, cache = F.conv2d_forward(x, w, None, 1, 1)
    assert out.shape == (0, 4, 8, 8)
    dx, dw, _ = F.conv2d_backward(np.zeros(out.shape), cache)
    assert dx.shape == x.shape and dw.shape == w.shape and not dw.any()


def test_lenet5_training_curve_with_shifted_c3_stays_within_1e6_of_im2col(monkeypatch, lenet5_curve):
    """LeNet-5's C3 runs shifted: 30 SGD steps in float32 follow the im2col path's curve to float32 rounding
    (the summation order of C3's products changed), which the issue bounds at 1e-6."""

    shifted, w_shifted = lenet5_curve()
    monkeypatch.setattr(conv_shifted, "MIN_CHANNELS", 10**6)  # every layer on im2col: the former path
    im2col, w_im2col = lenet5_curve()
    assert im2col[-1] < 0.9 * im2col[0]  # it learns: the comparison is over a real curve
    np.testing.assert_allclose(shifted, im2col, rtol=1e-6, atol=0)
    for a, b in zip(w_shifted, w_im2col):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    plan = conv_blocks.plan((32, 6, 14, 14), (16, 6, 5, 5), (1, 1), (0, 0), 1, 10, 10, 4)
    monkeypatch.undo()
    assert conv_blocks.plan((32, 6, 14, 14), (16, 6, 5, 5), (1, 1), (0, 0), 1, 10, 10, 4).shifted is not None
    assert plan.shifted is None


def test_buffers_too_long_for_an_lp64_blas_take_the_im2col_path(monkeypatch):
    """scipy's BLAS takes 32-bit dimensions: a channel row of 2^31 columns or more goes to im2col's blocks."""
    small = conv_shifted.plan((2, 16, 8, 8), (4, 16, 3, 3), (1, 1), (1, 1), 1, 4)
    huge = dataclasses.replace(small, n=2**31 // 64)  # 100 grid columns per image: 3.4e9
    assert conv_shifted.fits_blas(small) and conv_shifted.fits_blas(huge)  # numpy's ILP64 OpenBLAS here
    lp64 = blas.Routines(None, None, np.int32, "an LP64 BLAS")
    monkeypatch.setattr(conv_shifted, "routines", lambda: lp64)
    assert conv_shifted.fits_blas(small) and not conv_shifted.fits_blas(huge)
    x_shape = (2**31 // 64, 16, 8, 8)  # only planned, never allocated
    assert conv_blocks.plan(x_shape, (4, 16, 3, 3), (1, 1), (1, 1), 1, 8, 8, 4).shifted is None
    monkeypatch.undo()
    assert conv_blocks.plan(x_shape, (4, 16, 3, 3), (1, 1), (1, 1), 1, 8, 8, 4).shifted is not None
