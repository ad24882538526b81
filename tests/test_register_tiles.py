"""Register tiles (v1sim.kernels.register_tiles): LLVM vector code emitted from Numba intrinsics.

Each block function against numpy's float64 sums (every tile shape the host compiles, lengths that are not
whole tiles, taps with their own offsets); the packing of the weights; the register width read from Numba's
target, and the tiles compiled for narrower targets (AVX2, SSE) in a subprocess; a training curve of a small
ResNet-style network on the tiles against BLAS's products.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from training_curves import conv_net, quadrant_images, sgd_curve

from v1sim.kernels import bank_tiles, conv_blocks, conv_shifted, correlate, get, register_tiles
from v1sim.kernels.register_tiles import ACCUMULATORS, LANES_BYTES, REGISTER_BYTES, ROWS


def _correlate_reference(x, xbase, xoffs, ldx, w_rows, n_in, length):
    """out[r, j] = sum_i sum_c W[r, i*n_in + c] * x[xbase + xoffs[i] + c*ldx + j] in float64."""
    out = np.zeros((w_rows.shape[0], length))
    for i, off in enumerate(xoffs):
        for c in range(n_in):
            start = xbase + off + c * ldx
            out += np.outer(w_rows[:, i * n_in + c], x[start : start + length])
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_out, n_in, length", [(ROWS, 3, 1), (2 * ROWS, 5, 77), (3, 4, 200), (ROWS + 1, 1, 64)])
def test_correlate_block_sums_every_tap_and_channel(dtype, n_out, n_in, length):
    rng = np.random.default_rng(n_out * 100 + length)
    lanes, xoffs, ldx = LANES_BYTES // np.dtype(dtype).itemsize, np.array([0, 7, 31, 2]), length + 50
    x = rng.standard_normal(n_in * ldx + 200).astype(dtype)  # room for the last tile's overrun
    w = rng.standard_normal((n_out, xoffs.size * n_in)).astype(dtype)
    packed, wblock = register_tiles.pack_rows(w)
    rows = -(-n_out // ROWS) * ROWS
    ldo = -(-length // lanes) * lanes + 3
    got = np.full((rows, ldo), np.nan, dtype)
    woffs = np.arange(xoffs.size) * n_in * ROWS
    register_tiles.correlate_block(x, 5, xoffs, ldx, (packed, wblock, woffs), n_in, got, 0, length)
    want = _correlate_reference(x.astype(float), 5, xoffs, ldx, w.astype(float), n_in, length)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(got[:n_out, :length], want, rtol=tol, atol=tol * np.abs(want).max())
    assert not got[n_out:rows, :length].any()  # the packing's zero rows give zero rows
    assert np.isnan(got[:, ldo - 3 :]).all()  # nothing written past the whole tiles


def test_pack_rows_groups_rows_innermost_with_zero_rows_past_the_last():
    w = np.arange(3 * 4, dtype=float).reshape(3, 4) + 1
    packed, wblock = register_tiles.pack_rows(w)
    groups = -(-3 // ROWS)
    assert wblock == 4 * ROWS and packed.shape == (groups * ROWS * 4,)
    as_groups = packed.reshape(groups, 4, ROWS)  # group, (tap, input), row
    np.testing.assert_array_equal(as_groups[0, :, :3], w.T)
    assert not as_groups[0, :, 3:].any()


def _gradient_widths(itemsize):
    lanes = REGISTER_BYTES // itemsize
    return [(g * lanes, ACCUMULATORS // g) for g in (1, 2, 4)]  # (output channels, rows) per register count


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("which", [0, 1, 2, "few"])
def test_gradient_block_for_one_two_and_four_registers_of_output_channels(dtype, which):
    """Two tiles each way; or one register of output channels against one of the smaller tiles' rows (six
    input channels, LeNet-5's C3)."""
    if which == "few":
        n_g, n_x = REGISTER_BYTES // np.dtype(dtype).itemsize, register_tiles.FEW_ROWS[0]
    else:
        n_g, rows = _gradient_widths(np.dtype(dtype).itemsize)[which]
        n_g, n_x = 2 * n_g, 2 * rows
    assert register_tiles.gradient_eligible(n_x, n_g, np.dtype(dtype).itemsize)
    rng = np.random.default_rng(3 if which == "few" else which)
    length, ldx, xoffs = 45, 60, np.array([0, 3, 11])
    x = rng.standard_normal(n_x * ldx + 20).astype(dtype)
    gt = rng.standard_normal((length, n_g)).astype(dtype)
    out = rng.standard_normal(xoffs.size * n_x * n_g).astype(dtype)
    before = out.astype(float).reshape(xoffs.size, n_x, n_g)
    register_tiles.gradient_block(x, 2, xoffs, ldx, n_x, gt, length, out)
    xs = np.stack([[x[2 + off + a * ldx : 2 + off + a * ldx + length] for a in range(n_x)] for off in xoffs])
    want = before + xs.astype(float) @ gt.astype(float)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out.reshape(want.shape), want, rtol=tol, atol=tol * np.abs(want).max())


def test_gradient_tiles_need_whole_registers_of_output_channels_and_whole_tiles_of_rows():
    lanes = REGISTER_BYTES // 4
    assert register_tiles.gradient_eligible(ACCUMULATORS, lanes, 4)
    assert not register_tiles.gradient_eligible(ACCUMULATORS, lanes + 1, 4)  # a partial register
    assert not register_tiles.gradient_eligible(ACCUMULATORS - 1, lanes, 4)  # a partial tile of rows
    assert all(register_tiles.gradient_eligible(rows, lanes, 4) for rows in register_tiles.FEW_ROWS)
    assert not register_tiles.gradient_eligible(register_tiles.FEW_ROWS[0], 2 * lanes, 4)  # only with one register


def test_bank_tiles_choose_rows_of_pixels_that_waste_least():
    lanes = REGISTER_BYTES // 4
    registers, rows, alternative = bank_tiles.bank_shape(2 * lanes, 18, 4)  # the digits bank: 32 filters
    assert registers == 2 and -(-18 // rows) * rows <= -(-18 // (ACCUMULATORS // 2)) * (ACCUMULATORS // 2)
    assert bank_tiles.bank_shape(lanes + 1, 18, 4) == (0, 0, False)  # a partial register: the plain loops
    assert bank_tiles.bank_shape(4 * lanes, 7, 4)[0] == 4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("wo, n_store", [(18, None), (7, None), (18, -3), (40, -1)])
def test_bank_block_writes_each_filters_pixels_channel_major_and_nothing_else(dtype, wo, n_store):
    """Every tile shape (filters in 1, 2 or 4 registers; all or three quarters of the accumulators in rows of
    pixels), rows longer than a register's lanes (float64), partial last tiles (``wo`` not whole rows) and
    filters past the bank's end (``n_store`` below the padded ``n_k``): the sums of the naive loops at
    ``out[obase + k*plane + y*wo + p]``, and the rest of ``out`` untouched."""
    lanes = REGISTER_BYTES // np.dtype(dtype).itemsize
    rng = np.random.default_rng(wo)
    for registers in (1, 2, 4):
        n_k = registers * lanes
        stored = n_k + n_store if n_store else n_k
        for alternative in (False, True):
            rows = ACCUMULATORS // registers if not alternative else max(1, 3 * ACCUMULATORS // (4 * registers))
            c, kh, kw, wp, n_rows, stride = 2, 3, 4, 2 * wo + 8, 3, (1 if registers != 2 else 2)
            x = rng.standard_normal(c * 6 * wp + rows * stride + wo * stride + 64).astype(dtype)
            wk = rng.standard_normal(c * kh * kw * n_k).astype(dtype)
            xoffs = (np.arange(c)[:, None] * 6 * wp + np.arange(kh)[None, :] * wp).reshape(-1)
            woffs = np.arange(c * kh) * kw * n_k
            plane, obase = n_rows * wo + 5, 3
            out = np.full(obase + n_k * plane + 7, np.nan, dtype)
            bank_tiles.bank_block(
                x,
                1,
                xoffs,
                kw,
                wk,
                woffs,
                (registers, rows, alternative),
                (wp, stride),
                out,
                obase,
                plane,
                wo,
                n_rows,
                stored,
            )
            want = np.full_like(out, np.nan)
            w4 = wk.reshape(c * kh, kw, n_k)
            for y in range(n_rows):
                for p in range(wo):
                    at = 1 + y * wp + p * stride
                    sums = sum(x[at + xoffs[i] + v] * w4[i, v] for i in range(c * kh) for v in range(kw))
                    want[obase + np.arange(stored) * plane + y * wo + p] = sums[:stored]
            tol = 1e-12 if dtype == np.float64 else 1e-4
            np.testing.assert_allclose(out, want, rtol=tol, atol=tol, equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("tasks", [correlate.BANK_TASKS, 10**6])
@pytest.mark.parametrize(
    "k, c, kh, kw, stride",
    [(16, 1, 11, 11, (1, 1)), (32, 3, 5, 4, (2, 1)), (64, 2, 3, 3, (1, 3)), (20, 2, 4, 3, (1, 1))],
)
def test_bank_tiles_equal_the_filter_vectorised_loops(monkeypatch, dtype, tasks, k, c, kh, kw, stride):
    """The tiles sum each output in the loops' order (channel, kernel row, kernel column): equal to rounding
    (the tiles fuse each multiply-add), the same bits on one thread and on two; whole images or one output row
    a task (``tasks``), filters that fill whole registers or are padded to them (20)."""
    monkeypatch.setattr(correlate, "BANK_TASKS", tasks)
    rng = np.random.default_rng(k + c)
    x, w = rng.standard_normal((5, c, 23, 21)).astype(dtype), rng.standard_normal((k, c, kh, kw)).astype(dtype)
    ho, wo = (23 - kh) // stride[0] + 1, (21 - kw) // stride[1] + 1
    want = np.empty((5, k, ho, wo), dtype)
    get("correlate_valid_bank", "cpu")(x, np.ascontiguousarray(w.transpose(1, 2, 3, 0)), *stride, want)
    got = {device: np.full_like(want, np.nan) for device in ("cpu", "parallel")}  # every output written
    for device, out in got.items():
        correlate._correlate_bank_tiles(x, w, stride, out, device)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(got["cpu"], want, rtol=tol, atol=tol * np.abs(want).max())
    np.testing.assert_array_equal(got["cpu"], got["parallel"])


def test_register_width_follows_numbas_target(monkeypatch):
    from numba.core import config

    monkeypatch.setattr(config, "CPU_NAME", "haswell")
    monkeypatch.setattr(config, "CPU_FEATURES", "+avx,+avx2,+fma,-avx512f")
    assert register_tiles._register_bytes() == 32
    monkeypatch.setattr(config, "CPU_FEATURES", "+avx512f,+avx2")
    assert register_tiles._register_bytes() == 64
    monkeypatch.setattr(config, "CPU_NAME", "generic")
    monkeypatch.setattr(config, "CPU_FEATURES", None)  # a named target without features: no wider than SSE
    assert register_tiles._register_bytes() == 16
    monkeypatch.setattr(config, "CPU_NAME", "host")  # the host's own features, as with no name
    host = register_tiles._register_bytes()
    monkeypatch.setattr(config, "CPU_NAME", None)
    assert host == register_tiles._register_bytes()

    def unreadable():
        raise RuntimeError("no features on this host")

    monkeypatch.setattr(register_tiles.llvm, "get_host_cpu_features", unreadable)
    assert register_tiles._register_bytes() == 16  # unknown features: the narrowest tiles


_NARROW = """
import numpy as np
from v1sim.kernels import register_tiles as t
assert t.REGISTER_BYTES == {expect}, t.REGISTER_BYTES
rng = np.random.default_rng(0)
x = rng.standard_normal(4 * 90 + 300)
w = rng.standard_normal((t.ROWS, 2 * 4))
packed, wblock = t.pack_rows(w)
out = np.zeros((t.ROWS, 128))
t.correlate_block(x, 0, np.array([0, 9]), 90, (packed, wblock, np.array([0, 4 * t.ROWS])), 4, out, 0, 50)
pairs = [(i, off, c) for i, off in enumerate((0, 9)) for c in range(4)]
want = sum(np.outer(w[:, i * 4 + c], x[off + c * 90 : off + c * 90 + 50]) for i, off, c in pairs)
assert np.allclose(out[:, :50], want, rtol=1e-12, atol=1e-12)
lanes = t.REGISTER_BYTES // 8
gt, dw = rng.standard_normal((33, lanes)), np.zeros(t.ACCUMULATORS * lanes)
t.gradient_block(x, 1, np.array([0]), 40, t.ACCUMULATORS, gt, 33, dw)
xs = np.stack([x[1 + a * 40 : 1 + a * 40 + 33] for a in range(t.ACCUMULATORS)])
assert np.allclose(dw.reshape(t.ACCUMULATORS, lanes), xs @ gt, rtol=1e-12, atol=1e-12)
from v1sim.kernels import correlate, get
for k in (2 * lanes, 3 * lanes + 1):  # whole registers, and filters padded to them
    xb, wb = rng.standard_normal((3, 2, 13, 21)), rng.standard_normal((k, 2, 3, 5))
    want = np.empty((3, k, 11, 17))
    get("correlate_valid_bank", "cpu")(xb, np.ascontiguousarray(wb.transpose(1, 2, 3, 0)), 1, 1, want)
    got = np.full_like(want, np.nan)
    correlate._correlate_bank_tiles(xb, wb, (1, 1), got, "cpu")
    assert np.allclose(got, want, rtol=1e-12, atol=1e-12)
print("ok", t.REGISTER_BYTES)
"""


@pytest.mark.parametrize(
    "name, features, expect",
    [("haswell", "+avx,+avx2,+fma,+sse4.2,+popcnt", 32), ("generic", None, 16)],
)
def test_tiles_compiled_for_a_narrower_target_give_the_same_sums(tmp_path, name, features, expect):
    """The vector types split into the target's registers (AVX2: 32 bytes, SSE: 16): the same sums. Compiled
    in a fresh process with its own cache, so this machine's cache keeps its own code."""
    env = dict(os.environ, NUMBA_CPU_NAME=name, NUMBA_CACHE_DIR=str(tmp_path))
    if features is None:
        env.pop("NUMBA_CPU_FEATURES", None)
    else:
        env["NUMBA_CPU_FEATURES"] = features
    done = subprocess.run(
        [sys.executable, "-c", _NARROW.format(expect=expect)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["ok", str(expect)]


def _resnet_style_curve(steps=12):
    """Losses and weights of a small ResNet-style stack (16 and 32 channels, a stride-2 layer) in float32."""
    x, y = quadrant_images(16, 1, 16, seed=5)
    return sgd_curve(conv_net(1, [(16, 1), (16, 1), (32, 2), (32, 1)]), x, y, steps)


def test_a_resnet_style_training_curve_on_register_tiles_follows_blas_products(monkeypatch):
    """12 float32 SGD steps: the tiles' curve stays within float32 rounding of BLAS's products' (the sums'
    order differs: one accumulator over all taps and channels against BLAS's blocks)."""
    layer = conv_blocks.plan((16, 16, 16, 16), (16, 16, 3, 3), (1, 1), (1, 1), 1, 16, 16, 4)
    assert layer.shifted is not None and layer.shifted.tiles  # the layers below run on the tiles
    tiles, w_tiles = _resnet_style_curve()
    monkeypatch.setattr(conv_shifted, "MAX_TILE_CHANNELS", 0)
    assert not conv_blocks.plan((16, 16, 16, 16), (16, 16, 3, 3), (1, 1), (1, 1), 1, 16, 16, 4).shifted.tiles
    blas, w_blas = _resnet_style_curve()
    assert blas[-1] < 0.9 * blas[0]  # it learns: the comparison is over a real curve
    np.testing.assert_allclose(tiles, blas, rtol=1e-5, atol=0)
    for a, b in zip(w_tiles, w_blas):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * max(1.0, np.abs(b).max()))


def test_resnet20_in_float64_trains_the_same_on_register_tiles_and_blas(monkeypatch):
    """The whole network, 4 SGD steps in float64: the tiles' losses and weights equal BLAS's to 1e-12 (in float32
    the same two paths drift apart by rounding within a few steps: ResNet-20's training is chaotic there)."""
    from v1sim.nn import models

    def run():
        rng = np.random.default_rng(0)
        x, y = rng.random((8, 1, 32, 32)), rng.integers(0, 10, 8)
        model = models.build("resnet20", in_channels=1, num_classes=10, rng=0)
        return sgd_curve(model, x, y, 4, dtype=np.float64, weight_decay=1e-4)

    assert conv_blocks.plan((8, 16, 32, 32), (16, 16, 3, 3), (1, 1), (1, 1), 1, 32, 32, 8).shifted.tiles
    tiles, w_tiles = run()
    monkeypatch.setattr(conv_shifted, "MAX_TILE_CHANNELS", 0)
    blas, w_blas = run()
    assert blas[-1] < blas[0]
    np.testing.assert_allclose(tiles, blas, rtol=1e-12, atol=0)
    for a, b in zip(w_tiles, w_blas):
        assert a.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * max(1.0, np.abs(b).max()))
