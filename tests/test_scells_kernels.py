"""The S-cell kernels unrolled for a width (kernels/cpu/scells.py) equal the generic one bit for bit (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi

from v1sim import kernels
from v1sim.hierarchy import SLayer
from v1sim.kernels.cpu.scells import WIDTHS

# each case compiles a kernel when Numba's cache is cold (a few seconds): every width once, both dtypes, both devices
CASES = [(5, np.float32, "parallel"), (5, np.float64, "cpu"), (3, np.float32, "cpu"), (7, np.float32, "cpu")]


def test_every_width_is_registered():
    assert {f"s_cells_{kw}" for kw in WIDTHS} <= set(kernels.names())


@pytest.mark.parametrize("kw, dtype, device", CASES)
def test_unrolled_s_cells_equal_the_generic_kernel_bit_for_bit(kw, dtype, device):
    rng = np.random.default_rng(kw)
    kh, n_k, ch = 5, 5, 3  # odd counts: no plane or row count a multiple of a vector
    x = rng.random((3, ch, 13 + kh - 1, 11 + kw - 1 + 7)).astype(dtype)  # 7 extra columns: rows wider than out
    a = rng.standard_normal((n_k, ch, kh, kw)).astype(dtype)
    c = rng.random((kh, kw)).astype(dtype) + 0.1
    for mode in (0, 1):
        want = np.full((3, n_k, 13, 11), np.nan, dtype)
        got = np.full_like(want, np.nan)
        kernels.get("s_cells", device)(x, a, c, mode, 0.8, 0.8 / 1.8, want)
        kernels.get(f"s_cells_{kw}", device)(x, a, c, mode, 0.8, 0.8 / 1.8, got)
        assert np.isfinite(got).all()
        np.testing.assert_array_equal(got, want)


def test_fused_slayer_matches_scipy_with_the_unrolled_kernel():
    """The Neocognitron's US1 shape (2 -> 8 planes, 5x5) through SLayer: the fused path against scipy.ndimage."""
    rng = np.random.default_rng(1)
    x = rng.random((4, 2, 28, 28)).astype(np.float32)
    layer = SLayer(rng.random((8, 2, 5, 5)), r=0.8, c=rng.random((5, 5)) + 0.2, method="fused")
    e = np.stack(
        [
            [sum(ndi.correlate(x[n, k], layer.a[p, k], mode="constant") for k in range(2)) for p in range(8)]
            for n in range(4)
        ]
    )
    v = np.sqrt(np.stack([ndi.correlate((x[n] ** 2).sum(0), layer.c, mode="constant") for n in range(4)]))[:, None]
    want = 0.8 * np.maximum(e - layer.theta * v, 0) / (1 + layer.theta * v)
    np.testing.assert_allclose(layer(x), want, rtol=1e-5, atol=1e-6)
