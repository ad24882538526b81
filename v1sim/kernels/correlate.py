"""Valid cross-correlation of padded batches by banks, by whichever method the cost model expects to be fastest.

The unchecked engine under :mod:`v1sim.signal` (whose public functions pad
the input and check every argument first): ``"direct"`` Numba loops
(row-vectorised for few filters, filter-vectorised for many: on register tiles,
:mod:`.register_tiles`, when the filters fill whole vector registers), ``"gemm"``
(the ConvNet engine's CPU convolution, :mod:`.conv_blocks`: shifted BLAS products, Winograd's F(2x2, 3x3),
im2col blocks, or row sums for thin patches) or ``"fft"`` (one real
FFT per image channel shared by the whole bank, the bank's spectra cached).
"""

from __future__ import annotations

import math
import os

import numpy as np
import scipy.fft
from numba import prange

from .._core.validate import check_allocation, memory_limit
from ..errors import InputError
from . import bank_tiles, conv_blocks, get, register_tiles
from .cpu.common import by_device
from .ops import out_len

__all__ = [
    "bank_loops",
    "choose_method",
    "correlate_valid",
    "direct_variant",
    "fft_shape",
    "flush_subnormal",
    "tile_filters",
    "warmup",
    "work_bytes",
]

# Sustained rates, used only to rank methods. Measured on a 2-core AVX-512 machine (2026-12-07) over banks of
# 4-64 filters of 5x5 to 69x69 on 18x18 to 512x512 outputs; the direct and BLAS rates are per vector lane (16
# float32 lanes there), so a narrower or a float64 machine scales them down as its registers do.
_RATE_ROWS_LANE = 2.2e9  # MAC/s, row-vectorised loops on long rows (34e9; 10e9 on rows of 24: direct_variant)
_RATE_BANK_LANE = 0.6e9  # MAC/s, filter-vectorised loops (6-22e9)
_RATE_TILES_LANE = 7e9  # MAC/s, the same on register tiles (86-133e9), before their wasted lanes and columns
_RATE_GEMM_LANE = 3e9  # MAC/s, BLAS products of im2col blocks (14-56e9; a few filters make skinny products)
_RATE_FFT = 5e9  # "n log2 n" units/s for real 2-D FFTs (3.4-6.5e9 on 144² to 600²)
_FFT_IMAGE_SECONDS = 4e-4  # per image: its transforms' calls, threads and copies (dominant below 100²)
_RATE_SPECTRAL = 1e9  # complex MAC/s, the bank's spectra times an image's


def fft_shape(hp: int, wp: int) -> tuple[int, int]:
    # Circular correlation of size >= (hp, wp) has no wrap-around in the valid part.
    return scipy.fft.next_fast_len(hp, real=True), scipy.fft.next_fast_len(wp, real=True)


def bank_loops(k: int, wo: int) -> bool:
    """Whether the direct method vectorises over filters (else along output rows).

    Filter-vectorised for short rows or big banks; long rows vectorise better along x
    (measured: 16x2x32x32 * 8x5x5 rows 1.7 ms vs bank 3.7 ms; 16x24x16x16 * 48x3x3 rows 19 vs 7.3 ms).
    """
    return k >= 8 and (wo < 24 or k >= 32)


def work_bytes(method: str, x_shape, w_shape, stride, itemsize: int) -> int:
    """Memory a method needs beyond its input and output: im2col's matrix, or the FFT spectra."""
    n, c, hp, wp = x_shape
    k, _, kh, kw = w_shape
    if method == "gemm":  # a block of columns and its product per task (conv_blocks), not the batch's matrix
        r = c * kh * kw  # a block holds at least one padded output row, and MIN_COLUMNS columns
        block = max(conv_blocks.BLOCK_BYTES, r * max(wp, conv_blocks.MIN_COLUMNS) * itemsize)
        return conv_blocks.TASKS * (block + k * block // r)
    if method == "fft":  # complex spectra of the bank, one image and the product; one real inverse
        p, q = fft_shape(hp, wp)
        return (k * c + c + k) * p * (q // 2 + 1) * 2 * itemsize + k * p * q * itemsize
    return k * c * kh * kw * itemsize  # direct: at most a transposed copy of the bank


def tile_filters(k: int, itemsize: int) -> int:
    """How many filters the register tiles compute for a bank of ``k``: ``k`` rounded up to whole vector
    registers (the extra filters are zeros)."""
    lanes = register_tiles.REGISTER_BYTES // itemsize
    return -(-k // lanes) * lanes


def direct_variant(k: int, wo: int, itemsize: int) -> tuple[str, float]:
    """Which of the direct loops runs a bank of ``k`` filters on outputs ``wo`` wide, and its rate (MAC/s):
    ``"tiles"`` (:mod:`.bank_tiles`, filters padded to whole registers), ``"bank"`` (filter-vectorised
    loops) or ``"rows"`` (row-vectorised loops), whichever is expected fastest."""
    lanes = register_tiles.REGISTER_BYTES // itemsize
    padded = tile_filters(k, itemsize)
    _, rows, _ = bank_tiles.bank_shape(padded, wo, itemsize)
    columns = -(-wo // rows) * rows  # a tile's pixels past the row's end are computed and dropped
    rates = {
        "tiles": _RATE_TILES_LANE * lanes * (k / padded) * (wo / columns),
        "rows": _RATE_ROWS_LANE * lanes * wo / (wo + 48),  # short rows fill the vectors badly
    }
    if bank_loops(k, wo):
        rates["bank"] = _RATE_BANK_LANE * lanes
    best = max(rates, key=rates.get)
    return best, rates[best]


def choose_method(x_shape, w_shape, stride, cached_spectra: bool, itemsize: int = 4) -> str:
    n, c, hp, wp = x_shape
    k, _, kh, kw = w_shape
    ho, wo = out_len(hp, kh, stride[0]), out_len(wp, kw, stride[1])
    macs = n * k * c * ho * wo * kh * kw
    lanes = register_tiles.REGISTER_BYTES // itemsize
    costs = {
        "direct": macs / direct_variant(k, wo, itemsize)[1],
        "gemm": macs / (_RATE_GEMM_LANE * lanes * k / (k + 12)),
    }
    if stride == (1, 1):
        p, q = fft_shape(hp, wp)
        n_fft = n * c + n * k + (0 if cached_spectra else k * c)
        units = n_fft * p * q * math.log2(p * q)
        costs["fft"] = n * _FFT_IMAGE_SECONDS + units / _RATE_FFT + n * k * c * p * q / 2 / _RATE_SPECTRAL
    # a faster method is no use if its working memory does not fit (a big kernel's im2col matrix can
    # be thousands of times the output); the direct loops always fit
    cap = memory_limit()
    costs = {
        m: t for m, t in costs.items() if m == "direct" or work_bytes(m, x_shape, w_shape, stride, itemsize) <= cap
    }
    return min(costs, key=costs.get)


def _threads(device: str) -> int:
    return 1 if device == "cpu" else (os.cpu_count() or 1)


def flush_subnormal(w: np.ndarray) -> np.ndarray:
    """``w`` with its subnormal entries set to zero (a copy where there are any).

    A filter's far tails (a Gaussian's beyond 13 sigma) underflow to subnormal floats, and every multiply-add
    with a subnormal operand takes a microcode assist: the Leung-Malik bank ran 11x slower (2.9 s against
    0.26 s on a 512² image). Their products, below the smallest normal float times the input, vanish in any
    sum with a normal term.
    """
    small = np.abs(w) < np.finfo(w.dtype).tiny
    small &= w != 0
    return np.where(small, w.dtype.type(0), w) if small.any() else w


def _bank_spectra(w: np.ndarray, shape: tuple[int, int], cache: dict | None, device: str) -> np.ndarray:
    """rfft2 of the flipped filters, zero-padded to ``shape``; cached per shape and dtype."""
    key = (shape, w.dtype.str, w.shape)
    if cache is not None and key in cache:
        return cache[key]
    spec = scipy.fft.rfft2(w[..., ::-1, ::-1], s=shape, workers=_threads(device))
    if cache is not None:
        cache[key] = spec
    return spec


def _correlate_fft(x, w, out, cache, device):
    n, c, hp, wp = x.shape
    k, _, kh, kw = w.shape
    shape = fft_shape(hp, wp)
    wspec = _bank_spectra(w, shape, cache, device)  # (K, C, P, Q//2+1)
    mac = get("spectral_mac", "cpu" if device == "cpu" else "parallel")
    workers = _threads(device)
    prod = np.empty((k,) + wspec.shape[2:], dtype=wspec.dtype)
    ho, wo = out.shape[2], out.shape[3]
    for i in range(n):
        xspec = scipy.fft.rfft2(x[i], s=shape, workers=workers)  # (C, P, Q//2+1)
        mac(xspec, wspec, prod)
        full = scipy.fft.irfft2(prod, s=shape, workers=workers, overwrite_x=True)
        out[i] = full[:, kh - 1 : kh - 1 + ho, kw - 1 : kw - 1 + wo]


def _correlate_gemm(x, w, stride, out, device):
    """Block by block (:mod:`.conv_blocks`): im2col of a few images at a time, one GEMM each, straight into out."""
    ho, wo = out.shape[2], out.shape[3]
    blocks = conv_blocks.plan(x.shape, w.shape, stride, (0, 0), 1, ho, wo, x.dtype.itemsize)
    conv_blocks.forward(x, w, None, blocks, device, out=out)


#: Tasks the bank's output rows are split into at least (whole images when there are this many or more).
BANK_TASKS = 16


def _bank_all(x, wk, taps, kw, shape, strides, geometry, out):
    """Every image's output rows, a few rows a task: tiles of a few pixels by all filters
    (:func:`.bank_tiles.bank_block`), transposed in registers and written channel-major (a pixel-major
    scratch transposed in a second pass had cost a fifth more: its stores evicted the filters from L1)."""
    xoffs, woffs = taps
    sy, sx = strides
    wp, image, chunk = geometry
    n_img, n_k, ho, wo = out.shape
    plane = ho * wo
    flat = out.reshape(out.size)
    n_chunks = (ho + chunk - 1) // chunk
    for t in prange(n_img * n_chunks):
        n, y0 = t // n_chunks, (t % n_chunks) * chunk
        bank_tiles.bank_block(
            x,
            n * image + y0 * sy * wp,
            xoffs,
            kw,
            wk,
            woffs,
            shape,
            (sy * wp, sx),
            flat,
            n * n_k * plane + y0 * wo,
            plane,
            wo,
            min(chunk, ho - y0),
            n_k,
        )


_BANK_ALL = by_device(_bank_all)


def _correlate_bank_tiles(x, w, stride, out, device):
    """Filter-vectorised direct loops on register tiles: a tile holds a few output pixels by every filter (whole
    vector registers of filters, zeros past the bank's last: :func:`tile_filters`), summing each channel's kernel
    rows in registers."""
    n, c, hp, wp = x.shape
    k, _, kh, kw = w.shape
    wo = out.shape[3]
    padded = tile_filters(k, x.dtype.itemsize)
    shape = bank_tiles.bank_shape(padded, wo, x.dtype.itemsize)
    n_tiles = -(-wo // shape[1])
    past = (n_tiles * shape[1] - wo) * stride[1]  # how far a row's last, partial tile reads past the row
    if past:  # into the next row, and past the last image: a copy with room after it
        flat = np.zeros(x.size + past + kw, x.dtype)
        flat[: x.size] = x.reshape(-1)
    else:  # whole tiles read inside each row (the digits bank: rows of 18 pixels in tiles of 6)
        flat = np.ascontiguousarray(x).reshape(-1)
    wk = np.zeros((c, kh, kw, padded), x.dtype)  # (C, kh, kw, K): a kernel row's filters
    wk[..., :k] = w.transpose(1, 2, 3, 0)
    xoffs = (np.arange(c)[:, None] * hp * wp + np.arange(kh)[None, :] * wp).reshape(-1)  # each kernel row's
    taps = (xoffs, np.arange(c * kh) * kw * padded)  # ... offset in the image and in the filters
    host = "cpu" if device == "cpu" else "parallel"
    chunk = max(1, min(out.shape[2], n * out.shape[2] // BANK_TASKS))  # output rows a task
    _BANK_ALL[host](flat, wk.reshape(-1), taps, kw, shape, stride, (wp, c * hp * wp, chunk), out)


def correlate_valid(x, w, stride, method, device, cache=None) -> np.ndarray:
    """Valid cross-correlation of padded x (N,C,Hp,Wp) with w (K,C,kh,kw)."""
    n, c, hp, wp = x.shape
    k, _, kh, kw = w.shape
    ho, wo = out_len(hp, kh, stride[0]), out_len(wp, kw, stride[1])
    if method == "fft" and stride != (1, 1):
        raise InputError(f"method='fft' needs stride 1, got stride {stride}", argument="stride")
    if method in ("gemm", "fft") and device != "cuda":
        work = work_bytes(method, x.shape, w.shape, stride, x.dtype.itemsize)
        check_allocation(work, np.uint8, "method", what=f"method={method!r} on this input and bank")
    out = np.empty((n, k, ho, wo), dtype=x.dtype)
    if device == "cuda":  # one direct CUDA kernel serves every method
        get("correlate_valid", "cuda")(x, w, stride[0], stride[1], out)
        return out
    if method == "auto":
        method = choose_method(x.shape, w.shape, stride, cache is not None and len(cache) > 0, x.dtype.itemsize)
    if method == "fft":
        _correlate_fft(x, w, out, cache, device)
    elif method == "gemm":
        _correlate_gemm(x, flush_subnormal(w), stride, out, device)
    else:
        w = flush_subnormal(w)
        variant = direct_variant(k, wo, x.dtype.itemsize)[0]
        if variant == "tiles":
            _correlate_bank_tiles(x, w, stride, out, device)
        elif variant == "bank":
            wt = np.ascontiguousarray(w.transpose(1, 2, 3, 0))  # (C, kh, kw, K): vectorise over filters
            get("correlate_valid_bank", device)(x, wt, stride[0], stride[1], out)
        else:
            get("correlate_valid", device)(x, w, stride[0], stride[1], out)
    return out


def warmup(dtype) -> None:
    """Compile (or load from Numba's cache) the register-tiled bank loops for ``dtype``, on both devices."""
    k = register_tiles.REGISTER_BYTES // np.dtype(dtype).itemsize
    x, w = np.ones((1, 1, 4, 4), dtype), np.ones((k, 1, 3, 3), dtype)
    for device in ("cpu", "parallel"):
        _correlate_bank_tiles(x, w, (1, 1), np.empty((1, k, 2, 2), dtype), device)
