"""CPU direct convolution along output rows for thin patches (a few channels times a small kernel).

A layer whose filters have few weights (LeNet-5's C1: 1 channel, 5x5; ResNet's first 3x3 on one grey channel;
an RGB 3x3) gives BLAS a product with an inner dimension of 9-27: the patch copies of im2col cost more than
the product. Here each output row is summed in place instead, the kernel's width ``kw`` fixed at compile time
(a closure constant Numba unrolls, as :mod:`.scells` does): per element of the row, the ``kw`` taps of a
kernel row are added with one load and one store of the accumulator. Rows are computed ``Wp - kw + 1``
wide; a caller that pads x on the right to a whole number of SIMD vectors spares the loops their scalar
remainders (:mod:`v1sim.kernels.conv_rows`).

Kernels ``correlate_rows_{kw}`` (forward) for ``kw`` in :data:`WIDTHS` (the weight gradient is
:mod:`v1sim.kernels.row_tiles`'s). No CUDA twins (:data:`v1sim.kernels.CPU_ONLY`): the device keeps its own convolution.
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

    # a name of its own per width: the registry's key, and Numba's cache key (which ignores closure values)
    correlate.__name__ = correlate.__qualname__ = f"correlate_rows_{kw}"
    correlate.__doc__ = f"out = bias + valid correlation of x (padded) with w (K, C, kh, {kw})"
    correlate.__doc__ += "; rows computed Wp - kw + 1 wide, stride 1."
    twin(correlate)


for _kw in WIDTHS:
    _rows_of_width(_kw)
