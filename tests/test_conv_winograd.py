"""3x3 convolutions by Winograd's F(2x2, 3x3) (v1sim.kernels.conv_winograd).

Forward, input gradient and weight gradient against the naive loops (to 1e-12 in float64: the transforms add,
subtract and halve, which float64 does exactly enough) for odd and even sizes, every padding up to 2, unequal
channels and any blocking; against float64 central differences through ``nn.functional``; the same bits on
any number of threads; float32 within its rounding of float64; which layers take the path.
"""

from __future__ import annotations

import dataclasses

import naive
import numba
import numpy as np
import pytest
from conv_gradients import assert_conv2d_gradients
from training_curves import conv_net, quadrant_images, sgd_curve

from v1sim.kernels import conv_blocks, conv_shifted, conv_winograd
from v1sim.nn import functional as F


def test_which_convolutions_run_winograd():
    assert conv_winograd.eligible((8, 64, 56, 56), (64, 64, 3, 3), (1, 1), (1, 1), 1)  # VGG's first block
    assert conv_winograd.eligible((8, 128, 28, 28), (128, 128, 3, 3), (1, 1), (1, 1), 1)  # 196 tiles
    assert conv_winograd.eligible((8, 64, 20, 20), (64, 64, 3, 3), (1, 1), (1, 1), 1)  # 100 tiles
    assert not conv_winograd.eligible((8, 64, 18, 18), (64, 64, 3, 3), (1, 1), (1, 1), 1)  # 81 tiles
    assert not conv_winograd.eligible((8, 64, 8, 8), (64, 64, 3, 3), (1, 1), (1, 1), 1)  # ResNet-20's last stage
    assert not conv_winograd.eligible((8, 16, 32, 32), (16, 16, 3, 3), (1, 1), (1, 1), 1)  # its first: 16 channels
    assert not conv_winograd.eligible((8, 64, 56, 56), (32, 64, 3, 3), (1, 1), (1, 1), 1)  # 32 filters
    assert not conv_winograd.eligible((8, 64, 56, 56), (64, 64, 3, 3), (2, 2), (1, 1), 1)  # stride 2
    assert not conv_winograd.eligible((8, 64, 56, 56), (64, 64, 5, 5), (1, 1), (2, 2), 1)  # 5x5
    assert not conv_winograd.eligible((8, 64, 56, 56), (64, 32, 3, 3), (1, 1), (1, 1), 2)  # grouped
    assert not conv_winograd.eligible((8, 64, 56, 56), (64, 64, 3, 3), (1, 1), (3, 3), 1)  # padding past the kernel
    vgg = conv_blocks.plan((8, 64, 56, 56), (64, 64, 3, 3), (1, 1), (1, 1), 1, 56, 56, 4)
    assert vgg.winograd is not None and vgg.shifted is None and vgg.winograd.tasks == vgg.tasks
    resnet = conv_blocks.plan((8, 64, 8, 8), (64, 64, 3, 3), (1, 1), (1, 1), 1, 8, 8, 4)
    assert resnet.winograd is None and resnet.shifted is not None


CASES = [  # (x shape, w shape, padding): odd and even output sizes, every padding, unequal channels
    ((3, 5, 9, 7), (4, 5, 3, 3), (1, 1)),
    ((2, 3, 8, 10), (6, 3, 3, 3), (1, 1)),
    ((2, 4, 7, 6), (3, 4, 3, 3), (0, 0)),  # 5x4 outputs: a half tile at the bottom
    ((3, 2, 6, 5), (2, 2, 3, 3), (2, 2)),  # 8x7 outputs from 6x5: the widest padding
    ((2, 3, 9, 8), (5, 3, 3, 3), (2, 0)),  # unequal padding
    ((4, 6, 4, 4), (7, 6, 3, 3), (0, 1)),  # a single tile row
]
BLOCKINGS = [  # (whole images, images per block, grid rows per block)
    (False, 1, 1),
    (False, 1, 2),
    (True, 1, None),
    (True, 3, None),
]


def _oracle_backward(x, w, g, padding):
    """dx and dw of naive.correlate by the definition: dx is the full correlation with the flipped, transposed
    kernel; dw[k, c, u, v] sums g times the padded input under tap (u, v)."""
    py, px = padding
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    dx = naive.correlate(g, flipped, (1, 1), (2 - py, 2 - px))
    xp = naive.pad_zeros(x, py, px)
    ho, wo = g.shape[2:]
    dw = np.zeros(w.shape)
    for u in range(3):
        for v in range(3):
            dw[:, :, u, v] = np.einsum("nkhw,nchw->kc", g, xp[:, :, u : u + ho, v : v + wo])
    return dx, dw


@pytest.mark.parametrize("x_shape, w_shape, padding", CASES)
@pytest.mark.parametrize("whole, images, rows", BLOCKINGS)
@pytest.mark.parametrize("tasks", [1, 2])
def test_winograd_matches_naive_for_any_blocking(x_shape, w_shape, padding, whole, images, rows, tasks):
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    p = conv_winograd.plan(x_shape, w_shape, padding, tasks)
    p = dataclasses.replace(p, whole=whole, images=images, rows=p.hq if rows is None else rows)
    out, xc = conv_winograd.forward(x, w, b, p, "cpu")
    np.testing.assert_allclose(out, naive.correlate(x, w, (1, 1), padding, b), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(out.shape)
    dx, dw = conv_winograd.backward(g, xc, w, p, True, "cpu")
    want_dx, want_dw = _oracle_backward(x, w, g, padding)
    np.testing.assert_allclose(dx, want_dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, want_dw, rtol=1e-12, atol=1e-12)
    no_dx, dw_only = conv_winograd.backward(g, xc, w, p, False, "cpu")
    assert no_dx is None
    np.testing.assert_array_equal(dw_only, dw)
    out_p, xc_p = conv_winograd.forward(x, w, b, p, "parallel")  # the groups on Numba's threads: the same bits
    for a, e in zip((out_p, *conv_winograd.backward(g, xc_p, w, p, True, "parallel")), (out, dx, dw)):
        np.testing.assert_array_equal(a, e)


@pytest.fixture
def everywhere(monkeypatch):
    """Every 3x3 stride-1 convolution on Winograd's path, however small."""
    monkeypatch.setattr(conv_winograd, "MIN_CHANNELS", 1)
    monkeypatch.setattr(conv_winograd, "MIN_MAP_TILES", 1)


@pytest.mark.parametrize("x_shape, w_shape, padding", [CASES[0], CASES[2], CASES[5]])  # patches > 32: not rows
def test_winograd_conv2d_gradients_match_central_differences(everywhere, x_shape, w_shape, padding):
    assert_conv2d_gradients(x_shape, w_shape, 1, padding, 6, lambda blocks: blocks.winograd is not None)


def test_winograd_is_the_same_on_any_number_of_threads_and_close_in_float32(monkeypatch, everywhere):
    monkeypatch.setattr(conv_blocks, "MIN_TASK_MACS", 1)  # several groups of images even for this small layer
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((9, 8, 12, 10)), rng.standard_normal((6, 8, 3, 3))
    g = rng.standard_normal((9, 6, 12, 10))
    threads = numba.get_num_threads()
    results = []
    try:
        for n_threads in sorted({1, threads}):
            numba.set_num_threads(n_threads)
            out, cache = F.conv2d_forward(x.astype(np.float32), w.astype(np.float32), None, 1, 1, device="parallel")
            assert cache.blocks.winograd is not None and cache.blocks.tasks > 1
            results.append((out, *F.conv2d_backward(g.astype(np.float32), cache)[:2]))
    finally:
        numba.set_num_threads(threads)
    for a, b in zip(results[0], results[-1]):
        np.testing.assert_array_equal(a, b)  # groups summed in a fixed order, whatever the threads
    out64, cache64 = F.conv2d_forward(x, w, None, 1, 1)
    for a, b in zip(results[0], (out64, *F.conv2d_backward(g, cache64)[:2])):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(b).max())  # a few units in the 7th digit


def test_winograd_on_an_empty_batch(everywhere):
    x, w = np.zeros((0, 8, 8, 8)), np.ones((4, 8, 3, 3))
    out, cache = F.conv2d_forward(x, w, None, 1, 1)
    assert cache.blocks.winograd is not None and out.shape == (0, 4, 8, 8)
    dx, dw, _ = F.conv2d_backward(np.zeros(out.shape), cache)
    assert dx.shape == x.shape and dw.shape == w.shape and not dw.any()


def _vgg_curve(steps=12):
    """Losses and weights of a small VGG-style net (two 3x3 layers of 64 channels on 20x20 maps: both on
    Winograd's path), trained in float32 by SGD with momentum."""
    x, y = quadrant_images(16, 3, 20, seed=8)
    return sgd_curve(conv_net(3, [(64, 1)] * 3), x, y, steps)


def test_a_vgg_style_training_curve_on_winograd_follows_the_shifted_products(monkeypatch):
    """12 SGD steps in float32: the curve with F(2x2, 3x3) stays within float32 rounding of the shifted
    products' (only the arithmetic's order and the transforms' rounding differ). The reference is BLAS's
    products: the register tiles' longer sums in one accumulator round differently (test_register_tiles)."""
    winograd, w_winograd = _vgg_curve()
    monkeypatch.setattr(conv_winograd, "MIN_CHANNELS", 10**6)
    monkeypatch.setattr(conv_shifted, "MAX_TILE_CHANNELS", 0)
    shifted, w_shifted = _vgg_curve()
    assert shifted[-1] < 0.9 * shifted[0]  # it learns (1.39 -> 1.17): the comparison is over a real curve
    np.testing.assert_allclose(winograd, shifted, rtol=1e-5, atol=0)
    for a, b in zip(w_winograd, w_shifted):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * max(1.0, np.abs(b).max()))
    layer = conv_blocks.plan((16, 64, 20, 20), (64, 64, 3, 3), (1, 1), (1, 1), 1, 20, 20, 4)
    assert layer.winograd is None and conv_shifted.eligible((16, 64, 20, 20), (64, 64, 3, 3), (1, 1), 1, 20, 20)
    monkeypatch.undo()
    assert conv_blocks.plan((16, 64, 20, 20), (64, 64, 3, 3), (1, 1), (1, 1), 1, 20, 20, 4).winograd is not None
