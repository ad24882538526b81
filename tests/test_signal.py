"""v1sim.signal against scipy.signal, scipy.ndimage and the naive references."""

from __future__ import annotations

import naive
import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

import v1sim
from v1sim.kernels import correlate
from v1sim.signal import output_size

MODES = ("full", "same", "valid")
BOUNDARIES = ("fill", "wrap", "symm")
BANK_MODES = ("reflect", "nearest", "mirror", "wrap", "constant")
FILL = 1.5  # a non-zero fillvalue, so 'fill' differs from zero padding


# --------------------------------------------------------------------------
# correlate2d / convolve2d == scipy.signal
# --------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    kh=st.integers(1, 6),
    kw=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    device=st.sampled_from(["cpu", "parallel"]),
)
def test_correlate2d_convolve2d_match_scipy(h, w, kh, kw, seed, device):
    rng = np.random.default_rng(seed)
    image, kernel = rng.standard_normal((h, w)), rng.standard_normal((kh, kw))
    image32, kernel32 = image.astype(np.float32), kernel.astype(np.float32)
    scale = np.abs(kernel).sum() * max(np.abs(image).max(), FILL)
    pairs = ((v1sim.correlate2d, scipy.signal.correlate2d), (v1sim.convolve2d, scipy.signal.convolve2d))
    for mode in MODES:
        if mode == "valid" and (kh > h or kw > w):
            continue
        for boundary in BOUNDARIES:
            for ours, ref in pairs:
                want = ref(image, kernel, mode=mode, boundary=boundary, fillvalue=FILL)
                got = ours(image, kernel, mode=mode, boundary=boundary, fillvalue=FILL, device=device)
                assert got.dtype == np.float64
                np.testing.assert_allclose(
                    got, want, rtol=0, atol=1e-10 * scale, err_msg=f"{ours.__name__} {mode} {boundary}"
                )
                # float32 in -> float32 out, compared with scipy on the same (rounded) values
                want32 = ref(
                    image32.astype(np.float64),
                    kernel32.astype(np.float64),
                    mode=mode,
                    boundary=boundary,
                    fillvalue=FILL,
                )
                got32 = ours(image32, kernel32, mode=mode, boundary=boundary, fillvalue=FILL, device=device)
                assert got32.dtype == np.float32
                np.testing.assert_allclose(
                    got32, want32, rtol=0, atol=1e-5 * scale, err_msg=f"{ours.__name__} {mode} {boundary} f32"
                )


def test_correlate2d_does_not_mutate_and_accepts_lists():
    image = np.arange(20.0).reshape(4, 5)
    before = image.copy()
    want = scipy.signal.correlate2d(image, [[1, 2], [3, 4]], mode="same")
    got = v1sim.correlate2d(image.tolist(), [[1, 2], [3, 4]], mode="same")
    np.testing.assert_array_equal(image, before)
    assert got.dtype == np.float64  # Python floats are float64, which is kept
    np.testing.assert_allclose(got, want, rtol=1e-12)
    got_int = v1sim.correlate2d(image.astype(int).tolist(), [[1, 2], [3, 4]], mode="same")
    assert got_int.dtype == np.float32  # integers are promoted to float32
    np.testing.assert_allclose(got_int, want, rtol=1e-6)


def test_convolve_is_correlate_with_flipped_kernel():
    rng = np.random.default_rng(0)
    image, kernel = rng.standard_normal((9, 8)), rng.standard_normal((3, 4))
    for mode in ("full", "valid"):
        np.testing.assert_allclose(
            v1sim.convolve2d(image, kernel, mode=mode),
            v1sim.correlate2d(image, kernel[::-1, ::-1], mode=mode),
            rtol=0,
            atol=1e-12,
        )


# --------------------------------------------------------------------------
# apply_bank == scipy.ndimage.correlate per image x filter
# --------------------------------------------------------------------------


def _ndimage_bank(images, bank, mode, cval):
    return np.stack([np.stack([ndi.correlate(img, k, mode=mode, cval=cval) for k in bank]) for img in images])


@pytest.mark.parametrize("method", ("direct", "gemm", "fft", "auto"))
@pytest.mark.parametrize("mode", BANK_MODES)
@pytest.mark.parametrize(
    "n_filters,kshape",
    [(3, (4, 5)), (9, (3, 3)), (2, (6, 2)), (1, (1, 1)), (2, (13, 4))],  # even/odd; >=8 filters; kernel > image
    ids=["4x5", "bank9-3x3", "6x2", "1x1", "13x4-taller-than-image"],
)
def test_apply_bank_matches_ndimage(method, mode, n_filters, kshape):
    rng = np.random.default_rng(hash((n_filters, kshape)) % 2**32)
    images = rng.standard_normal((2, 11, 10))
    bank = rng.standard_normal((n_filters,) + kshape)
    want = _ndimage_bank(images, bank, mode, cval=0.75)
    got = v1sim.apply_bank(images, bank, mode=mode, cval=0.75, method=method)
    assert got.shape == (2, n_filters, 11, 10) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
    single = v1sim.apply_bank(images[1], bank, mode=mode, cval=0.75, method=method, device="cpu")
    assert single.shape == (n_filters, 11, 10)
    np.testing.assert_allclose(single, want[1], rtol=0, atol=1e-10)


@pytest.mark.parametrize("method", ("direct", "gemm", "fft"))
def test_apply_bank_float32_and_single_kernel(method):
    rng = np.random.default_rng(1)
    image = rng.standard_normal((12, 9)).astype(np.float32)
    kernel = rng.standard_normal((5, 4)).astype(np.float32)
    got = v1sim.apply_bank(image, kernel, method=method)  # a (kh, kw) bank is one filter
    assert got.shape == (1, 12, 9) and got.dtype == np.float32
    want = ndi.correlate(image.astype(np.float64), kernel.astype(np.float64), mode="reflect")
    np.testing.assert_allclose(got[0], want, rtol=0, atol=1e-5 * np.abs(kernel).sum() * np.abs(image).max())


class _StandInBank:
    """The duck type apply_bank relies on: ``.kernels`` and a ``_spectra`` cache dict."""

    def __init__(self, kernels):
        self.kernels = kernels
        self._spectra = {}


def _filterbank_class():
    try:
        from v1sim.filters import FilterBank
    except Exception:  # the filters module is written elsewhere; may not exist yet
        return None
    return FilterBank


@pytest.mark.parametrize("kind", ("stand-in", "FilterBank"))
def test_fft_path_fills_and_reuses_spectrum_cache(kind):
    rng = np.random.default_rng(2)
    kernels_ = rng.standard_normal((4, 5, 6)).astype(np.float32)
    if kind == "FilterBank":
        cls = _filterbank_class()
        if cls is None:
            pytest.skip("v1sim.filters.FilterBank not available")
        bank = cls(kernels_)
    else:
        bank = _StandInBank(kernels_)
    images = rng.standard_normal((2, 14, 13)).astype(np.float32)
    assert len(bank._spectra) == 0
    first = v1sim.apply_bank(images, bank, method="fft")
    assert len(bank._spectra) == 1  # filled on the first call
    second = v1sim.apply_bank(images, bank, method="fft")
    assert len(bank._spectra) == 1  # reused, not recomputed under a new key
    np.testing.assert_array_equal(second, first)
    want = _ndimage_bank(images.astype(np.float64), kernels_.astype(np.float64), "reflect", 0.0)
    np.testing.assert_allclose(first, want, rtol=0, atol=1e-4)
    # the cached spectra are what the next call uses: poison them and the output follows
    (key,) = bank._spectra
    bank._spectra[key] = np.zeros_like(bank._spectra[key])
    np.testing.assert_array_equal(v1sim.apply_bank(images, bank, method="fft"), 0)


# --------------------------------------------------------------------------
# correlate_batch == naive
# --------------------------------------------------------------------------

BATCH_CASES = [
    # (N, C, H, W, K, kh, kw, stride, padding)
    (2, 3, 9, 8, 4, 3, 3, (1, 1), (1, 1)),
    (1, 2, 11, 10, 3, 3, 2, (2, 2), (0, 0)),
    (2, 2, 7, 9, 9, 5, 4, (1, 2), (2, 1)),
    (1, 1, 6, 6, 2, 6, 6, (1, 1), (0, 0)),
    (1, 3, 5, 7, 2, 2, 3, (3, 1), (0, 2)),
    # banks of whole vector registers of filters: "direct" runs on register tiles (1, 2 and 4 registers)
    (2, 2, 9, 10, 16, 3, 3, (1, 1), (1, 1)),
    (3, 1, 20, 20, 32, 11, 11, (1, 1), (0, 0)),
    (2, 3, 13, 12, 64, 5, 4, (2, 1), (1, 2)),
    # a bank padded with zero filters to whole registers (24 filters in 32 lanes on AVX-512), strided
    (2, 2, 12, 15, 24, 4, 5, (1, 2), (1, 0)),
]


@pytest.mark.parametrize(
    "case,method",
    [(c, m) for c in BATCH_CASES for m in ("auto", "direct", "gemm", "fft") if m != "fft" or c[7] == (1, 1)],
)  # fft is stride-1 only (see test_fft_with_stride_raises)
@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_correlate_batch_matches_naive(case, method, dtype):
    n, c, h, w, k, kh, kw, stride, padding = case
    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    weight = rng.standard_normal((k, c, kh, kw)).astype(dtype)
    bias = rng.standard_normal(k).astype(dtype)
    got = v1sim.correlate_batch(x, weight, bias, stride=stride, padding=padding, method=method)
    want = naive.correlate(x, weight, stride, padding, bias)
    assert got.dtype == dtype and got.shape == want.shape
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)
    no_bias = v1sim.correlate_batch(x, weight, stride=stride, padding=padding, method=method, device="cpu")
    np.testing.assert_allclose(no_bias, want - bias[None, :, None, None], rtol=0, atol=tol)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_direct_loops_run_banks_on_padded_tiles_or_rows(dtype):
    """A bank that half-fills its registers goes to the tiles (padded with zero filters), a lone filter to the
    row loops; whichever runs equals the naive sums."""
    itemsize = np.dtype(dtype).itemsize
    lanes = correlate.tile_filters(1, itemsize)  # one filter rounds up to one register's lanes
    assert correlate.tile_filters(lanes + 1, itemsize) == 2 * lanes
    assert correlate.direct_variant(lanes + 1, 40, itemsize)[0] == "tiles"
    assert correlate.direct_variant(1, 256, itemsize)[0] == "rows"
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 2, 9, 44)).astype(dtype)
    for k in (1, lanes - 1, lanes + 1):
        w = rng.standard_normal((k, 2, 3, 5)).astype(dtype)
        got = v1sim.correlate_batch(x, w, method="direct")
        np.testing.assert_allclose(got, naive.correlate(x, w, (1, 1), (0, 0)), rtol=0, atol=1e-4)


@pytest.mark.parametrize("method", ("direct", "gemm"))
def test_subnormal_weights_are_flushed_to_zero(method):
    """A Gaussian's tails underflow to subnormal float32 (10x slower multiply-adds); the direct and BLAS paths
    drop them, whose products vanish beside any normal term, and leave the caller's weights alone."""
    tiny = np.finfo(np.float32).tiny
    w = np.array([[1.0, tiny / 4, -tiny / 1024], [0.0, tiny, -0.5]], np.float32)
    flushed = correlate.flush_subnormal(w)
    np.testing.assert_array_equal(flushed, [[1.0, 0.0, 0.0], [0.0, tiny, -0.5]])
    assert w[0, 1] == np.float32(tiny / 4)  # a copy, not the caller's array
    normal = np.array([[1.0, 2.0]], np.float32)
    assert correlate.flush_subnormal(normal) is normal
    rng = np.random.default_rng(3)
    x = rng.random((2, 1, 12, 12)).astype(np.float32)
    bank = rng.standard_normal((16, 1, 5, 5)).astype(np.float32)
    bank[:, :, 0, :] = tiny / 8  # a row of subnormals on every filter
    got = v1sim.correlate_batch(x, bank, method=method)
    want = naive.correlate(x.astype(np.float64), bank.astype(np.float64), (1, 1), (0, 0))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_cost_model_ranks_fft_for_big_kernels_and_direct_for_small():
    """The ranking the rates give: FFT for the Leung-Malik bank (48 x 49²) on a 512² image, direct loops for
    the digits bank (32 x 11² on 28² digits), direct rows for one small filter."""
    assert correlate.choose_method((1, 1, 560, 560), (48, 1, 49, 49), (1, 1), False) == "fft"
    assert correlate.choose_method((256, 1, 28, 28), (32, 1, 11, 11), (1, 1), False) == "direct"
    assert correlate.choose_method((1, 1, 516, 516), (1, 1, 5, 5), (1, 1), False) == "direct"


def test_correlate_batch_does_not_mutate_inputs():
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    copies = [a.copy() for a in (x, w, b)]
    v1sim.correlate_batch(x, w, b, padding=1)
    for a, c in zip((x, w, b), copies):
        np.testing.assert_array_equal(a, c)


def test_fft_with_stride_raises():
    x, w = np.ones((1, 1, 8, 8)), np.ones((1, 1, 3, 3))
    with pytest.raises(ValueError, match="stride"):
        v1sim.correlate_batch(x, w, stride=2, method="fft", device="cpu")


# --------------------------------------------------------------------------
# Output size: W2 = (W1 - F + 2P)/S + 1
# --------------------------------------------------------------------------


def test_output_size_formula_equals_counted_windows():
    for n in range(1, 12):
        for f in range(1, n + 5):
            for s in range(1, 5):
                for p in range(0, 3):
                    if f > n + 2 * p:
                        with pytest.raises(ValueError):
                            output_size(n, f, s, p)
                        continue
                    assert output_size(n, f, s, p) == naive.out_len(n, f, s, p), (n, f, s, p)


def test_output_size_lecture_examples():
    n, f = 7, 3
    # stride 1 and 2 tile a 7-wide input exactly with a 3-wide filter ...
    for s in (1, 2):
        assert (n - f) % s == 0
        assert output_size(n, f, s) == naive.out_len(n, f, s) == (n - f) // s + 1
    assert output_size(n, f, 1) == 5 and output_size(n, f, 2) == 3
    # ... stride 3 does not: (7 - 3) / 3 + 1 is not an integer; the last partial window is dropped
    assert (n - f) % 3 != 0
    assert output_size(n, f, 3) == naive.out_len(n, f, 3)
    last_start = (output_size(n, f, 3) - 1) * 3
    assert last_start + f <= n < last_start + 3 + f  # one more step would run past the input


def test_output_volume_32x32x3_with_ten_5x5_filters_pad_2():
    x = np.zeros((1, 3, 32, 32), np.float32)
    w = np.zeros((10, 3, 5, 5), np.float32)
    out = v1sim.correlate_batch(x, w, stride=1, padding=2, device="cpu")
    # the lecture: 32x32x3 input, 10 5x5 filters, stride 1, pad 2 -> 32x32x10 (size preserved)
    assert out.shape[1:] == (10, 32, 32)
    assert out.shape[2] == output_size(32, 5, 1, 2)


# --------------------------------------------------------------------------
# The lecture's worked example: a 3x3 mean filter over a 10x10 image of 0s and 90s
# --------------------------------------------------------------------------


def _lecture_image():
    f = np.zeros((10, 10))
    f[2:7, 3:8] = 90  # rows 2-6, cols 3-7
    f[5, 4] = 0  # the hole in the square
    f[8, 2] = 90  # the isolated bright pixel
    return f


@pytest.mark.parametrize("device", ("cpu", "parallel"))
def test_lecture_mean_filter_example(device):
    f = _lecture_image()
    h = np.ones((3, 3)) / 9
    g = v1sim.correlate2d(f, h, mode="valid", device=device)
    assert g.shape == (8, 8)
    brute = np.array([[f[i : i + 3, j : j + 3].mean() for j in range(8)] for i in range(8)])
    np.testing.assert_allclose(g, brute, rtol=0, atol=1e-10)
    # the numbers on the slide: the first output row begins 0, 10, 20, 30, 30 ...
    np.testing.assert_array_equal(np.round(g[0, :5]), [0, 10, 20, 30, 30])
    # ... and a 50 where the window catches the hole: (row 4, col 3) counted from 1
    assert round(g[3, 2]) == 50
    # a symmetric kernel: convolution gives the same
    np.testing.assert_allclose(v1sim.convolve2d(f, h, mode="valid", device=device), g, atol=1e-10)
