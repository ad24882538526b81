"""CPU direct convolution along output rows for thin patches (a few channels times a small kernel).

A layer whose filters have few weights (LeNet-5's C1: 1 channel, 5x5; ResNet's first 3x3 on one grey channel;
an RGB 3x3) gives BLAS a product with an inner dimension of 9-27: the patch copies of im2col cost more than
the product. Here each output row is summed in place instead, the kernel's width ``kw`` fixed at compile time
(a closure constant Numba unrolls, as :mod:`.scells` does): per element of the row, the ``kw`` taps of a
kernel row are added with one load and one store of the accumulator. Rows are computed ``Wp - kw + 1``
wide; a caller that pads x on the right to a whole number of SIMD vectors spares the loops their scalar
remainders (:mod:`v1sim.kernels.conv_rows`).

Kernels ``correlate_rows_{kw}`` (forward) and ``weight_grad_rows_{kw}`` (the weight gradient as dot products
along output rows, summed per group of images in a fixed order: the result does not depend on the thread
count), for ``kw`` in
:data:`WIDTHS`. No CUDA twins (:data:`v1sim.kernels.CPU_ONLY`): the device keeps its own convolution.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .common import twin

#: kernel widths with compiled row kernels; other widths take the GEMM paths
WIDTHS = (3, 5, 7)


def _rows_of_width(kw):
    def correlate(x, w, bias, out):
        n_img, n_ch, wp = x.shape[0], x.shape[1], x.shape[3]
        n_k, kh = w.shape[0], w.shape[2]
        ho, wo = out.shape[2], out.shape[3]
        wc = wp - kw + 1
        has_bias = bias.shape[0] > 0
        for n in prange(n_img):
            acc = np.empty(wc, dtype=out.dtype)
            for k in range(n_k):
                for oy in range(ho):
                    acc[:] = 0
                    for c in range(n_ch):
                        for u in range(kh):
                            row, wr = x[n, c, oy + u], w[k, c, u]
                            for ox in range(wc):
                                s = acc[ox]
                                for v in range(kw):  # kw is a compile-time constant: unrolled
                                    s += wr[v] * row[ox + v]
                                acc[ox] = s
                    dst = out[n, k, oy]
                    if has_bias:  # two loops rather than "+ 0.0", which would promote float32 to float64
                        bk = bias[k]
                        for ox in range(wo):
                            dst[ox] = acc[ox] + bk
                    else:
                        for ox in range(wo):
                            dst[ox] = acc[ox]

    def weight_grad(g, x, parts):
        n_img, n_ch = x.shape[0], x.shape[1]
        n_k, ho, wo = g.shape[1], g.shape[2], g.shape[3]
        kh, tasks = parts.shape[3], parts.shape[0]
        zero = parts.dtype.type(0)
        for t in prange(tasks):  # groups of images fixed by parts.shape[0], not by the threads
            lo, hi = t * n_img // tasks, (t + 1) * n_img // tasks
            total = np.empty(kw, dtype=parts.dtype)
            for k in range(n_k):
                for c in range(n_ch):
                    for u in range(kh):
                        total[:] = 0
                        for n in range(lo, hi):
                            for oy in range(ho):
                                grow, row = g[n, k, oy], x[n, c, oy + u]
                                for v in range(kw):
                                    s = zero
                                    for ox in range(wo):  # a dot product: vectorised by fastmath's reassociation
                                        s += grow[ox] * row[ox + v]
                                    total[v] += s
                        for v in range(kw):
                            parts[t, k, c, u, v] = total[v]

    # a name of its own per width: the registry's key, and Numba's cache key (which ignores closure values)
    # the weight gradient's dot products may be reassociated (and fused multiply-adds used), so that they
    # vectorise: 2.2-2.4x faster on LeNet-5's C1; the sums still do not depend on the number of threads
    for fn, name, doc, flags in (
        (correlate, "correlate_rows", "out = bias + valid correlation of x (padded) with w (K, C, kh, {kw})", {}),
        (
            weight_grad,
            "weight_grad_rows",
            "parts[t] = sum over images of group t of g (x) x, for w (K, C, kh, {kw})",
            {"fastmath": {"reassoc", "contract"}},
        ),
    ):
        fn.__name__ = fn.__qualname__ = f"{name}_{kw}"
        fn.__doc__ = doc.format(kw=kw) + "; rows computed Wp - kw + 1 wide, stride 1."
        twin(fn, **flags)


for _kw in WIDTHS:
    _rows_of_width(_kw)
