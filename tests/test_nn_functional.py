"""v1sim.nn.functional: forward passes against naive loops, backward passes against finite differences.

Every gradient check is float64 central differences of the scalar
``L = sum(forward(...) * G)`` for a fixed random ``G``, and compares the
analytic gradient with relative error ``max|analytic - numeric| / max|numeric|``
at most 1e-6. Inputs to max pooling have distinct values 0.1 apart, and ReLU
inputs are random normal draws, so a 1e-6 step crosses no tie or kink.
"""

from __future__ import annotations

import tracemalloc

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import assert_grad

import v1sim
from v1sim.nn import functional as F


def distinct(shape, rng):
    """Values without ties, 0.1 apart, centred near 0 (safe for max pooling and ReLU)."""
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * 0.1 + 0.05 + rng.uniform(0, 0.01)).reshape(shape)


def check_pair(forward, backward, inputs, rng, **kwargs):
    """Gradient-check ``forward(*inputs, **kwargs)`` against ``backward`` for every non-None input."""
    out, cache = forward(*inputs, **kwargs)
    g = rng.standard_normal(np.shape(out))
    grads = backward(g, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)

    def loss():
        return float(np.sum(forward(*inputs, **kwargs)[0] * g))

    for k, (a, da) in enumerate(zip(inputs, grads)):
        if isinstance(a, np.ndarray) and da is not None:
            assert da.shape == a.shape
            assert_grad(da, loss, a, rng, name=f"input {k}")


def naive_grouped(x, w, b, stride, padding, groups):
    k, cg = w.shape[:2]
    kg = k // groups
    parts = [
        naive.correlate(
            x[:, g * cg : (g + 1) * cg],
            w[g * kg : (g + 1) * kg],
            stride,
            padding,
            None if b is None else b[g * kg : (g + 1) * kg],
        )
        for g in range(groups)
    ]
    return np.concatenate(parts, axis=1)


# --------------------------------------------------------------------------
# convolution
# --------------------------------------------------------------------------


@st.composite
def conv_geometry(draw):
    groups, cg, kg = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    py, px = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * py), 7))
    w = draw(st.integers(max(1, kw - 2 * px), 7))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    return (draw(st.integers(1, 2)), groups * cg, h, w), (groups * kg, cg, kh, kw), stride, (py, px), groups


@settings(max_examples=20, deadline=None)
@given(geom=conv_geometry(), seed=st.integers(0, 2**16), bias=st.booleans())
def test_conv2d_forward_matches_naive(geom, seed, bias):
    x_shape, w_shape, stride, padding, groups = geom
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0]) if bias else None
    out, _ = F.conv2d_forward(x, w, b, stride, padding, groups, device="cpu")
    np.testing.assert_allclose(out, naive_grouped(x, w, b, stride, padding, groups), rtol=1e-12, atol=1e-12)
    if groups == 1:
        want = v1sim.correlate_batch(x, w, b, stride=stride, padding=padding, device="cpu")
        np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "x_shape, w_shape, stride, padding, groups",
    [
        ((2, 3, 6, 5), (4, 3, 3, 3), 1, 1, 1),
        ((2, 4, 7, 7), (6, 2, 3, 2), (2, 1), (1, 0), 2),  # AlexNet-style towers, asymmetric geometry
        ((1, 3, 5, 5), (3, 1, 3, 3), 2, 1, 3),  # depthwise
        ((2, 4, 4, 3), (5, 4, 1, 1), 1, 0, 1),  # 1x1 fast path (no im2col)
        ((2, 2, 5, 6), (3, 2, 5, 6), 1, 0, 1),  # kernel == image
    ],
)
def test_conv2d_gradients(x_shape, w_shape, stride, padding, groups):
    rng = np.random.default_rng(sum(x_shape) + groups)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    check_pair(
        F.conv2d_forward, F.conv2d_backward, (x, w, b), rng, stride=stride, padding=padding, groups=groups, device="cpu"
    )


def test_conv2d_float32_parallel_matches_serial_and_keeps_dtype():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    outs = [F.conv2d_forward(x, w, None, 2, 1, 2, device=d) for d in ("cpu", "parallel")]
    assert outs[0][0].dtype == np.float32
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-6, atol=1e-6)
    g = rng.standard_normal(outs[0][0].shape).astype(np.float32)
    serial, parallel = (F.conv2d_backward(g, cache) for _, cache in outs)
    assert serial[2] is None and parallel[2] is None  # no bias
    for a, b in zip(serial[:2], parallel[:2]):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_conv2d_does_not_modify_inputs():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((2, 2, 3, 3))
    x0, w0 = x.copy(), w.copy()
    out, cache = F.conv2d_forward(x, w, None, 1, 1, device="cpu")
    F.conv2d_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)


def test_conv2d_bad_inputs():
    x, w = np.zeros((1, 4, 5, 5)), np.zeros((3, 2, 3, 3))
    with pytest.raises(ValueError, match="groups"):
        F.conv2d_forward(x, w, groups=3)
    with pytest.raises(ValueError, match="input channels"):
        F.conv2d_forward(x, w, groups=1)
    with pytest.raises(ValueError, match="stride"):
        F.conv2d_forward(x, np.zeros((2, 4, 3, 3)), stride=0)
    with pytest.raises(ValueError, match="height"):
        F.conv2d_forward(x, np.zeros((2, 4, 7, 3)))
    with pytest.raises(ValueError, match="bias"):
        F.conv2d_forward(x, np.zeros((2, 4, 3, 3)), np.zeros(3))
    out, cache = F.conv2d_forward(x, np.zeros((2, 4, 3, 3)))
    with pytest.raises(ValueError, match="grad_out"):
        F.conv2d_backward(np.zeros((1, 2, 4, 3)), cache)


@pytest.fixture
def blocking(monkeypatch):
    """Set how the CPU convolution cuts a batch: ``blocking(block_bytes, tasks, max_spill=1.25)`` (no minimum sizes)."""
    from v1sim.kernels import conv_blocks

    def set_to(block_bytes, tasks, max_spill=1.25):
        monkeypatch.setattr(conv_blocks, "BLOCK_BYTES", block_bytes)
        monkeypatch.setattr(conv_blocks, "TASKS", tasks)
        monkeypatch.setattr(conv_blocks, "MAX_SPILL", max_spill)
        monkeypatch.setattr(conv_blocks, "MIN_COLUMNS", 1)
        monkeypatch.setattr(conv_blocks, "MIN_TASK_MACS", 1)

    return set_to


@pytest.mark.parametrize(
    "x_shape, w_shape, stride, padding, groups",
    [
        ((5, 3, 9, 7), (4, 3, 3, 3), 1, 1, 1),
        ((3, 2, 6, 10), (4, 2, 3, 3), 1, 1, 1),  # stride 1, Wp = 1.2 Wo: wide blocks
        ((3, 4, 7, 9), (4, 2, 2, 3), 1, (0, 1), 2),  # wide and grouped
        ((3, 4, 11, 10), (6, 2, 3, 2), (2, 1), (1, 2), 2),
        ((4, 2, 8, 8), (3, 2, 5, 6), 2, 3, 1),  # padding wider than half the kernel
    ],
)
@pytest.mark.parametrize("block_bytes, tasks", [(1, 1), (1, 3), (600, 2), (1 << 30, 1), (1 << 30, 8)])
def test_conv2d_any_blocking_matches_naive_and_the_whole_batch(
    blocking, x_shape, w_shape, stride, padding, groups, block_bytes, tasks
):
    """One output row per block, a few rows, several images, the whole batch at once: the same numbers."""
    rng = np.random.default_rng(11)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    pair = (
        (stride, stride) if isinstance(stride, int) else stride,
        (padding, padding) if isinstance(padding, int) else padding,
    )
    g = None
    for device in ("cpu", "parallel"):
        blocking(block_bytes, tasks)
        out, cache = F.conv2d_forward(x, w, b, stride, padding, groups, device=device)
        assert cache.blocks.rows == (1 if block_bytes == 1 else cache.blocks.ho) or block_bytes == 600
        if g is None:
            g = rng.standard_normal(out.shape)
        got = F.conv2d_backward(g, cache)
        blocking(1 << 30, 1)  # one block: the whole batch's im2col and one GEMM, the former path
        want = F.conv2d_backward(g, F.conv2d_forward(x, w, b, stride, padding, groups, device=device)[1])
        np.testing.assert_allclose(out, naive_grouped(x, w, b, *pair, groups), rtol=1e-12, atol=1e-12)
        for a, e in zip(got, want):
            np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)
    blocking(1, 3)
    check_pair(F.conv2d_forward, F.conv2d_backward, (x, w, b), rng, stride=stride, padding=padding, groups=groups)


@pytest.mark.parametrize("block_bytes", [1, 1 << 30])
def test_conv2d_wide_blocks_equal_narrow_blocks(blocking, block_bytes):
    """Stride-1 blocks at the padded width's pitch (spill-over computed, then dropped) give the same numbers."""
    rng = np.random.default_rng(13)
    x, w, b = rng.standard_normal((3, 3, 8, 11)), rng.standard_normal((5, 3, 3, 4)), rng.standard_normal(5)
    g = rng.standard_normal((3, 5, 8, 10))
    results = []
    for max_spill in (1.0, 10.0):  # narrow, wide
        blocking(block_bytes, 2, max_spill)
        out, cache = F.conv2d_forward(x, w, b, 1, (1, 1))
        assert cache.blocks.wide == (max_spill > 1)
        results.append((out, *F.conv2d_backward(g, cache)))
    for narrow, wide in zip(*results):
        np.testing.assert_allclose(wide, narrow, rtol=1e-12, atol=1e-12)


def test_gemm_correlation_needs_blocks_not_the_column_matrix():
    """A 255x255 bank on four 512x512 images: a 69 GB whole-batch im2col matrix before, blocks of rows now."""
    from v1sim.kernels import conv_blocks, correlate

    x_shape, w_shape = (4, 1, 512, 512), (2, 1, 255, 255)
    matrix = 255 * 255 * 4 * 258 * 258 * 8  # (C*kh*kw, N*Ho*Wo) float64
    need = correlate.work_bytes("gemm", x_shape, w_shape, (1, 1), 8)
    row = 255 * 255 * 512 * 8  # one padded output row of patches: a block's least
    assert need == conv_blocks.TASKS * (row + 2 * row // (255 * 255))
    assert need < matrix / 50
    rng = np.random.default_rng(14)  # and the blocks of such a row-sized plan compute the right thing
    x, w = rng.standard_normal((2, 1, 40, 40)), rng.standard_normal((2, 1, 33, 33))
    want = naive.correlate(x, w)
    np.testing.assert_allclose(v1sim.correlate_batch(x, w, method="gemm", device="cpu"), want, rtol=1e-12, atol=1e-10)


def test_conv2d_float32_blocks_match_float64_naive(blocking):
    rng = np.random.default_rng(12)
    x, w = rng.standard_normal((6, 3, 10, 9)), rng.standard_normal((5, 3, 3, 3))
    blocking(300, 4)
    out, cache = F.conv2d_forward(x.astype(np.float32), w.astype(np.float32), None, 1, 1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, naive.correlate(x, w, (1, 1), (1, 1)), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(out.shape)
    dx, dw, _ = F.conv2d_backward(g.astype(np.float32), cache)
    dx64, dw64, _ = F.conv2d_backward(g, F.conv2d_forward(x, w, None, 1, 1)[1])
    assert dx.dtype == dw.dtype == np.float32
    np.testing.assert_allclose(dx, dx64, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, dw64, rtol=1e-4, atol=1e-4)


def test_conv2d_caches_its_padded_input_not_its_columns():
    """A layer keeps (N, C, H+2P, W+2P) for backward, never the (C*kh*kw, N*Ho*Wo) patches (9x a 3x3 input)."""
    from v1sim import nn
    from v1sim.nn import models

    model = models.build("resnet20", in_channels=1, num_classes=10, rng=0)
    x = np.random.default_rng(0).random((16, 1, 32, 32), dtype=np.float32)
    crit, y = nn.CrossEntropyLoss(), np.arange(16) % 10
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    crit(model(x), y)
    columns = 0
    for conv in convs:
        cache = conv._cache
        n, c, h, w = cache.x_shape
        (py, px), (kh, kw) = conv.padding, conv.kernel_size
        assert cache.cols is None and cache.xp.dtype == np.float32
        hp, wp = h + 2 * py, w + 2 * px
        if cache.blocks.shifted is None:
            assert cache.xp.shape == (n, c, hp, wp)
        else:  # channel-major phases of it, and the largest tap's offset (and a tile's reach) of zeros after it
            from v1sim.kernels.shifted_grid import tile_overrun

            s = cache.blocks.shifted
            zeros = s.slack + tile_overrun(s.tiles, np.float32)
            assert cache.xp.shape == (len(s.taps()[2]), c, n * s.hq * s.wq + zeros)
            assert cache.xp.size < 1.1 * n * c * hp * wp
        columns += c * kh * kw * n * cache.blocks.ho * cache.blocks.wo * 4
    model.backward(crit.backward(), input_grad=False)
    tracemalloc.start()
    try:
        crit(model(x), y)
        model.zero_grad()
        model.backward(crit.backward(), input_grad=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < columns / 2  # the former path held all the columns (96 MB here) at once; now 42 MB in all


def test_lenet5_training_curve_is_the_whole_batch_curve_within_1e6(blocking):
    """Blocks change only the summation order of the weight gradient (per group of images, then added)."""
    from v1sim import nn
    from v1sim.nn import models

    rng = np.random.default_rng(0)
    x, y = rng.random((64, 1, 32, 32), dtype=np.float32), rng.integers(0, 10, 64)

    def curve():
        model, crit = models.build("lenet5", rng=0), nn.CrossEntropyLoss()
        opt = nn.SGD(model.parameters(), lr=0.05, momentum=0.9)
        losses = []
        for _ in range(20):
            losses.append(crit(model(x), y))
            model.zero_grad()
            model.backward(crit.backward(), input_grad=False)
            opt.step()
        return np.array(losses)

    blocks = curve()
    blocking(1 << 30, 1)
    whole = curve()
    assert blocks[-1] < blocks[0] - 0.05  # it learns
    np.testing.assert_allclose(blocks, whole, rtol=0, atol=1e-6)


# --------------------------------------------------------------------------
# locally connected, linear
# --------------------------------------------------------------------------


def naive_locally_connected(x, w, b, stride, padding):
    xp = naive.pad_zeros(x, *padding)
    ho, wo, k, c, kh, kw = w.shape
    out = np.zeros((x.shape[0], k, ho, wo))
    for n in range(x.shape[0]):
        for i in range(ho):
            for j in range(wo):
                patch = xp[n, :, i * stride[0] : i * stride[0] + kh, j * stride[1] : j * stride[1] + kw]
                out[n, :, i, j] = np.tensordot(w[i, j], patch, axes=3) + (0 if b is None else b[:, i, j])
    return out


@pytest.mark.parametrize("stride, padding", [((1, 1), (0, 0)), ((2, 1), (1, 2))])
def test_locally_connected2d_forward_and_gradients(stride, padding):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 5))
    ho = (6 - 3 + 2 * padding[0]) // stride[0] + 1
    wo = (5 - 2 + 2 * padding[1]) // stride[1] + 1
    w, b = rng.standard_normal((ho, wo, 4, 3, 3, 2)), rng.standard_normal((4, ho, wo))
    out, _ = F.locally_connected2d_forward(x, w, b, stride, padding, device="cpu")
    np.testing.assert_allclose(out, naive_locally_connected(x, w, b, stride, padding), rtol=1e-12, atol=1e-12)
    check_pair(
        F.locally_connected2d_forward,
        F.locally_connected2d_backward,
        (x, w, b),
        rng,
        stride=stride,
        padding=padding,
        device="cpu",
    )


def test_locally_connected2d_bad_weight_grid():
    with pytest.raises(ValueError, match="output"):
        F.locally_connected2d_forward(np.zeros((1, 2, 5, 5)), np.zeros((2, 2, 1, 2, 3, 3)))


def test_linear_forward_and_gradients():
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((5, 7)), rng.standard_normal((3, 7)), rng.standard_normal(3)
    out, _ = F.linear_forward(x, w, b)
    np.testing.assert_allclose(out, np.einsum("nf,of->no", x, w) + b, rtol=1e-12)
    check_pair(F.linear_forward, F.linear_backward, (x, w, b), rng)
    with pytest.raises(ValueError, match="7 input features"):
        F.linear_forward(np.zeros((2, 6)), w)


# --------------------------------------------------------------------------
# activations, pooling
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid"])
def test_activation_gradients(name):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 2, 4, 4))
    check_pair(getattr(F, f"{name}_forward"), getattr(F, f"{name}_backward"), (x,), rng)


def test_activation_values_and_no_overflow():
    x = np.array([[-1000.0, -1.0, 0.0, 2.0, 1000.0]])
    np.testing.assert_array_equal(F.relu_forward(x)[0], [[0, 0, 0, 2, 1000]])
    s = F.sigmoid_forward(x)[0]
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-np.clip(x, -700, 700))), rtol=1e-12, atol=1e-300)
    assert np.isfinite(s).all()
    np.testing.assert_allclose(F.tanh_forward(x)[0], np.tanh(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_keeps_relative_precision_in_its_tails(dtype):
    # (1 + tanh(x/2)) / 2 rounded to exactly 0 below x = -17 in float32; the lower tail is representable to -103
    info = np.finfo(dtype)
    low = -103.0 if dtype == np.float32 else -744.0
    x = np.linspace(low - 10, 90, 20001).astype(dtype)
    y, cache = F.sigmoid_forward(x)
    assert y.dtype == dtype
    ref = 1 / (1 + np.exp(-x.astype(np.longdouble)))
    normal = ref >= info.tiny
    np.testing.assert_allclose(y[normal], ref[normal].astype(np.float64), rtol=4 * info.eps)
    np.testing.assert_allclose(y[~normal], ref[~normal].astype(np.float64), rtol=0, atol=2 * info.smallest_subnormal)
    assert np.all(y[x > low] > 0) and np.all(y <= 1)
    # backward y (1 - y): relative in the lower tail; within eps of 1 in absolute terms in the upper (as PyTorch)
    dy = F.sigmoid_backward(np.ones_like(x), cache)
    dref = (ref * (1 - ref)).astype(np.float64)
    lower = normal & (x < 0)
    np.testing.assert_allclose(dy[lower], dref[lower], rtol=8 * info.eps)
    np.testing.assert_allclose(dy[x >= 0], dref[x >= 0], rtol=0, atol=2 * info.eps)
    edges = F.sigmoid_forward(np.array([-np.inf, np.nan, np.inf], dtype))[0]
    np.testing.assert_array_equal(edges, [0, np.nan, 1])


def test_tanh_backward_runs_where_its_forward_ran():
    x = np.linspace(-3, 3, 40, dtype=np.float32).reshape(4, 10)
    for device in ("cpu", "parallel"):
        y, cache = F.tanh_forward(x, device=device)
        assert cache.device == device  # the backend is remembered for the backward pass
        np.testing.assert_allclose(F.tanh_backward(np.ones_like(y), cache), 1 - y * y, rtol=1e-6)


@pytest.mark.parametrize("size, stride, padding", [(2, None, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 0))])
def test_pool_gradients(size, stride, padding):
    rng = np.random.default_rng(6)
    x = distinct((2, 3, 7, 6), rng)
    check_pair(
        F.max_pool2d_forward,
        F.max_pool2d_backward,
        (x,),
        rng,
        kernel_size=size,
        stride=stride,
        padding=padding,
        device="cpu",
    )
    check_pair(
        F.avg_pool2d_forward,
        F.avg_pool2d_backward,
        (x,),
        rng,
        kernel_size=size,
        stride=stride,
        padding=padding,
        device="cpu",
    )


def test_global_avg_pool():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 4, 5))
    np.testing.assert_allclose(F.global_avg_pool2d_forward(x)[0], x.mean(axis=(2, 3)))
    check_pair(F.global_avg_pool2d_forward, F.global_avg_pool2d_backward, (x,), rng)


# --------------------------------------------------------------------------
# LRN, batch norm, dropout
# --------------------------------------------------------------------------


def naive_lrn(x, size, alpha, beta, k):
    out = np.empty_like(x)
    n_ch = x.shape[1]
    for c in range(n_ch):
        lo, hi = max(0, c - size // 2), min(n_ch - 1, c + (size - 1) // 2)
        s = sum(x[:, j] ** 2 for j in range(lo, hi + 1))
        out[:, c] = x[:, c] / (k + alpha / size * s) ** beta
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 5, 9])
def test_local_response_norm(size):
    rng = np.random.default_rng(size)
    x = rng.standard_normal((2, 6, 3, 4)) * 3
    args = dict(size=size, alpha=0.5, beta=0.75, k=2.0)  # large alpha: the normalisation matters
    np.testing.assert_allclose(F.local_response_norm_forward(x, **args)[0], naive_lrn(x, **args), rtol=1e-12)
    check_pair(F.local_response_norm_forward, F.local_response_norm_backward, (x,), rng, **args)


@pytest.mark.parametrize("shape", [(4, 3, 3, 2), (6, 5)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients(shape, training):
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape) * 2 + 1
    c = shape[1]
    gamma, beta = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    rm, rv = rng.standard_normal(c), rng.uniform(0.5, 2, c)

    def fwd(x, gamma, beta):
        return F.batch_norm_forward(x, gamma, beta, rm.copy(), rv.copy(), training=training)

    check_pair(fwd, F.batch_norm_backward, (x, gamma, beta), rng)


def test_batch_norm_statistics():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 3, 4, 4)) * 3 + 2
    rm, rv = np.zeros(3), np.ones(3)
    out, _ = F.batch_norm_forward(x, np.ones(3), np.zeros(3), rm, rv, training=True, momentum=0.1, eps=0.0)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-10)
    np.testing.assert_allclose(rm, 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(rv, 0.9 + 0.1 * x.var(axis=(0, 2, 3), ddof=1), rtol=1e-12)
    out_eval, _ = F.batch_norm_forward(x, np.ones(3), np.zeros(3), rm, rv, training=False, eps=0.0)
    np.testing.assert_allclose(out_eval, (x - rm[:, None, None]) / np.sqrt(rv[:, None, None]), rtol=1e-12)
    with pytest.raises(ValueError, match="more than one value"):
        F.batch_norm_forward(x[:1, :, :1, :1], np.ones(3), np.zeros(3), training=True)


def two_pass_batch_norm(x, gamma, beta, g, eps):
    """Batch norm forward and backward by the textbook two passes, with exactly rounded sums (math.fsum)."""
    import math

    c = x.shape[1]
    xs = np.moveaxis(x, 1, 0).reshape(c, -1).astype(np.float64)
    gs = np.moveaxis(g, 1, 0).reshape(c, -1)
    m = xs.shape[1]
    mean = np.array([math.fsum(r) / m for r in xs])
    d = xs - mean[:, None]
    var = np.array([math.fsum(r) / m for r in d * d])
    invstd = 1 / np.sqrt(var + eps)
    xhat = d * invstd[:, None]
    sum_g = np.array([math.fsum(r) for r in gs])
    sum_gxhat = np.array([math.fsum(r) for r in gs * xhat])
    dx = (gamma * invstd / m)[:, None] * (m * gs - sum_g[:, None] - xhat * sum_gxhat[:, None])
    shape = (c, x.shape[0]) + x.shape[2:]

    def back(a):
        return np.moveaxis(a.reshape(shape), 0, 1)

    out = back(xhat * gamma[:, None] + beta[:, None])
    return out, mean, var, back(dx), sum_gxhat, sum_g


@pytest.mark.parametrize("offset", [0.0, 1e2, 1e4, 1e6, -1e6])
@pytest.mark.parametrize("shape", [(5, 3, 7, 6), (40, 4)])
def test_batch_norm_is_exact_when_the_mean_dwarfs_the_spread(offset, shape):
    # the one-pass E[x^2] - m^2 this replaces lost log10(offset^2 / var) digits: 8 at 1e4, all of them at 1e8
    rng = np.random.default_rng(12)
    spread = 0.5
    x = rng.standard_normal(shape) * spread + offset
    c = shape[1]
    gamma, beta, g = rng.uniform(0.5, 2, c), rng.standard_normal(c), rng.standard_normal(shape)
    rm, rv = np.full(c, 3.0), np.full(c, 2.0)
    out, cache = F.batch_norm_forward(x, gamma, beta, rm, rv, training=True, momentum=0.25, eps=1e-5)
    dx, dgamma, dbeta = F.batch_norm_backward(g, cache)
    want_out, mean, var, want_dx, want_dgamma, want_dbeta = two_pass_batch_norm(x, gamma, beta, g, 1e-5)
    m = x.size // c
    # float64 holds the mean only to its spacing at the offset (1.2e-10 at 1e6): every quantity centred on it
    # inherits that much, relative to the spread; no more may be lost
    tol = 1e-13 + 4 * np.spacing(abs(offset)) / spread
    np.testing.assert_allclose(cache.mean, mean, rtol=0, atol=tol * spread)
    np.testing.assert_allclose(1 / cache.invstd**2 - 1e-5, var, rtol=1e-12)
    np.testing.assert_allclose(out, want_out, rtol=0, atol=tol * np.abs(want_out).max())
    # beyond its statistics the float64 output loses nothing: (x - mean) first, not x * scale + shift at x's magnitude
    per_channel = (1, c) + (1,) * (x.ndim - 2)
    own = (x - cache.mean.reshape(per_channel)) * (gamma * cache.invstd).reshape(per_channel) + beta.reshape(
        per_channel
    )
    np.testing.assert_allclose(out, own, rtol=0, atol=1e-14 * np.abs(own).max())
    rm_tol = tol * spread + 4 * np.spacing(np.abs(rm).max())
    np.testing.assert_allclose(rm, 0.75 * 3.0 + 0.25 * mean, rtol=0, atol=rm_tol)
    np.testing.assert_allclose(rv, 0.75 * 2.0 + 0.25 * var * m / (m - 1), rtol=1e-12)
    for got, want in ((dx, want_dx), (dgamma, want_dgamma), (dbeta, want_dbeta)):
        np.testing.assert_allclose(got, want, rtol=0, atol=tol * np.abs(want).max())
    # evaluation with the running statistics centres on them the same way
    out_eval, _ = F.batch_norm_forward(x, gamma, beta, rm, rv, training=False, eps=1e-5)
    want_eval = (x - rm.reshape(per_channel)) * (gamma / np.sqrt(rv + 1e-5)).reshape(per_channel)
    want_eval += beta.reshape(per_channel)
    np.testing.assert_allclose(out_eval, want_eval, rtol=0, atol=1e-14 * np.abs(want_eval).max())


@pytest.mark.parametrize("offset", [1e2, 1e4])
def test_batch_norm_statistics_of_float32_are_exact_float64(offset):
    # float32 values are exact in float64, and the statistics are summed there: the variance is as exact as for float64
    rng = np.random.default_rng(13)
    x = (rng.standard_normal((8, 3, 5, 5)) + offset).astype(np.float32)
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    out, cache = F.batch_norm_forward(x, np.ones(3, np.float32), np.zeros(3, np.float32), rm, rv, eps=0.0)
    want_out, mean, var, *_ = two_pass_batch_norm(x, np.ones(3), np.zeros(3), np.zeros(x.shape), 0.0)
    assert out.dtype == np.float32
    np.testing.assert_allclose(1 / cache.invstd**2, var, rtol=1e-12)
    np.testing.assert_allclose(cache.mean, mean, rtol=1e-15)
    # the output rounds once at x's magnitude, as x itself was (float32's spacing at the offset)
    np.testing.assert_allclose(out, want_out, rtol=0, atol=4 * np.spacing(np.float32(offset)) / np.sqrt(var).min())


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 2e-9)])
@pytest.mark.parametrize("first", [1e8, -3e5, 1e4 + 0.25])
def test_batch_norm_statistics_hold_when_the_first_value_is_an_outlier(dtype, rtol, first):
    """Float64 statistics take two passes (the mean first); float32's one pass sums around each channel's first
    value, which lies at most sqrt(M) standard deviations from the mean: the variance loses at most about M
    times float64's rounding, far below float32's own."""
    rng = np.random.default_rng(14)
    x = (rng.standard_normal((64, 2, 32, 32)) + 1e4).astype(dtype)  # M = 65,536 values a channel
    x[0, :, 0, 0] = first
    _, cache = F.batch_norm_forward(x, np.ones(2, dtype), np.zeros(2, dtype), eps=0.0)
    values = np.moveaxis(x, 1, 0).reshape(2, -1).astype(np.float64)
    sd = values.std(axis=1)
    np.testing.assert_allclose(cache.mean / sd, values.mean(axis=1) / sd, rtol=0, atol=rtol)
    np.testing.assert_allclose(1 / cache.invstd**2, values.var(axis=1), rtol=rtol)


def test_dropout():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((50, 40))
    out, mask = F.dropout_forward(x, 0.3, rng=0)
    kept = mask != 0
    assert abs(kept.mean() - 0.7) < 0.03
    np.testing.assert_allclose(out[kept], x[kept] / 0.7)
    assert np.all(out[~kept] == 0)
    np.testing.assert_array_equal(F.dropout_backward(np.ones_like(x), mask), mask)
    # the mask is fixed given the rng state: then dropout is linear and its gradient exact
    check_pair(lambda a: F.dropout_forward(a, 0.3, rng=1), F.dropout_backward, (x[:4, :5].copy(),), rng)
    out_eval, cache = F.dropout_forward(x, 0.3, training=False)
    np.testing.assert_array_equal(out_eval, x)
    for p in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="p must lie in"):
            F.dropout_forward(x, p)


# --------------------------------------------------------------------------
# softmax cross-entropy
# --------------------------------------------------------------------------


def test_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(10)
    z, y = rng.standard_normal((6, 4)) * 3, rng.integers(0, 4, 6)
    loss, cache = F.cross_entropy_forward(z, y)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(6), y])), rel=1e-12)
    d = F.cross_entropy_backward(cache)
    assert_grad(d, lambda: F.cross_entropy_forward(z, y)[0], z, rng, "logits")
    np.testing.assert_allclose(d.sum(axis=1), 0, atol=1e-15)


def test_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1e4, 0.0, -1e4], [5e3, 5e3, 0.0]])
    loss, cache = F.cross_entropy_forward(z, np.array([0, 1]))
    assert loss == pytest.approx(np.log(2) / 2)
    assert np.isfinite(F.cross_entropy_backward(cache)).all()
    np.testing.assert_allclose(F.softmax(z).sum(axis=1), 1)


def test_cross_entropy_bad_inputs():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 4\).*\[0, 4\]"):
        F.cross_entropy_forward(z, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="labels must lie in"):
        F.cross_entropy_forward(z, np.array([0, -1, 1]))
    with pytest.raises(TypeError, match="labels must be an integer array"):
        F.cross_entropy_forward(z, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match="labels must be an integer array"):
        F.cross_entropy_forward(z, np.array([True, False, True]))
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        F.cross_entropy_forward(z, np.array([0, 1]))
    bad = z.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="logits must be finite"):
        F.cross_entropy_forward(bad, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="logits must be 2-D"):
        F.cross_entropy_forward(np.zeros(4), np.array([0]))


# ----------------------------------------------------------------------------- argument checks (issue 11)


def test_a_backward_pass_refuses_another_pass_cache_by_name():
    from v1sim.errors import InputTypeError

    x = np.random.default_rng(0).random((2, 3, 6, 6)).astype(np.float32)
    _, avg_cache = F.avg_pool2d_forward(x, 2)
    _, lin_cache = F.linear_forward(x.reshape(2, -1), np.ones((4, 108), np.float32))
    g = np.ones((2, 3, 3, 3), np.float32)
    for backward, cache in [
        (F.max_pool2d_backward, avg_cache),
        (F.conv2d_backward, lin_cache),
        (F.batch_norm_backward, object()),
        (F.local_response_norm_backward, "cache"),
        (F.tanh_backward, (1, 2)),
        (F.relu_backward, None),
        (F.global_avg_pool2d_backward, {}),
    ]:
        with pytest.raises(InputTypeError, match="cache must be the cache returned by") as exc:
            backward(g, cache)
        assert exc.value.argument == "cache"
    np.testing.assert_allclose(F.avg_pool2d_backward(g, avg_cache), np.full(x.shape, 0.25))  # its own cache works


def test_batch_norm_handles_an_empty_batch_and_names_too_few_values():
    from v1sim.errors import InputError

    gamma, beta = np.ones(3, np.float32), np.zeros(3, np.float32)
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    empty = np.zeros((0, 3, 4, 4), np.float32)
    out, cache = F.batch_norm_forward(empty, gamma, beta, rm, rv, training=False)
    assert out.shape == empty.shape
    dx, dgamma, dbeta = F.batch_norm_backward(empty, cache)
    assert dx.shape == empty.shape and np.all(dgamma == 0) and np.all(dbeta == 0)
    for x in (empty, np.ones((1, 3, 1, 1), np.float32), np.ones((1, 3), np.float32)):
        with pytest.raises(InputError, match="more than one value per channel") as exc:
            F.batch_norm_forward(x, gamma, beta, rm, rv, training=True)
        assert exc.value.argument == "x"
    for kwargs, name in [
        (dict(eps=-1.0), "eps"),
        (dict(eps=1e300), "eps"),
        (dict(eps=np.ones(3)), "eps"),
        (dict(momentum=2.0), "momentum"),
        (dict(training="yes"), "training"),
    ]:
        with pytest.raises(InputError) as exc:
            F.batch_norm_forward(np.ones((2, 3), np.float32), gamma, beta, rm, rv, **kwargs)
        assert exc.value.argument == name
    with pytest.raises(InputError) as exc:  # training updates the buffers in place: a list cannot be one
        F.batch_norm_forward(np.ones((2, 3), np.float32), gamma, beta, [0.0, 0.0, 0.0], rv)
    assert exc.value.argument == "running_mean"


def test_local_response_norm_refuses_constants_its_dtype_cannot_hold():
    from v1sim.errors import InputError

    x = np.random.default_rng(1).random((1, 4, 3, 3)).astype(np.float32)
    for kwargs, name in [
        (dict(k=1e-300), "k"),
        (dict(k=1e300), "k"),
        (dict(k=0.0), "k"),
        (dict(alpha=1e300), "alpha"),
        (dict(beta=-0.5), "beta"),
        (dict(k=1e-30, beta=10.0), "beta"),
        (dict(size=0), "size"),
    ]:
        with pytest.raises(InputError) as exc:
            F.local_response_norm_forward(x, **kwargs)
        assert exc.value.argument == name
    out, _ = F.local_response_norm_forward(x.astype(np.float64), k=1e-300)  # fine in float64
    assert np.isfinite(out).all()


@pytest.mark.parametrize("axis", [2, -3, 10**12, "1", 1.0, None])
def test_softmax_names_a_bad_axis(axis):
    from v1sim.errors import InputError

    with pytest.raises(InputError) as exc:
        F.softmax(np.zeros((4, 3)), axis=axis)
    assert exc.value.argument == "axis"
    np.testing.assert_allclose(F.log_softmax(np.zeros((4, 3)), axis=-2), np.full((4, 3), -np.log(4)))


def test_non_finite_float_inputs_propagate_as_documented():
    """The engine does not scan float arrays for NaN/inf (module docstring): they propagate as in PyTorch."""
    x = np.full((1, 2, 2, 2), np.nan, np.float32)
    assert np.isnan(F.relu_forward(x)[0]).all() and np.isnan(F.global_avg_pool2d_forward(x)[0]).all()
    with pytest.raises(ValueError, match="logits must be finite"):  # the loss is where they are caught
        F.cross_entropy_forward(x.reshape(1, -1), np.array([0]))
