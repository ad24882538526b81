"""The CPU convolution: :func:`plan` picks a path per layer, and the im2col blocks are the path of last resort.

The unchecked driver under :func:`v1sim.nn.functional.conv2d_forward` and ``conv2d_backward`` and
:func:`v1sim.correlate_batch`'s ``method="gemm"`` (:mod:`v1sim.kernels.correlate`). The paths: one matrix
product (a kernel as large as its input), row sums (:mod:`.conv_rows`), Winograd's F(2x2, 3x3)
(:mod:`.conv_winograd`), shifted products (:mod:`.conv_shifted`), else im2col of a few images (or output
rows) at a time, one GEMM each, described here.

The whole batch's column matrix (C*kh*kw, N*Ho*Wo) is never built. Each block of
patches is written into a small workspace that stays in the core's cache, multiplied
by the weights at once (one single-threaded BLAS call), and its result written
straight into NCHW (bias added on the way). Backward recomputes the block's patches
from the cached (padded) *input*, so a layer holds its input for the backward pass, not its
columns (nine times the input for a 3x3 kernel: 6.2 GB for a ResNet-56 step at batch
128 before this module).

Threads: the batch is cut into at most :data:`TASKS` groups of images (fewer for small layers); with
``device="parallel"`` the groups run on ``numba.get_num_threads()`` worker threads,
each calling the serial Numba kernels (compiled ``nogil``) and BLAS on one thread
(:func:`v1sim.backend.blas_threads`), so one pool owns the cores at a time. Each
group sums its own weight gradient and the groups' sums are added in a fixed order:
results do not depend on the number of threads.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numba
import numpy as np

from ..backend import blas_threads, matmul
from . import conv_rows, conv_shifted, conv_winograd, get, shifted_grid

__all__ = [
    "BLOCK_BYTES",
    "MAX_SPILL",
    "MIN_COLUMNS",
    "MIN_TASK_MACS",
    "TASKS",
    "ConvBlocks",
    "backward",
    "forward",
    "plan",
]

#: Size of one block of patches: with the GEMM's own packing it fits a 1 MiB L2 cache.
BLOCK_BYTES = 1 << 19

#: At least this many GEMM columns per block: narrower products run far below BLAS's speed (VGG's 58-wide rows).
MIN_COLUMNS = 384

#: Wide blocks (see :func:`plan`) when they multiply the GEMM's columns by at most this.
MAX_SPILL = 1.25

#: At most this many image groups per batch (the parallel tasks), set by the problem's size, never by the
#: thread count: the weight gradient's summation order (per group, then the groups in order) is fixed.
TASKS = 8

#: At least this many multiply-accumulates per task (about 60 us): LeNet-5's C3 at batch 64 (15 million) runs
#: as 7 tasks, on both cores (a training step 7.2 -> 5.8 ms; 10 million, one task, had been chosen while a
#: stale Numba cache kept the serial kernels slow, see :mod:`.cpu.common`); tiny layers stay one task.
MIN_TASK_MACS = 2_000_000


@dataclass(frozen=True, slots=True)
class ConvBlocks:
    """Geometry of a convolution and how its batch is cut into blocks."""

    x_shape: tuple  # (N, C, H, W), unpadded
    w_shape: tuple  # (K, C/groups, kh, kw)
    stride: tuple
    padding: tuple
    groups: int
    ho: int
    wo: int
    images: int  # images per block (whole images), or 1 ...
    rows: int  # ... and this many output rows per block (all Ho when images > 1)
    pitch: int  # a block row's length: Wo, or the padded width for stride-1 "wide" blocks (kernels.cpu.layout)
    tasks: int  # groups of images, each summing its own weight gradient
    shifted: conv_shifted.Shifted | None = None  # shifted products instead of im2col
    direct: bool = False  # thin patches: summed along output rows (conv_rows), no im2col, no BLAS
    winograd: conv_winograd.Winograd | None = None  # 3x3 at stride 1 with many channels: F(2x2, 3x3)
    dense: bool = False  # the kernel covers the whole unpadded input (LeNet-5's C5): one matrix product

    @property
    def wide(self) -> bool:
        return self.pitch != self.wo


def plan(x_shape, w_shape, stride, padding, groups, ho, wo, itemsize) -> ConvBlocks:
    """Blocks of about :data:`BLOCK_BYTES` of patches (and :data:`MIN_COLUMNS`): whole images when one is smaller,
    else rows of one. Convolutions that :func:`.conv_shifted.eligible` accepts (ungrouped, enough channels) run
    as one shifted product per kernel tap instead (:mod:`.conv_shifted`), in the same groups of images; 3x3
    ones at stride 1 with many channels on large maps (:func:`.conv_winograd.eligible`) as Winograd's
    F(2x2, 3x3) (:mod:`.conv_winograd`); thin patches (:func:`.conv_rows.eligible`: a few channels of a small
    kernel) are summed along output rows (:mod:`.conv_rows`); a kernel as large as the unpadded input (one
    output per filter: LeNet-5's C5) is one matrix product.

    Stride-1 convolutions whose padded width ``Wp`` is at most :data:`MAX_SPILL` times ``Wo`` use wide
    blocks: one contiguous copy per (channel, u, v) instead of one per output row, for ``Wp/Wo``
    times the GEMM's columns.
    """
    c, (kh, kw) = x_shape[1], w_shape[2:]
    wp = x_shape[3] + 2 * padding[1]
    pitch = wp if stride == (1, 1) and wp > wo and wp <= MAX_SPILL * wo else wo
    n, k, r = x_shape[0], w_shape[0], w_shape[1] * kh * kw
    tasks = int(max(1, min(n, TASKS, n * k * r * ho * wo // MIN_TASK_MACS)))
    row_bytes = c * kh * kw * pitch * itemsize
    per_block = max(1, BLOCK_BYTES // row_bytes, -(-MIN_COLUMNS // pitch))  # output rows per block
    if per_block >= ho:
        images, rows = max(1, min(per_block // ho, -(-n // tasks))), ho
    else:  # rows of one image, in blocks of equal height
        images, rows = 1, -(-ho // -(-ho // per_block))
    dense = groups == 1 and tuple(padding) == (0, 0) and tuple(x_shape[2:]) == (kh, kw)
    direct = not dense and conv_rows.eligible(x_shape, w_shape, stride, groups)
    shifted = winograd = None
    if dense or direct:
        pass  # no blocks of products
    elif conv_winograd.eligible(x_shape, w_shape, stride, padding, groups):
        winograd = conv_winograd.plan(x_shape, w_shape, padding, tasks)
    elif conv_shifted.eligible(x_shape, w_shape, stride, groups, ho, wo):
        shifted = conv_shifted.plan(x_shape, w_shape, stride, padding, tasks, itemsize)
        shifted = shifted if conv_shifted.fits_blas(shifted) else None  # else im2col's blocks, small matrices
    shape = (tuple(x_shape), tuple(w_shape), stride, padding, groups, ho, wo)
    return ConvBlocks(*shape, images, rows, pitch, tasks, shifted, direct, winograd, dense)


def _groups_of_images(n, tasks) -> list[tuple[int, int]]:
    edges = shifted_grid.group_edges(n, tasks)
    return [(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]


def _blocks(p: ConvBlocks, lo, hi):
    """(first image, images, first output row, rows) of each block of images ``lo .. hi-1``."""
    for n0 in range(lo, hi, p.images):
        nb = min(p.images, hi - n0)
        for oy0 in range(0, p.ho, p.rows):
            yield n0, nb, oy0, min(p.rows, p.ho - oy0)


@functools.cache
def _pool(threads: int):
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="v1sim-conv")


def _run(task, p: ConvBlocks, device) -> list:
    """``task(lo, hi)`` for each group of images, on worker threads for ``device="parallel"``; results in order."""
    groups = _groups_of_images(p.x_shape[0], p.tasks)
    threads = min(len(groups), numba.get_num_threads()) if device == "parallel" else 1
    with blas_threads(1):
        if threads < 2:
            return [task(lo, hi) for lo, hi in groups]
        return list(_pool(threads).map(lambda g: task(*g), groups))


def _host(device) -> str:
    return device if device in ("cpu", "parallel") else "parallel"


def _product(a, b, device, out=None) -> np.ndarray:
    """``a @ b`` with BLAS on one thread, split over v1sim's threads when large (:func:`v1sim.backend.matmul`)
    for ``device="parallel"``; serial for "cpu". The same bits either way (each element one dot product)."""
    if _host(device) == "parallel":
        return matmul(a, b, out=out)
    with blas_threads(1):
        return np.matmul(a, b, out=out)


def _workspace(p: ConvBlocks, dtype, rows: int) -> np.ndarray:
    """A flat buffer for ``rows`` rows of the largest block: one allocation per task, not one per block."""
    return np.empty(rows * p.images * p.rows * p.pitch, dtype)


def _pad(x, padding, device) -> np.ndarray:
    """x zero-padded by ``padding = (py, px)`` (x itself when 0), written once, in parallel (kernel ``pad_nchw``)."""
    py, px = padding
    if not (py or px):
        return x
    n, c, h, wd = x.shape
    xp = np.empty((n, c, h + 2 * py, wd + 2 * px), x.dtype)
    get("pad_nchw", _host(device), xp.size)(x, py, px, xp)
    return xp


def forward(x, w, bias, p: ConvBlocks, device, out=None) -> tuple[np.ndarray, np.ndarray]:
    """``(out (N, K, Ho, Wo), xp)``: the grouped cross-correlation of x with w plus bias, and the padded x.

    ``xp`` is x itself without padding; :func:`backward` recomputes the patches from it (for a shifted
    plan, the channel-major padded x of :mod:`.conv_shifted`). ``out``, if given, is written in place
    (C-contiguous, x's dtype).
    """
    if p.dense:  # out (N, K) = x (N, C*kh*kw) @ w (K, C*kh*kw)ᵀ: one product, as a linear layer's
        n, k, r = x.shape[0], w.shape[0], w[0].size  # sizes spelt out: an empty batch cannot infer them
        x = np.ascontiguousarray(x)
        out = np.empty((n, k, 1, 1), x.dtype) if out is None else out
        out2 = out.reshape(n, k)
        _product(x.reshape(n, r), w.reshape(k, r).T, device, out=out2)
        if bias is not None:
            out2 += bias
        return out, x
    if p.direct:
        return conv_rows.forward(x, w, bias, p.padding, _host(device), out=out)
    if p.winograd is not None:
        return conv_winograd.forward(x, w, bias, p.winograd, _host(device), out=out)
    if p.shifted is not None:
        return conv_shifted.forward(x, w, bias, p.shifted, _host(device), out=out)
    xp = _pad(x, p.padding, device)
    n, k, dtype = x.shape[0], w.shape[0], x.dtype
    (kh, kw), (sy, sx), g = w.shape[2:], p.stride, p.groups
    r, kg = x.shape[1] * kh * kw, k // g
    rg, w_m = r // g, w.reshape(k, -1)
    out = np.empty((n, k, p.ho, p.wo), dtype=dtype) if out is None else out
    b = np.empty(0, dtype) if bias is None else bias
    im2col, store = get("im2col_block", "cpu"), get("block_to_nchw", "cpu")

    def task(lo, hi):
        cols_ws, res_ws = _workspace(p, dtype, r), _workspace(p, dtype, k)  # reused by every block of the task
        for n0, nb, oy0, rows in _blocks(p, lo, hi):
            lb = rows * p.pitch
            cols = cols_ws[: r * nb * lb].reshape(r, nb, lb)
            im2col(xp, n0, oy0, kh, kw, sy, sx, p.pitch, cols)
            cols_m, res = cols.reshape(r, nb * lb), res_ws[: k * nb * lb].reshape(k, nb * lb)
            for i in range(g):
                np.matmul(w_m[i * kg : (i + 1) * kg], cols_m[i * rg : (i + 1) * rg], out=res[i * kg : (i + 1) * kg])
            store(res.reshape(k, nb, lb), b, n0, oy0, p.pitch, out)

    _run(task, p, device)
    return out, xp


def backward(grad, xp, w, p: ConvBlocks, input_grad, device):
    """``(dx or None, dw)`` of :func:`forward` for ``grad (N, K, Ho, Wo)``, patches recomputed from padded ``xp``."""
    if p.dense:
        n, k, r = xp.shape[0], w.shape[0], w[0].size
        g, x2, w2 = grad.reshape(n, k), xp.reshape(n, r), w.reshape(k, r)
        dx = _product(g, w2, device).reshape(xp.shape) if input_grad else None
        return dx, _product(g.T, x2, device).reshape(w.shape)
    if p.direct:
        return conv_rows.backward(grad, xp, w, p.padding, p.x_shape, input_grad, _host(device), TASKS)
    if p.winograd is not None:
        return conv_winograd.backward(grad, xp, w, p.winograd, input_grad, _host(device))
    if p.shifted is not None:
        return conv_shifted.backward(grad, xp, w, p.shifted, input_grad, _host(device))
    k, dtype = w.shape[0], xp.dtype
    (kh, kw), (sy, sx), (py, px), g = w.shape[2:], p.stride, p.padding, p.groups
    r, kg = xp.shape[1] * kh * kw, k // g
    rg, w_m = r // g, w.reshape(k, -1)
    dxp = np.zeros(xp.shape, dtype) if input_grad else None
    get_cpu = functools.partial(get, device="cpu")
    im2col, col2im, gather = get_cpu("im2col_block"), get_cpu("col2im_block"), get_cpu("nchw_to_block")

    def task(lo, hi):
        # the weight gradient transposed, dWᵀ = cols @ Gᵀ with Gᵀ pixel-major: BLAS runs this orientation
        # at 81 GF/s against 46 for G @ colsᵀ (K=16, R=144, L=1088, one Zen 4 core)
        dwt, part = np.zeros((rg, k), dtype), np.empty((rg, k), dtype)
        cols_ws, go_ws, go_t_ws = _workspace(p, dtype, r), _workspace(p, dtype, k), _workspace(p, dtype, k)
        dcols_ws = _workspace(p, dtype, r) if input_grad else None
        for n0, nb, oy0, rows in _blocks(p, lo, hi):
            lb = rows * p.pitch
            m = nb * lb
            cols, go = cols_ws[: r * m].reshape(r, nb, lb), go_ws[: k * m].reshape(k, nb, lb)
            im2col(xp, n0, oy0, kh, kw, sy, sx, p.pitch, cols)
            gather(grad, n0, oy0, p.pitch, go)
            cols_m, go_m = cols.reshape(r, m), go.reshape(k, m)
            go_t = go_t_ws[: m * k].reshape(m, k)
            np.copyto(go_t, go_m.T)
            dcols = dcols_ws[: r * m].reshape(r, m) if input_grad else None
            for i in range(g):
                gk, gr = slice(i * kg, (i + 1) * kg), slice(i * rg, (i + 1) * rg)
                np.matmul(cols_m[gr], go_t[:, gk], out=part[:, gk])
                if input_grad:
                    np.matmul(w_m[gk].T, go_m[gk], out=dcols[gr])
            dwt += part
            if input_grad:
                col2im(dcols.reshape(r, nb, lb), n0, oy0, kh, kw, sy, sx, p.pitch, dxp)
        return dwt

    parts = _run(task, p, device)
    dwt = parts[0] if parts else np.zeros((rg, k), dtype)  # an empty batch: no group
    for more in parts[1:]:  # a fixed order: the same sum on any number of threads
        dwt += more
    dw = np.ascontiguousarray(dwt.T)
    dx = None
    if input_grad:
        h, wd = p.x_shape[2:]
        dx = dxp
        if py or px:
            dx = np.empty(dxp.shape[:2] + (h, wd), dtype)
            get("crop_nchw", _host(device), dxp.size)(dxp, py, px, dx)
    return dx, dw.reshape(w.shape)
