"""CPU S-cell kernels with the connection area's width fixed at compile time: ``s_cells_3``, ``_5``, ``_7``.

The same fused S-cell layer as :func:`v1sim.kernels.cpu.conv.s_cells` (excitation, V-cell and output in one
pass over the input), with the same sums in the same order, so the outputs are equal bit for bit. The width
``kw`` of the connection area is a constant of each compiled kernel (a closure variable Numba treats as
one), so the loop over the ``kw`` taps of a row is unrolled inside the loop along the output row: each
output element is loaded and stored once per input row of the area, not once per tap, and the taps share
their loads of the input row (the generic kernel, with a run-time ``kw``, loaded and stored it ``kw``
times). On 64 digits, the Neocognitron's US1 (2 -> 8 planes, 5x5, one core, 4-5 busy neighbours): 2.8 ms
generic, 1.7 ms unrolled.

No CUDA twins: the S-cells run on the CPU only (:data:`v1sim.kernels.CPU_ONLY`).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .common import twin

#: widths of the connection area with a compiled kernel ``s_cells_{kw}``; others use the generic ``s_cells``
WIDTHS = (3, 5, 7)


def _s_cells_of_width(kw):
    """Register ``s_cells_{kw}``: :func:`~v1sim.kernels.cpu.conv.s_cells` for templates ``kw`` wide."""

    def body(x, a, c, mode, r, theta, out):
        n_img, n_ch, wp = x.shape[0], x.shape[1], x.shape[3]
        n_k, kh = a.shape[0], a.shape[2]
        ho, wo = out.shape[2], out.shape[3]
        wc = wp - kw + 1
        one = out.dtype.type(1.0)
        r_, theta_, tiny = out.dtype.type(r), out.dtype.type(theta), out.dtype.type(1e-12)
        for n in prange(n_img):
            shift = np.empty(wc, dtype=out.dtype)  # theta v (mode 0) or max(v, tiny) (mode 1)
            gain = np.empty(wp, dtype=out.dtype)  # squared input row, then r / (1 + theta v)
            acc = np.empty(wc, dtype=out.dtype)
            for oy in range(ho):
                shift[:] = 0
                for ch in range(n_ch):
                    for u in range(kh):
                        row = x[n, ch, oy + u]
                        for j in range(wp):
                            gain[j] = row[j] * row[j]
                        cu = c[u]
                        for ox in range(wc):
                            s = shift[ox]
                            for v in range(kw):  # kw is a compile-time constant: unrolled
                                s += cu[v] * gain[ox + v]
                            shift[ox] = s
                if mode == 0:
                    for ox in range(wc):
                        shift[ox] = theta_ * np.sqrt(max(shift[ox], 0))
                        gain[ox] = r_ / (one + shift[ox])
                else:
                    for ox in range(wc):
                        shift[ox] = max(np.sqrt(max(shift[ox], 0)), tiny)
                for k in range(n_k):
                    acc[:] = 0
                    for ch in range(n_ch):
                        for u in range(kh):
                            row = x[n, ch, oy + u]
                            au = a[k, ch, u]
                            for ox in range(wc):
                                s = acc[ox]
                                for v in range(kw):
                                    s += au[v] * row[ox + v]
                                acc[ox] = s
                    res = out[n, k, oy]
                    if mode == 0:
                        for ox in range(wo):
                            res[ox] = max(acc[ox] - shift[ox], 0) * gain[ox]
                    else:
                        for ox in range(wo):
                            res[ox] = abs(acc[ox]) / shift[ox]

    # a name of its own per width: the registry's key, and Numba's cache key (which ignores closure values)
    body.__name__ = f"s_cells_{kw}"
    body.__qualname__ = f"s_cells_{kw}"
    body.__doc__ = f"Fused S-cells (as conv.s_cells) for templates {kw} wide; x padded, stride 1."
    return twin(body)


for _kw in WIDTHS:
    _s_cells_of_width(_kw)
