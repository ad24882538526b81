"""3x3 convolutions at stride 1 by Winograd's minimal filtering F(2x2, 3x3): 16 products per 2x2 outputs, not 36.

Lavin & Gray's algorithm: each 2x2 tile of outputs is ``Aᵀ [(G w Gᵀ) ⊙ (Bᵀ d B)] A`` for the 4x4 patch
``d`` of input under it, the products summed over input channels. Summed over channels, the ``⊙`` is a
matrix product for each of the 16 positions ``ξ`` of the transformed tile::

    M[ξ] (K, tiles) = U[ξ] (K, C) @ V[ξ] (C, tiles),   U = G w Gᵀ,  V = Bᵀ d B

so a convolution costs 16 small BLAS products per block of tiles, with 4 multiply-accumulates per output
and channel pair against 9 for the direct sum (and :mod:`.conv_shifted`'s nine per-tap products), plus
the transforms, which only add and subtract (``B``, ``A``: 0 and ±1; ``G``: also ±1/2, exact in binary).
In float32 the result differs from the direct sum by rounding, a few units in the 7th digit.

Layout: the input is padded and split into its four phases (rows and columns of each parity) on a grid of
``(ty+1) x (tx+1)`` per image, ``ty x tx`` the output's tiles (:func:`.shifted_grid.pad_phases`), so
element ``(r, c)`` of every tile's patch is one contiguous window of one phase, and each transform is a
loop over a block's tiles that vectorises. The grid's last row and column of tiles are computed and
dropped, as :mod:`.conv_shifted` drops its grid's padding columns.

Backward: the input gradient is the same algorithm on the output gradient, with the kernel flipped and its
channels swapped (a stride-1 3x3 correlation again); the weight gradient is computed on the transformed
tiles, ``dU[ξ] = dM[ξ] @ V[ξ]ᵀ`` with ``dM = A dY Aᵀ`` per tile (``V[ξ]ᵀ`` copied pixel-major first: BLAS
runs that orientation 1.2-1.7x faster), then ``dw = Gᵀ dU G``.

Threads and order as :mod:`.conv_shifted`: groups of images set by the layer, one Numba ``prange`` over
them, BLAS on one thread per task, each group's weight gradient summed apart and the groups added in a
fixed order (the same bits on any number of threads).

References
----------
.. [1] Lavin, A. & Gray, S. (2016). Fast algorithms for convolutional neural networks. CVPR, 4013-4021.
.. [2] Winograd, S. (1980). Arithmetic complexity of computations. SIAM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from ..backend import blas_threads
from .blas import gemm, routines
from .cpu.common import by_device
from .shifted_grid import group_edges, pad_phases, span
from .winograd_tiles import G_PAIRS, G_PAIRS_T, combine_rows, grad_tiles, input_tiles, output_tiles

__all__ = ["MIN_CHANNELS", "MIN_MAP_TILES", "Winograd", "backward", "eligible", "forward", "plan", "warmup"]

#: Input and output channels below which the transforms cost more than the products save (their cost is per
#: channel, the saving per channel pair): at 16 channels (ResNet-20's first stage) F(2x2, 3x3) ran 0.73-0.76x
#: the shifted products' speed, at 32 0.92-0.96x, at 64 1.01-1.24x (forward + backward, 2 threads).
MIN_CHANNELS = 64

#: At least this many output tiles per image: small maps give short blocks and many dropped grid tiles (64
#: channels on 8x8 maps, 16 tiles: 0.99-1.07x; 256 on 14x14, 49 tiles: 0.99-1.00x; 128 on 28x28, 196: 1.03-1.11x;
#: 64 on 56x56, 784: 1.20-1.24x).
MIN_MAP_TILES = 100

#: Bytes of one block's transformed input and products (16 x (C + K) x tiles), with BLAS's packing about half
#: of a 2 MiB L2 cache.
BLOCK_BYTES = 1 << 19

#: At least this many tiles per block.
MIN_TILES = 128


@dataclass(frozen=True, slots=True)
class Winograd:
    """Geometry of a 3x3, stride-1 convolution on the tile grid, and its blocks of tiles."""

    n: int
    c: int
    k: int
    h: int
    w: int
    py: int
    px: int
    whole: bool  # blocks of `images` whole images, or ...
    images: int
    rows: int  # ... of this many grid rows of one image
    tasks: int

    @property
    def ho(self) -> int:
        return self.h + 2 * self.py - 2

    @property
    def wo(self) -> int:
        return self.w + 2 * self.px - 2

    @property
    def ty(self) -> int:
        """Rows of output tiles."""
        return -(-self.ho // 2)

    @property
    def tx(self) -> int:
        return -(-self.wo // 2)

    @property
    def hq(self) -> int:
        """Rows of the grid: a tile row more than the outputs' (a patch reaches one tile below its own)."""
        return self.ty + 1

    @property
    def wq(self) -> int:
        return self.tx + 1

    @property
    def columns(self) -> int:
        """Grid tiles of the largest block."""
        return self.images * self.hq * self.wq if self.whole else self.rows * self.wq

    def transposed(self) -> Winograd:
        """The input gradient's convolution: the output gradient (K channels) to C channels, padding ``2 - p``,
        its blocks planned for its own tile grid."""
        return plan((self.n, self.k, self.ho, self.wo), (self.c, self.k, 3, 3), (2 - self.py, 2 - self.px), self.tasks)


def _blocks(n, c, k, ty, tx, tasks) -> tuple:
    """(whole, images, rows): blocks of about :data:`BLOCK_BYTES` of transformed tiles, whole images when one fits."""
    columns = max(MIN_TILES, BLOCK_BYTES // (16 * (c + k) * 4))
    hq, wq = ty + 1, tx + 1
    if hq * wq <= columns:
        return True, max(1, min(columns // (hq * wq), -(-n // tasks))), hq
    return False, 1, max(1, min(ty, columns // wq))


def eligible(x_shape, w_shape, stride, padding, groups) -> bool:
    """Whether F(2x2, 3x3) suits this convolution: 3x3 at stride 1, one group, padding at most 2, at least
    :data:`MIN_CHANNELS` input and output channels and :data:`MIN_MAP_TILES` output tiles per image."""
    c, h, w = x_shape[1:]
    k, _, kh, kw = w_shape
    if (kh, kw) != (3, 3) or tuple(stride) != (1, 1) or groups != 1 or not 0 <= min(padding) <= max(padding) <= 2:
        return False
    ho, wo = h + 2 * padding[0] - 2, w + 2 * padding[1] - 2
    return min(c, k) >= MIN_CHANNELS and ho >= 2 and wo >= 2 and -(-ho // 2) * -(-wo // 2) >= MIN_MAP_TILES


def plan(x_shape, w_shape, padding, tasks) -> Winograd:
    """The tile grid of a convolution :func:`eligible` accepts, in ``tasks`` groups of images."""
    n, c, h, w = x_shape
    k = w_shape[0]
    ty, tx = -(-(h + 2 * padding[0] - 2) // 2), -(-(w + 2 * padding[1] - 2) // 2)
    return Winograd(n, c, k, h, w, *padding, *_blocks(n, c, k, ty, tx, tasks), tasks)


# --------------------------------------------------------------------------
# tasks: one group of images, block by block
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _forward_task(fn, ints, xc, u, bias, lo, hi, whole, images, rows, hq, wq, v, m, ws, out):
    """out[lo:hi]: per block, the input's tiles transformed into ``v``, 16 products into ``m``, then the
    output's tiles (+ bias)."""
    ty, pitch = (out.shape[2] + 1) // 2, hq * wq
    for n0 in range(lo, hi, images):
        nb = min(images, hi - n0)
        for r0 in range(0, 1 if whole else ty, rows):
            j0, length, r1 = span(n0, nb, r0, rows, ty, whole, pitch, wq)
            r0 = 0 if whole else r0
            input_tiles(xc, j0, length, wq, v)
            for e in range(16):
                gemm(fn, ints, False, False, 1.0, u[e], v[e, :, :length], 0.0, m[e, :, :length])
            output_tiles(m, n0, nb, r0, r1, wq, pitch, bias, ws[:8], ws[8:], out)


@njit(cache=True, nogil=True)
def _weight_grad_task(fn, ints, xc, gc, lo, hi, whole, images, rows, hq, wq, v, dm, vt, du):
    """du (16, K, C) += Σ over the tiles of images lo..hi-1 of dM[ξ] @ V[ξ]ᵀ (du zeroed by the caller; ``vt`` a
    workspace of C x columns)."""
    ty, pitch, n_c = hq - 1, hq * wq, v.shape[1]
    for n0 in range(lo, hi, images):
        nb = min(images, hi - n0)
        for r0 in range(0, 1 if whole else ty, rows):
            j0, length, _ = span(n0, nb, r0, rows, ty, whole, pitch, wq)
            input_tiles(xc, j0, length, wq, v)
            grad_tiles(gc, j0, length, dm)
            for e in range(16):  # dM @ (V[ξ]ᵀ copied pixel-major): BLAS runs it 1.2-1.7x faster than dM @ V[ξ]ᵀ
                vt_e = vt[: length * n_c].reshape(length, n_c)
                for c in range(n_c):
                    for t in range(length):
                        vt_e[t, c] = v[e, c, t]
                gemm(fn, ints, False, False, 1.0, dm[e, :, :length], vt_e, 1.0, du[e])


_PARITY = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.int64)


def _forward_all(fn, ints, x, xc, u, parity, bias, edges, geometry, v, m, ws, out):
    """Lay out every group's images in phases, then run every group's blocks (two parallel regions)."""
    py, px, whole, images, rows, hq, wq = geometry
    for t in prange(edges.shape[0] - 1):
        pad_phases(x, edges[t], edges[t + 1], py, px, 2, 2, hq, wq, parity, xc)
    for t in prange(edges.shape[0] - 1):  # all laid out first: a block's last patches reach the next image
        _forward_task(
            fn, ints[t], xc, u, bias, edges[t], edges[t + 1], whole, images, rows, hq, wq, v[t], m[t], ws[t], out
        )


def _weight_grad_all(fn, ints, xc, g, gc, parity, edges, geometry, v, dm, vt, du):
    """Every group's weight gradient (transformed) into ``du[t]``; the output gradient laid out in phases first."""
    _, _, whole, images, rows, hq, wq = geometry
    for t in prange(edges.shape[0] - 1):
        pad_phases(g, edges[t], edges[t + 1], 0, 0, 2, 2, hq, wq, parity, gc)
    for t in prange(edges.shape[0] - 1):
        _weight_grad_task(
            fn, ints[t], xc, gc, edges[t], edges[t + 1], whole, images, rows, hq, wq, v[t], dm[t], vt[t], du[t]
        )


_FORWARD_ALL, _WEIGHT_GRAD_ALL = by_device(_forward_all), by_device(_weight_grad_all)


# --------------------------------------------------------------------------
# drivers
# --------------------------------------------------------------------------


def _transformed_weights(w, dtype) -> np.ndarray:
    """U = G w Gᵀ as (16, K, C), computed in float64 and rounded once."""
    k, c = w.shape[:2]
    u = np.empty((16, k * c), dtype)
    combine_rows(G_PAIRS, np.ascontiguousarray(w.reshape(k * c, 9).T), u)
    return u.reshape(16, k, c)


def _geometry(p: Winograd) -> tuple:
    return (p.py, p.px, p.whole, p.images, p.rows, p.hq, p.wq)


def _phases(p: Winograd, channels, dtype) -> np.ndarray:
    """The four phases' buffer, its slack after the last image zero (patches of the grid's last tiles reach it)."""
    size = p.n * p.hq * p.wq
    buf = np.empty((4, channels, size + p.wq + 1), dtype)
    buf[:, :, size:] = 0
    return buf


def forward(x, w, bias, p: Winograd, device, out=None) -> tuple[np.ndarray, np.ndarray]:
    """``(out (N, K, Ho, Wo), xc)``: the correlation plus bias, and the padded input's phases that
    :func:`backward` reads. ``device`` is "cpu" or "parallel"; ``out``, if given, is written in place."""
    dtype = x.dtype
    blas = routines()
    x = np.ascontiguousarray(x)
    xc = _phases(p, p.c, dtype)
    out = np.empty((p.n, p.k, p.ho, p.wo), dtype) if out is None else out
    b = np.empty(0, dtype) if bias is None else bias
    v, m = np.empty((p.tasks, 16, p.c, p.columns), dtype), np.empty((p.tasks, 16, p.k, p.columns), dtype)
    ws = np.empty((p.tasks, 12, p.columns), dtype)
    args = (x, xc, _transformed_weights(w, dtype), _PARITY, b, group_edges(p.n, p.tasks), _geometry(p), v, m, ws, out)
    with blas_threads(1):
        _FORWARD_ALL[device](blas.for_dtype(dtype), blas.scratch(p.tasks), *args)
    return out, xc


def backward(grad, xc, w, p: Winograd, input_grad, device):
    """``(dx or None, dw)`` of :func:`forward` for ``grad (N, K, Ho, Wo)``; group sums added in a fixed order."""
    dtype = xc.dtype
    blas = routines()
    g = np.ascontiguousarray(grad, dtype)
    gc = _phases(p, p.k, dtype)
    v, dm = np.empty((p.tasks, 16, p.c, p.columns), dtype), np.empty((p.tasks, 16, p.k, p.columns), dtype)
    vt, du = np.empty((p.tasks, p.c * p.columns), dtype), np.zeros((p.tasks, 16, p.k, p.c), dtype)
    args = (xc, g, gc, _PARITY, group_edges(p.n, p.tasks), _geometry(p), v, dm, vt, du)
    with blas_threads(1):
        _WEIGHT_GRAD_ALL[device](blas.for_dtype(dtype), blas.scratch(p.tasks), *args)
    total = du[0]
    for more in du[1:]:  # a fixed order: the same sum on any number of threads
        total += more
    dw = np.empty((9, p.k * p.c), dtype)
    combine_rows(G_PAIRS_T, total.reshape(16, p.k * p.c), dw)
    dw = np.ascontiguousarray(dw.T).reshape(p.k, p.c, 3, 3)
    dx = None
    if input_grad:  # the full correlation: flipped kernel, channels swapped
        flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
        dx, _ = forward(g, flipped, None, p.transposed(), device)
    return dx, dw


def warmup(dtype) -> None:
    """Compile (or load from Numba's cache) this module's kernels for ``dtype``, on both devices."""
    x, w = np.ones((1, MIN_CHANNELS, 4, 4), dtype), np.ones((MIN_CHANNELS, MIN_CHANNELS, 3, 3), dtype)
    p = plan(x.shape, w.shape, (1, 1), 1)
    for device in ("cpu", "parallel"):
        out, xc = forward(x, w, None, p, device)
        backward(np.ones_like(out), xc, w, p, True, device)
