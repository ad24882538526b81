"""The CUDA twins at the numerical edges: batch norm far from zero in float64, sigmoid's tails and L2 pooling of
tiny and huge values in float32, against float64 references.

Marked ``cuda`` and run as ``test_cuda_kernels.py`` says (``NUMBA_ENABLE_CUDASIM=1 python3 -m pytest -m cuda``
without a GPU; skipped with that hint otherwise). Sizes are small and odd so tail blocks run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from v1sim import pooling
from v1sim.nn import functional as F
from v1sim.nn.device import to_device, to_host

pytestmark = pytest.mark.cuda
OFFSETS = (0.0, 1e2, 1e4, 1e6)
BN_SHAPE, SPREAD = (3, 2, 5, 3), 0.5
SIGMOID_X = np.linspace(-110.0, 90.0, 1001).astype(np.float32)
L2_SCALES = (1e-30, 1e30)  # float32 squares flush to 0 below 1e-19 and overflow above 1.8e19


def l2_input(scale):
    """(2, 3, 7, 9) float32 maps of magnitude ``scale``, odd sizes so tail blocks run."""
    return (np.random.default_rng(5).uniform(0.5, 2.0, (2, 3, 7, 9)) * scale).astype(np.float32)


def bn_inputs(offset):
    rng = np.random.default_rng(int(offset) % 1000 + 1)
    c = BN_SHAPE[1]
    x = rng.standard_normal(BN_SHAPE) * SPREAD + offset
    return x, rng.uniform(0.5, 2, c), rng.standard_normal(c), rng.standard_normal(BN_SHAPE)


def two_pass(x, gamma, beta, g, eps):
    """Batch norm forward and backward by the textbook two passes with exactly rounded sums (math.fsum)."""
    c = x.shape[1]
    xs, gs = (np.moveaxis(a, 1, 0).reshape(c, -1) for a in (x, g))
    m = xs.shape[1]
    mean = np.array([math.fsum(r) / m for r in xs])
    d = xs - mean[:, None]
    var = np.array([math.fsum(r) / m for r in d * d])
    invstd = 1 / np.sqrt(var + eps)
    xhat = d * invstd[:, None]
    dbeta = np.array([math.fsum(r) for r in gs])
    dgamma = np.array([math.fsum(r) for r in gs * xhat])
    dx = (gamma * invstd / m)[:, None] * (m * gs - dbeta[:, None] - xhat * dgamma[:, None])

    def back(a):
        return np.moveaxis(a.reshape((c, x.shape[0]) + x.shape[2:]), 0, 1).ravel()

    return {
        "out": back(xhat * gamma[:, None] + beta[:, None]),
        "dx": back(dx),
        "dgamma": dgamma,
        "dbeta": dbeta,
        "rm": 0.75 * 3.0 + 0.25 * mean,
        "rv": 0.75 * 2.0 + 0.25 * var * m / (m - 1),
    }


@pytest.mark.parametrize("offset", OFFSETS)
def test_batch_norm_twin_is_exact_far_from_zero_in_float64(offset):
    x, gamma, beta, g = bn_inputs(offset)
    rm, rv = to_device(np.full(2, 3.0)), to_device(np.full(2, 2.0))
    out, cache = F.batch_norm_forward(
        to_device(x), to_device(gamma), to_device(beta), rm, rv, training=True, momentum=0.25, eps=1e-5
    )
    dx, dgamma, dbeta = F.batch_norm_backward(to_device(g), cache)
    got = {"out": out, "dx": dx, "dgamma": dgamma, "dbeta": dbeta, "rm": rm, "rv": rv}
    got = {k: np.asarray(to_host(v)).ravel() for k, v in got.items()}
    want = two_pass(*bn_inputs(offset), 1e-5)
    # the mean is held to float64's spacing at the offset; nothing else may be lost (one-pass: 8 digits at 1e4)
    tol = 1e-13 + 4 * np.spacing(offset) / SPREAD
    for name in ("out", "dx", "dgamma", "dbeta", "rm"):
        np.testing.assert_allclose(got[name], want[name], rtol=0, atol=tol * np.abs(want[name]).max(), err_msg=name)
    np.testing.assert_allclose(got["rv"], want["rv"], rtol=1e-12)


def test_sigmoid_twin_keeps_float32_tails():
    y, cache = F.sigmoid_forward(to_device(SIGMOID_X))
    dy = F.sigmoid_backward(to_device(np.ones_like(SIGMOID_X)), cache)
    y, dy = np.asarray(to_host(y)), np.asarray(to_host(dy))
    assert y.dtype == dy.dtype == np.float32
    y, dy = y.astype(np.float64), dy.astype(np.float64)
    x = SIGMOID_X.astype(np.float64)
    ref = 1 / (1 + np.exp(-x))
    tiny = float(np.finfo(np.float32).tiny)
    normal = ref >= tiny
    np.testing.assert_allclose(y[normal], ref[normal], rtol=4 * np.finfo(np.float32).eps)  # down to sigmoid(-87)
    np.testing.assert_allclose(y[~normal], ref[~normal], rtol=0, atol=2 * 2.0**-149)  # subnormal down to -103
    assert np.all(y[x > -103] > 0)
    # the gradient y (1 - y): relative in the lower tail, to float32's spacing at 1 in the upper
    dref = ref * (1 - ref)
    lower = normal & (x < 0)
    np.testing.assert_allclose(dy[lower], dref[lower], rtol=8 * np.finfo(np.float32).eps)
    np.testing.assert_allclose(dy[x >= 0], dref[x >= 0], rtol=0, atol=2 * np.finfo(np.float32).eps)


@pytest.mark.parametrize("scale", L2_SCALES)
def test_l2_pool_twin_squares_in_float64(scale):
    """The CUDA twin keeps float32 windows of 1e-30 and 1e30 (no flush to 0, no overflow), as the CPU twin."""
    out = np.asarray(pooling.pool2d(l2_input(scale), 3, 2, padding=1, kind="l2", device="cuda"))
    assert out.dtype == np.float32
    got = out.astype(np.float64).ravel()
    x = l2_input(scale).astype(np.float64)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    want = np.array(
        [
            [
                [
                    [np.sqrt(np.sum(xp[n, c, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3] ** 2)) for j in range(5)]
                    for i in range(4)
                ]
                for c in range(3)
            ]
            for n in range(2)
        ]
    ).ravel()
    assert np.all(np.isfinite(got)) and np.all(got > 0)
    np.testing.assert_allclose(got, want, rtol=2 * np.finfo(np.float32).eps)
    cpu = pooling.pool2d(l2_input(scale), 3, 2, padding=1, kind="l2", device="cpu").ravel()
    np.testing.assert_allclose(got, cpu, rtol=np.finfo(np.float32).eps)
