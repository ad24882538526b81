"""v1sim.pool2d / pool2d_backward against the naive references and finite differences."""

from __future__ import annotations

import naive
import numpy as np
import pytest
from skimage.measure import block_reduce

import v1sim
from v1sim.pooling import pool2d_backward

# (size, stride, padding) as given to pool2d; stride None means stride = size
GEOMETRIES = [
    (2, None, 0),
    (3, 2, 1),
    ((3, 2), (1, 2), (1, 0)),
    (3, 1, 0),
    ((2, 4), (2, 3), (1, 2)),
    (1, 1, 0),
]


def _pairs(size, stride, padding):
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    size = pair(size)
    return size, (size if stride is None else pair(stride)), pair(padding)


def _distinct(shape, rng):
    """Values with no ties, at least 0.1 apart (safe for finite differences through max)."""
    return (rng.permutation(int(np.prod(shape))) * 0.1 + rng.uniform(0, 0.01)).reshape(shape) - 1.0


@pytest.mark.parametrize("kind", ("max", "avg", "l2"))
@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("device", ("cpu", "parallel"))
def test_pool2d_matches_naive(kind, geometry, dtype, device):
    rng = np.random.default_rng(len(str(geometry)))
    # integers (many ties) for max, reals for avg/l2
    x = (
        rng.integers(-4, 5, size=(2, 3, 9, 8)).astype(dtype)
        if kind == "max"
        else rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    )
    size, stride, padding = _pairs(*geometry)
    want, want_idx = naive.pool(x, size, stride, padding, kind)
    if kind == "max":
        got, idx = v1sim.pool2d(x, *geometry, kind=kind, return_indices=True, device=device)
        assert idx.dtype == np.int32
        np.testing.assert_array_equal(idx, want_idx)
    got = v1sim.pool2d(x, *geometry, kind=kind, device=device)
    assert got.dtype == dtype and got.shape == want.shape
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", ("max", "avg", "l2"))
def test_pool2d_keeps_ndim(kind):
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6)).astype(np.float32)
    full = v1sim.pool2d(x, 3, 2, 1, kind=kind)
    assert full.ndim == 4
    chw = v1sim.pool2d(x[1], 3, 2, 1, kind=kind)
    assert chw.shape == full.shape[1:]
    np.testing.assert_array_equal(chw, full[1])
    hw = v1sim.pool2d(x[1, 2], 3, 2, 1, kind=kind)
    assert hw.shape == full.shape[2:]
    np.testing.assert_array_equal(hw, full[1, 2])
    if kind == "max":
        out, idx = v1sim.pool2d(x[1, 2], 3, 2, 1, return_indices=True)
        assert out.shape == idx.shape == full.shape[2:]


@pytest.mark.parametrize("hw", [(8, 6), (9, 7)])
@pytest.mark.parametrize("device", ("cpu", "parallel"))
def test_2x2_fast_path_matches_block_reduce(hw, device):
    x = np.random.default_rng(1).standard_normal((2, 3) + hw).astype(np.float32)
    got = v1sim.pool2d(x, 2, device=device)
    # block_reduce pads a ragged edge; pooling drops it (floor), so crop first
    h2, w2 = 2 * (hw[0] // 2), 2 * (hw[1] // 2)
    want = block_reduce(x[..., :h2, :w2], (1, 1, 2, 2), np.max)
    np.testing.assert_array_equal(got, want)
    # the general kernel (taken when indices are asked for) agrees with the fast path
    general, _ = v1sim.pool2d(x, 2, return_indices=True, device=device)
    np.testing.assert_array_equal(general, got)


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_indices_round_trip(geometry):
    x = np.random.default_rng(2).integers(-3, 4, size=(2, 2, 9, 8)).astype(np.float64)
    out, idx = v1sim.pool2d(x, *geometry, return_indices=True)
    n, c = x.shape[:2]
    picked = np.take_along_axis(x.reshape(n, c, -1), idx.reshape(n, c, -1).astype(np.int64), axis=2)
    np.testing.assert_array_equal(picked.reshape(out.shape), out)
    assert idx.min() >= 0 and idx.max() < x.shape[2] * x.shape[3]


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("kind", ("max", "avg"))
@pytest.mark.parametrize("device", ("cpu", "parallel"))
def test_pool2d_backward_matches_naive(geometry, kind, device):
    rng = np.random.default_rng(3)
    x = rng.integers(-3, 4, size=(2, 3, 9, 8)).astype(np.float64)  # ties: gradient goes to the first max
    size, stride, padding = _pairs(*geometry)
    out, idx = v1sim.pool2d(x, *geometry, kind="max", return_indices=True, device=device)
    g = rng.standard_normal(out.shape)
    if kind == "max":
        got = pool2d_backward(g, x.shape, *geometry, kind="max", indices=idx, device=device)
        want = naive.max_pool_backward(g, x, size, stride, padding)
    else:
        got = pool2d_backward(g, x.shape, *geometry, kind="avg", device=device)
        want = naive.avg_pool_backward(g, x.shape, size, stride, padding)
    assert got.shape == x.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("geometry", [(2, None, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 0))])
@pytest.mark.parametrize("kind", ("max", "avg"))
def test_pool2d_backward_gradient_check(geometry, kind):
    rng = np.random.default_rng(4)
    x = _distinct((1, 2, 6, 5), rng)
    out, idx = v1sim.pool2d(x, *geometry, kind="max", return_indices=True)
    g = rng.standard_normal(out.shape)

    def loss(z):
        return float(np.sum(g * v1sim.pool2d(z, *geometry, kind=kind, device="cpu")))

    analytic = pool2d_backward(g, x.shape, *geometry, kind=kind, indices=idx if kind == "max" else None)
    numeric = np.zeros_like(x)
    eps = 1e-6
    for i in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[i] += eps
        minus[i] -= eps
        numeric[i] = (loss(plus) - loss(minus)) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    assert np.abs(analytic).sum() > 0


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_serial_equals_parallel(geometry):
    x = np.random.default_rng(5).standard_normal((3, 4, 11, 10)).astype(np.float32)
    for kind in ("max", "avg", "l2"):
        serial = v1sim.pool2d(x, *geometry, kind=kind, device="cpu")
        np.testing.assert_array_equal(v1sim.pool2d(x, *geometry, kind=kind, device="parallel"), serial)
    out_s, idx_s = v1sim.pool2d(x, *geometry, return_indices=True, device="cpu")
    out_p, idx_p = v1sim.pool2d(x, *geometry, return_indices=True, device="parallel")
    np.testing.assert_array_equal(out_p, out_s)
    np.testing.assert_array_equal(idx_p, idx_s)
    g = np.random.default_rng(6).standard_normal(out_s.shape).astype(np.float32)
    for kind, extra in (("max", {"indices": idx_s}), ("avg", {})):
        a = pool2d_backward(g, x.shape, *geometry, kind=kind, device="cpu", **extra)
        b = pool2d_backward(g, x.shape, *geometry, kind=kind, device="parallel", **extra)
        np.testing.assert_array_equal(a, b)


def test_pool2d_does_not_mutate_input():
    x = np.random.default_rng(7).standard_normal((1, 2, 6, 6))
    before = x.copy()
    v1sim.pool2d(x, 3, 1, 1, kind="l2")
    pool2d_backward(np.ones((1, 2, 3, 3)), x.shape, 2, kind="avg")
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("bad", [(2, 3, 4.5, 4), (2, 3, "4", 4), (2, 3, 0, 4)])
def test_pool2d_backward_rejects_bad_x_shape(bad):
    g = np.zeros((2, 3, 2, 2), np.float32)
    with pytest.raises((TypeError, ValueError), match="x_shape"):
        pool2d_backward(g, bad, 2, kind="avg")
