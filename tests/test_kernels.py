"""The CPU kernel layer against the naive references, serial and parallel."""

from __future__ import annotations

import functools

import naive
import numba
import numpy as np
import pytest

from v1sim import kernels
from v1sim.kernels import cpu

DEVICES = ("cpu", "parallel")
DTYPES = (np.float32, np.float64)

# (N, C, H, W, K, kh, kw, sy, sx): stride > 1, kernel == image, 1x1, many filters.
CONV_CASES = [
    (2, 3, 7, 9, 4, 3, 2, 1, 1),
    (1, 2, 8, 7, 3, 3, 3, 2, 3),
    (2, 1, 5, 6, 2, 5, 6, 1, 1),
    (1, 2, 6, 6, 9, 2, 3, 2, 1),
    (1, 1, 1, 1, 1, 1, 1, 1, 1),
    (1, 2, 9, 9, 2, 9, 4, 3, 2),
]

# (N, C, H, W, ph, pw, sy, sx, py, px): overlapping, padded, window == image.
POOL_CASES = [
    (2, 3, 7, 9, 2, 2, 2, 2, 0, 0),
    (1, 2, 8, 7, 3, 3, 2, 2, 1, 1),
    (2, 1, 5, 6, 5, 6, 1, 1, 0, 0),
    (1, 2, 9, 8, 3, 2, 1, 3, 1, 1),
    (1, 1, 6, 7, 4, 3, 3, 2, 2, 1),
    (1, 1, 1, 1, 1, 1, 1, 1, 0, 0),
]


def _tol(dtype):
    return {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


@functools.cache
def _conv_data(case):
    n, c, h, w, k, kh, kw, sy, sx = case
    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((k, c, kh, kw))
    return x, wt, naive.correlate(x, wt, (sy, sx))


@functools.cache
def _pool_data(case):
    n, c, h, w = case[:4]
    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    # small integers: many ties, so "first maximum" is really exercised
    x = rng.integers(-3, 4, size=(n, c, h, w)).astype(np.float64)
    return x


def _pool_geom(case):
    return case[4:6], case[6:8], case[8:10]


# --------------------------------------------------------------------------
# Correlation kernels
# --------------------------------------------------------------------------


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_correlate_valid_matches_naive(case, dtype, device):
    x, w, ref = _conv_data(case)
    sy, sx = case[7:9]
    out = np.full(ref.shape, np.nan, dtype)
    kernels.get("correlate_valid", device)(x.astype(dtype), w.astype(dtype), sy, sx, out)
    np.testing.assert_allclose(out, ref, **_tol(dtype))


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_correlate_valid_bank_matches_naive(case, dtype, device):
    x, w, ref = _conv_data(case)
    sy, sx = case[7:9]
    wt = np.ascontiguousarray(w.transpose(1, 2, 3, 0).astype(dtype))  # (C, kh, kw, K)
    out = np.full(ref.shape, np.nan, dtype)
    kernels.get("correlate_valid_bank", device)(x.astype(dtype), wt, sy, sx, out)
    np.testing.assert_allclose(out, ref, **_tol(dtype))


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_im2col_matches_naive(case, dtype, device):
    x, _, _ = _conv_data(case)
    kh, kw, sy, sx = case[5:9]
    x = x.astype(dtype)
    ref = naive.im2col(x, kh, kw, sy, sx)
    cols = np.full(ref.shape, np.nan, dtype)
    kernels.get("im2col", device)(x, kh, kw, sy, sx, cols)
    np.testing.assert_array_equal(cols, ref)  # a pure copy: exact


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_col2im_matches_naive(case, dtype, device):
    n, c, h, w, _, kh, kw, sy, sx = case
    ho, wo = naive.out_len(h, kh, sy), naive.out_len(w, kw, sx)
    cols = np.random.default_rng(7).standard_normal((c * kh * kw, n, ho * wo)).astype(dtype)
    ref = naive.col2im(cols, (n, c, h, w), kh, kw, sy, sx)
    x = np.zeros((n, c, h, w), dtype)
    kernels.get("col2im", device)(cols, kh, kw, sy, sx, x)
    np.testing.assert_allclose(x, ref, **_tol(dtype))


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("device", DEVICES)
def test_col2im_is_adjoint_of_im2col(case, device):
    n, c, h, w, _, kh, kw, sy, sx = case
    rng = np.random.default_rng(3)
    ho, wo = naive.out_len(h, kh, sy), naive.out_len(w, kw, sx)
    x = rng.standard_normal((n, c, h, w))
    y = rng.standard_normal((c * kh * kw, n, ho * wo))
    ax = np.empty_like(y)
    kernels.get("im2col", device)(x, kh, kw, sy, sx, ax)
    aty = np.zeros_like(x)
    kernels.get("col2im", device)(y, kh, kw, sy, sx, aty)
    lhs, rhs = np.vdot(ax, y), np.vdot(x, aty)
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


def _blocks_of(n, ho, images, rows):
    """(n0, nb, oy0, rows) covering n images of ho output rows, as the block-by-block convolution cuts them."""
    return [
        (n0, min(images, n - n0), oy0, min(rows, ho - oy0)) for n0 in range(0, n, images) for oy0 in range(0, ho, rows)
    ]


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("images, rows", [(1, 1), (2, 100), (1, 2)])
def test_im2col_block_pieces_equal_the_naive_column_matrix(case, dtype, device, images, rows):
    n, c, h, w, _, kh, kw, sy, sx = case
    x = _conv_data(case)[0].astype(dtype)
    ref = naive.im2col(x, kh, kw, sy, sx)  # (R, N, Ho*Wo)
    ho, wo = naive.out_len(h, kh, sy), naive.out_len(w, kw, sx)
    rows = min(rows, ho)
    for n0, nb, oy0, nr in _blocks_of(n, ho, images, rows):
        cols = np.full((c * kh * kw, nb, nr * wo), np.nan, dtype)
        kernels.get("im2col_block", device)(x, n0, oy0, kh, kw, sy, sx, wo, cols)
        np.testing.assert_array_equal(cols, ref[:, n0 : n0 + nb, oy0 * wo : (oy0 + nr) * wo])  # a copy: exact


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_col2im_block_pieces_add_up_to_the_naive_scatter(case, dtype, device):
    n, c, h, w, _, kh, kw, sy, sx = case
    ho, wo = naive.out_len(h, kh, sy), naive.out_len(w, kw, sx)
    cols = np.random.default_rng(8).standard_normal((c * kh * kw, n, ho * wo)).astype(dtype)
    ref = naive.col2im(cols, (n, c, h, w), kh, kw, sy, sx)
    x = np.zeros((n, c, h, w), dtype)
    for n0, nb, oy0, nr in _blocks_of(n, ho, 1, 2):  # rows of one image overlap: added one block after another
        block = np.ascontiguousarray(cols[:, n0 : n0 + nb, oy0 * wo : (oy0 + nr) * wo])
        kernels.get("col2im_block", device)(block, n0, oy0, kh, kw, sy, sx, wo, x)
    np.testing.assert_allclose(x, ref, **_tol(dtype))


@pytest.mark.parametrize("case", [c for c in CONV_CASES if c[7:9] == (1, 1)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("rows", [1, 2, 100])
def test_im2col_block_wide_holds_the_naive_columns_at_a_padded_width_pitch(case, dtype, device, rows):
    """Columns j < Wo of each row are the naive patches; the spill-over j >= Wo is dropped by the store."""
    n, c, h, w, _, kh, kw, _, _ = case
    x = _conv_data(case)[0].astype(dtype)
    ref = naive.im2col(x, kh, kw, 1, 1)
    ho, wo = h - kh + 1, w - kw + 1
    rows = min(rows, ho)
    for n0, nb, oy0, nr in _blocks_of(n, ho, 1, rows):
        cols = np.full((c * kh * kw, nb, nr * w), np.nan, dtype)
        kernels.get("im2col_block", device)(x, n0, oy0, kh, kw, 1, 1, w, cols)
        assert not np.isnan(cols).any()  # past the plane's end: zeros
        got = cols.reshape(c * kh * kw, nb, nr, w)[..., :wo].reshape(c * kh * kw, nb, nr * wo)
        np.testing.assert_array_equal(got, ref[:, n0 : n0 + nb, oy0 * wo : (oy0 + nr) * wo])


@pytest.mark.parametrize("case", [c for c in CONV_CASES if c[7:9] == (1, 1)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_col2im_block_wide_with_zero_spill_over_adds_up_to_the_naive_scatter(case, dtype, device):
    n, c, h, w, _, kh, kw, _, _ = case
    ho, wo = h - kh + 1, w - kw + 1
    cols = np.random.default_rng(8).standard_normal((c * kh * kw, n, ho * wo)).astype(dtype)
    ref = naive.col2im(cols, (n, c, h, w), kh, kw, 1, 1)
    wide = np.zeros((c * kh * kw, n, ho, w), dtype)
    wide[..., :wo] = cols.reshape(c * kh * kw, n, ho, wo)
    x = np.zeros((n, c, h, w), dtype)
    for n0, nb, oy0, nr in _blocks_of(n, ho, 1, 2):
        block = np.ascontiguousarray(wide[:, n0 : n0 + nb, oy0 : oy0 + nr]).reshape(c * kh * kw, nb, nr * w)
        kernels.get("col2im_block", device)(block, n0, oy0, kh, kw, 1, 1, w, x)
    np.testing.assert_allclose(x, ref, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("pitch", [5, 7])
def test_block_to_nchw_and_back_place_a_block_at_its_offset(dtype, device, with_bias, pitch):
    rng = np.random.default_rng(9)
    block = rng.standard_normal((3, 2, 2 * pitch)).astype(dtype)  # (K, nb, rows*pitch), 2 rows of 5 kept
    bias = rng.standard_normal(3).astype(dtype) if with_bias else np.empty(0, dtype)
    out = np.full((4, 3, 6, 5), np.nan, dtype)  # (N, K, Ho, Wo)
    kernels.get("block_to_nchw", device)(block, bias, 1, 3, pitch, out)
    kept = block.reshape(3, 2, 2, pitch)[..., :5]
    want = kept.transpose(1, 0, 2, 3) + (bias[None, :, None, None] if with_bias else 0)
    np.testing.assert_array_equal(out[1:3, :, 3:5], want)  # one addition per element: exact
    untouched = np.ones(out.shape, bool)
    untouched[1:3, :, 3:5] = False
    assert np.isnan(out[untouched]).all()
    back = np.full_like(block, np.nan)
    kernels.get("nchw_to_block", device)(out, 1, 3, pitch, back)
    back = back.reshape(3, 2, 2, pitch)
    np.testing.assert_array_equal(back[..., :5], want.transpose(1, 0, 2, 3))
    assert (back[..., 5:] == 0).all()  # the spill-over of the output gradient: zero


@pytest.mark.parametrize("complex_dtype", (np.complex64, np.complex128))
@pytest.mark.parametrize("device", DEVICES)
def test_spectral_mac_matches_naive(complex_dtype, device):
    rng = np.random.default_rng(11)
    k, c, p, q = 3, 2, 5, 4

    def rand(*shape):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(complex_dtype)

    img, bank = rand(c, p, q), rand(k, c, p, q)
    out = np.empty((k, p, q), complex_dtype)
    kernels.get("spectral_mac", device)(img, bank, out)
    tol = 1e-5 if complex_dtype == np.complex64 else 1e-12
    np.testing.assert_allclose(out, naive.spectral_mac(img, bank), rtol=tol, atol=tol)


# --------------------------------------------------------------------------
# Pooling kernels
# --------------------------------------------------------------------------


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_max_pool_matches_naive(case, dtype, device):
    x = _pool_data(case)
    size, stride, pad = _pool_geom(case)
    ref, ref_arg = naive.pool(x, size, stride, pad, "max")
    out = np.full(ref.shape, np.nan, dtype)
    idx = np.full(ref.shape, -1, np.int32)
    kernels.get("max_pool", device)(x.astype(dtype), *size, *stride, *pad, out, idx)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(idx, ref_arg)  # flat y*W+x of the first maximum


@pytest.mark.parametrize("hw", [(6, 8), (7, 9), (2, 2), (3, 5)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_max_pool_2x2_matches_naive(hw, dtype, device):
    x = np.random.default_rng(5).standard_normal((2, 3) + hw)
    ref, _ = naive.pool(x, (2, 2), (2, 2), (0, 0), "max")
    out = np.full(ref.shape, np.nan, dtype)
    kernels.get("max_pool_2x2", device)(x.astype(dtype), out)
    np.testing.assert_array_equal(out, ref.astype(dtype))


@pytest.mark.parametrize("kind", ("avg", "l2"))
@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_window_pool_matches_naive(kind, case, dtype, device):
    x = _pool_data(case) + 0.25  # non-integer values
    size, stride, pad = _pool_geom(case)
    ref, _ = naive.pool(x, size, stride, pad, kind)
    out = np.full(ref.shape, np.nan, dtype)
    kernels.get(f"{kind}_pool", device)(x.astype(dtype), *size, *stride, *pad, out)
    np.testing.assert_allclose(out, ref, **_tol(dtype))


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_max_pool_backward_matches_naive(case, dtype, device):
    x = _pool_data(case)
    size, stride, pad = _pool_geom(case)
    _, arg = naive.pool(x, size, stride, pad, "max")
    g = np.random.default_rng(2).standard_normal(arg.shape)
    ref = naive.max_pool_backward(g, x, size, stride, pad)
    grad_in = np.zeros(x.shape, dtype)
    kernels.get("max_pool_backward", device)(g.astype(dtype), arg.astype(np.int32), grad_in)
    np.testing.assert_allclose(grad_in, ref, **_tol(dtype))


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_avg_pool_backward_matches_naive(case, dtype, device):
    x = _pool_data(case)
    size, stride, pad = _pool_geom(case)
    ref_out, _ = naive.pool(x, size, stride, pad, "avg")
    g = np.random.default_rng(4).standard_normal(ref_out.shape)
    ref = naive.avg_pool_backward(g, x.shape, size, stride, pad)
    grad_in = np.zeros(x.shape, dtype)
    kernels.get("avg_pool_backward", device)(g.astype(dtype), *size, *stride, *pad, grad_in)
    np.testing.assert_allclose(grad_in, ref, **_tol(dtype))


# --------------------------------------------------------------------------
# Serial == parallel, independent of the thread count
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("with_bias", [True, False])
def test_swap01_transposes_and_adds_bias(dtype, device, with_bias):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 5, 7)).astype(dtype)
    bias = rng.standard_normal(3).astype(dtype) if with_bias else np.empty(0, dtype)
    out = np.full((5, 3, 7), np.nan, dtype)
    kernels.get("swap01", device)(a, bias, out)
    want = a.transpose(1, 0, 2) + (bias[None, :, None] if with_bias else 0)
    assert out.dtype == want.dtype
    np.testing.assert_array_equal(out, want)  # one addition per element: exact


@pytest.mark.parametrize("device", DEVICES)
def test_tanh_float32_is_within_4e7_of_tanh(device):
    x = np.concatenate([np.linspace(-12, 12, 200_001), [0.0, -0.0, 1e-30, -1e-30, 1e-6, 50.0, -50.0]]).astype(
        np.float32
    )
    out = np.full_like(x, np.nan)
    kernels.get("tanh_float32", device)(x, out)
    exact = np.tanh(x.astype(np.float64))
    np.testing.assert_allclose(out, exact, rtol=1e-6, atol=4e-7)
    assert np.all(np.abs(out) <= 1) and np.all(np.sign(out) == np.sign(x))
    assert np.all(np.diff(out[:200_001]) >= -8e-7)  # monotone up to twice the error bound


# --------------------------------------------------------------------------


def _random_args(name, dtype):
    """Arguments (outputs zeroed) for kernel ``name`` on a problem big enough to split over threads."""
    rng = np.random.default_rng(21)
    n, c, h, w = 3, 4, 13, 11
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    if name == "correlate_valid":
        return (x, rng.standard_normal((5, c, 3, 4)).astype(dtype), 2, 1, np.zeros((n, 5, 6, 8), dtype))
    if name == "correlate_valid_bank":
        return (x, rng.standard_normal((c, 3, 4, 9)).astype(dtype), 1, 2, np.zeros((n, 9, 11, 4), dtype))
    if name == "s_cells" or name.startswith("s_cells_"):  # rows computed 19 - kw wide, 9 kept
        kw = 3 if name == "s_cells" else int(name.rsplit("_", 1)[1])  # s_cells_5: the kernel for width 5
        a = rng.standard_normal((5, c, 5, kw)).astype(dtype)
        return (
            np.abs(np.pad(x, ((0, 0), (0, 0), (0, 0), (0, 7)))),
            a,
            rng.random((5, kw)).astype(dtype) + 0.1,
            0,
            1.5,
            0.6,
            np.zeros((n, 5, 9, 9), dtype),
        )
    if name == "channel_sums":
        return (x.reshape(n, c, h * w), np.zeros(c, dtype))
    if name.startswith("bn_"):
        x3, g3 = x.reshape(n, c, h * w), rng.standard_normal((n, c, h * w)).astype(dtype)
        mean, invstd = rng.standard_normal(c), rng.random(c) + 0.5
        if name == "bn_stats":
            return (x3, np.zeros(c), np.zeros(c))
        if name in ("bn_affine", "bn_affine_relu"):
            return (x3, invstd, mean, np.zeros_like(x3))
        if name == "bn_backward_sums":
            return (g3, x3, mean, invstd, np.zeros(c), np.zeros(c))
        y3 = np.maximum(x3, 0)  # the relu variants' rectified output, whose positive entries mask g
        if name == "bn_backward_sums_relu":
            return (g3, y3, x3, mean, invstd, np.zeros(c), np.zeros(c))
        if name == "bn_backward_dx_relu":
            return (g3, y3, x3, mean, invstd, rng.random(c), rng.standard_normal((2, c)), np.zeros_like(x3))
        return (g3, x3, mean, invstd, rng.random(c), rng.standard_normal((2, c)), np.zeros_like(x3))
    if name == "im2col":
        return (x, 3, 2, 2, 3, np.zeros((c * 6, n, 6 * 4), dtype))
    if name == "col2im":
        return (rng.standard_normal((c * 6, n, 6 * 4)).astype(dtype), 3, 2, 2, 3, np.zeros_like(x))
    if name == "im2col_block":  # images 1-2, output rows 2-4 of 6
        return (x, 1, 2, 3, 2, 2, 3, 4, np.zeros((c * 6, 2, 3 * 4), dtype))
    if name == "col2im_block":
        return (rng.standard_normal((c * 6, 2, 3 * 4)).astype(dtype), 1, 2, 3, 2, 2, 3, 4, np.zeros_like(x))
    if name == "block_to_nchw":  # rows 6-9 of images 1-2 at a pitch of 13 > Wo = 11
        block, bias = rng.standard_normal((c, 2, 4 * 13)).astype(dtype), rng.standard_normal(c).astype(dtype)
        return (block, bias, 1, 6, 13, x.copy())
    if name == "nchw_to_block":
        return (x, 1, 6, 13, np.zeros((c, 2, 4 * 13), dtype))
    if name == "spectral_mac":
        cd = np.complex64 if dtype == np.float32 else np.complex128
        spec = (rng.standard_normal((c, 7, 5)) + 1j * rng.standard_normal((c, 7, 5))).astype(cd)
        bank = (rng.standard_normal((6, c, 7, 5)) + 1j * rng.standard_normal((6, c, 7, 5))).astype(cd)
        return (spec, bank, np.zeros((6, 7, 5), cd))
    if name == "max_pool":
        return (x, 3, 3, 2, 2, 1, 1, np.zeros((n, c, 7, 6), dtype), np.zeros((n, c, 7, 6), np.int32))
    if name == "max_pool_2x2":
        return (x, np.zeros((n, c, 6, 5), dtype))
    if name == "max_pool_backward":
        idx = rng.integers(0, h * w, size=(n, c, 7, 6)).astype(np.int32)
        return (rng.standard_normal((n, c, 7, 6)).astype(dtype), idx, np.zeros_like(x))
    if name in ("avg_pool", "l2_pool"):
        return (x, 3, 3, 2, 2, 1, 1, np.zeros((n, c, 7, 6), dtype))
    if name == "avg_pool_backward":
        return (rng.standard_normal((n, c, 7, 6)).astype(dtype), 3, 3, 2, 2, 1, 1, np.zeros_like(x))
    if name == "tanh_float32":
        return ((3 * x).astype(np.float32).reshape(-1), np.zeros(x.size, np.float32))
    if name == "tanh_backward":
        return (x.reshape(-1), np.tanh(x).reshape(-1), np.zeros(x.size, dtype))
    if name == "pad_nchw":  # 1 row, 2 columns, into garbage
        return (x, 1, 2, np.full((n, c, h + 2, w + 4), np.nan, dtype))
    if name == "crop_nchw":
        return (x, 1, 2, np.full((n, c, h - 2, w - 4), np.nan, dtype))
    if name == "avg_pool_2x2_backward":  # odd H and W: the trailing row and column get zeros
        return (rng.standard_normal((n, c, h // 2, w // 2)).astype(dtype), np.full_like(x, np.nan))
    if name == "relu_backward":
        return (x.reshape(-1), np.maximum(x, 0).reshape(-1), np.zeros(x.size, dtype))
    if name in ("add", "add_relu"):
        return (x.reshape(-1), rng.standard_normal(x.size).astype(dtype), np.zeros(x.size, dtype))
    if name == "swap01":
        return (x.reshape(n, c, h * w), rng.standard_normal(n).astype(dtype), np.zeros((c, n, h * w), dtype))
    if name == "grating_batch":  # the V1 benchmark's stimuli: always float32 images, full field (inf) and patches
        k = 7
        radius = np.where(np.arange(k) % 2 == 0, np.inf, rng.uniform(2.0, 6.0, k))
        return (
            rng.uniform(0, np.pi, k),
            rng.uniform(0.02, 0.3, k),
            rng.uniform(0, 2 * np.pi, k),
            radius,
            0.8,
            0.5,
            np.zeros((k, h, w), np.float32),
        )
    if name == "gabor_energy":  # simple units (-1) and complex units paired with their quadrature partner
        q = rng.standard_normal((9, 6)).astype(np.float32)
        pair = np.array([-1, 2, 1, -1, 5, 4])
        return (q, rng.random(6) + 0.5, pair, np.zeros((9, 6)))
    if name == "aperture_projections":  # float32 Gabors, 3 carriers x 4 of them, radii from the blank to full field
        radius = np.array([0.0, 0.7, 1.6, 3.0, 4.2, np.inf])
        gabors = rng.standard_normal((6, h, w)).astype(np.float32)
        carriers = (rng.uniform(0, np.pi, 3), rng.uniform(0.02, 0.3, 3))
        return (gabors, np.array([5, 0, 3, 2]), *carriers, radius, np.zeros((3, 6, 2, 4)))
    raise KeyError(name)


def _outputs(name, args):
    two = ("max_pool", "bn_stats", "bn_backward_sums", "bn_backward_sums_relu")  # kernels with two outputs
    return [a for a in args[-2:] if isinstance(a, np.ndarray)] if name in two else [args[-1]]


@pytest.fixture
def restore_threads():
    before = numba.get_num_threads()
    yield
    numba.set_num_threads(before)


@pytest.mark.parametrize("name", kernels.names())
@pytest.mark.parametrize("dtype", DTYPES)
def test_serial_equals_parallel_for_any_thread_count(name, dtype, restore_threads):
    results = {}
    for label, device, threads in (("serial", "cpu", None), ("1 thread", "parallel", 1), ("2 threads", "parallel", 2)):
        if threads is not None:
            if threads > numba.config.NUMBA_NUM_THREADS:
                continue
            numba.set_num_threads(threads)
        args = _random_args(name, dtype)
        kernels.get(name, device)(*args)
        results[label] = _outputs(name, args)
    assert "1 thread" in results
    for label, outs in results.items():
        for got, want in zip(outs, results["serial"]):
            np.testing.assert_array_equal(got, want, err_msg=f"{name}: {label} differs from serial")


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------


def test_registry_has_cached_serial_and_parallel_twins():
    assert set(cpu.SERIAL) == set(cpu.PARALLEL) == set(kernels.names())
    assert len(kernels.names()) >= 11
    for name in kernels.names():
        serial, parallel = cpu.SERIAL[name], cpu.PARALLEL[name]
        for disp in (serial, parallel):
            assert isinstance(disp, numba.core.registry.CPUDispatcher), name
            assert type(disp._cache).__name__ == "FunctionCache", f"{name} is not compiled with cache=True"
        assert not serial.targetoptions.get("parallel", False), name
        assert parallel.targetoptions.get("parallel") is True, name
        # distinct qualified names, so the two variants do not share a cache entry
        assert serial.py_func.__qualname__ != parallel.py_func.__qualname__
        assert kernels.get(name, "cpu") is serial
        assert kernels.get(name, "parallel") is parallel


@pytest.mark.parametrize("device", DEVICES)
def test_get_unknown_kernel_raises(device):
    with pytest.raises(KeyError, match="no_such_kernel"):
        kernels.get("no_such_kernel", device)


def test_get_refuses_an_unresolved_device():
    with pytest.raises(ValueError, match="device"):
        kernels.get("max_pool", "gpu")


@pytest.mark.parametrize("scale", [1e-30, 1e-20, 1.0, 1e20, 1e30])
@pytest.mark.parametrize("device", ["cpu", "parallel"])
def test_l2_pool_of_float32_is_scale_free(scale, device):
    # squares summed in float64: float32 squares flushed windows under 1e-19 to 0 and overflowed over 1.8e19
    x = np.random.default_rng(3).standard_normal((1, 2, 5, 4))
    out = np.full((1, 2, 2, 2), np.nan, np.float32)
    kernels.get("l2_pool", device)((x * scale).astype(np.float32), 2, 2, 2, 2, 0, 0, out)
    want = np.sqrt((x[:, :, :4, :4] ** 2).reshape(1, 2, 2, 2, 2, 2).sum(axis=(3, 5)))
    np.testing.assert_allclose(out / np.float64(scale), want, rtol=1e-6)


@pytest.mark.parametrize("device", ["cpu", "parallel"])
def test_channel_sums_equal_the_float64_sums_over_images_and_positions(device):
    x = np.random.default_rng(3).standard_normal((5, 7, 33)).astype(np.float32) + 100
    out = np.full(7, np.nan, np.float32)
    kernels.get("channel_sums", device)(x, out)
    np.testing.assert_allclose(out, x.astype(np.float64).sum(axis=(0, 2)), rtol=1e-7)


@pytest.mark.parametrize("offset", [0.0, 1e4, 1e8])
@pytest.mark.parametrize("device", ["cpu", "parallel"])
def test_bn_stats_variance_is_exact_at_large_offsets(offset, device):
    # two passes (and the Chan-Golub-LeVeque correction): the one-pass E[x^2] - m^2 lost all digits at 1e8
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 17)) * 1e-2 + offset
    mean, var = np.full(4, np.nan), np.full(4, np.nan)
    kernels.get("bn_stats", device)(x, mean, var)
    dev = x - x.mean(axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(var, (dev**2).mean(axis=(0, 2)), rtol=1e-10)
    np.testing.assert_allclose(mean, x.mean(axis=(0, 2)), rtol=0, atol=4 * np.spacing(offset) + 1e-18)


def _cuda_registry_names() -> set[str]:
    """Keys of ``v1sim.kernels.cuda.KERNELS``, read from the source (importing it needs numba.cuda)."""
    import ast
    from pathlib import Path

    tree = ast.parse((Path(kernels.__file__).parent / "cuda" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "KERNELS" for t in node.targets):
            return {k.value for k in node.value.keys}
    raise AssertionError("no KERNELS registry in kernels/cuda/__init__.py")


def test_every_cpu_kernel_has_a_cuda_twin_or_is_listed_cpu_only():
    cuda_names = _cuda_registry_names()
    missing = set(kernels.names()) - cuda_names - set(kernels.CPU_ONLY)
    assert not missing, f"CPU kernels with neither a CUDA twin nor a CPU_ONLY entry: {sorted(missing)}"
    assert not set(kernels.CPU_ONLY) & cuda_names, "a kernel listed CPU_ONLY has a CUDA twin: drop it from CPU_ONLY"
    assert cuda_names <= set(kernels.names()), "every CUDA kernel in the registry twins a CPU kernel"
    for name in kernels.names():
        assert kernels.has(name, "cpu") and kernels.has(name, "parallel")
        assert kernels.has(name, "cuda") == (name in cuda_names)
    assert not kernels.has("no_such_kernel", "cpu")


def test_cuda_modules_mirror_the_cpu_modules_file_for_file():
    from pathlib import Path

    root = Path(kernels.__file__).parent
    cpu_files = {p.name for p in (root / "cpu").glob("*.py")}
    cuda_files = {p.name for p in (root / "cuda").glob("*.py")}
    assert cpu_files <= cuda_files, f"CPU kernel modules without a CUDA counterpart: {sorted(cpu_files - cuda_files)}"
    assert cuda_files - cpu_files <= {"matmul.py"}, "CUDA-only modules (the CPU's GEMM is backend.matmul's BLAS)"


def test_every_public_functional_op_has_a_cuda_twin_or_is_listed_cpu_only():
    import ast
    import inspect
    from pathlib import Path

    from v1sim.nn import functional as F
    from v1sim.nn.functional import dispatch

    functions = [n for n in F.__all__ if inspect.isfunction(getattr(F, n))]
    root = Path(F.__file__).parent
    for name in functions:
        fn = getattr(F, name)
        if name in dispatch.CPU_ONLY:
            assert name not in dispatch.TWINS, f"{name} is listed CPU_ONLY but dispatches to a twin"
            continue
        assert name in dispatch.TWINS, f"{name} has no CUDA twin (decorate it with @twin or list it in CPU_ONLY)"
        leaf = fn.__module__.rpartition(".")[2]
        assert dispatch.TWINS[name] == f"v1sim.nn.functional.cuda.{leaf}"
        tree = ast.parse((root / "cuda" / f"{leaf}.py").read_text(encoding="utf-8"))
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert name in defined, f"functional/cuda/{leaf}.py has no {name} (the twin of functional/{leaf}.py:{name})"
        cpu_params = list(inspect.signature(inspect.unwrap(fn)).parameters)
        twin_def = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
        twin_params = [a.arg for a in twin_def.args.args + twin_def.args.kwonlyargs]
        assert twin_params == cpu_params, f"{name}: the twin's arguments {twin_params} differ from {cpu_params}"


def test_small_problems_get_the_serial_twin_large_ones_the_parallel_one():
    """``get(..., size)`` swaps in the serial twin below PARALLEL_MIN_SIZE (a choice that never changes a result:
    test_serial_equals_parallel_for_any_thread_count); without a size, or on "cpu", nothing changes."""
    small, large = kernels.PARALLEL_MIN_SIZE - 1, kernels.PARALLEL_MIN_SIZE
    assert kernels.get("relu_backward", "parallel", small) is cpu.SERIAL["relu_backward"]
    assert kernels.get("relu_backward", "parallel", large) is cpu.PARALLEL["relu_backward"]
    assert kernels.get("relu_backward", "parallel") is cpu.PARALLEL["relu_backward"]
    assert kernels.get("relu_backward", "cpu", large) is cpu.SERIAL["relu_backward"]
