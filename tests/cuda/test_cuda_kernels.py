"""The CUDA twins (``device="cuda"``) of the public kernels API and of the kernel registry, against the CPU.

Marked ``cuda``: they run where ``numba.cuda`` can run kernels, on a GPU or in Numba's CUDA simulator, and
are skipped with the reason otherwise (see ``tests/conftest.py``). The simulator must be switched on before
Numba is first imported, so it is chosen on the command line, in a pytest run of its own::

    NUMBA_ENABLE_CUDASIM=1 python3 -m pytest -m cuda

(``.ci/run`` does this after the main suite, which it runs with ``-m "not cuda"``.) A plain
``python3 -m pytest`` on a machine without a GPU reports these tests as skipped, with that command.

Shapes are small and odd (2 x 3 x 13 x 11) so that the 128-thread blocks end in partial tail blocks.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

import v1sim
from v1sim import kernels, nn
from v1sim.pooling import pool2d_backward

pytestmark = pytest.mark.cuda

_rng = np.random.default_rng(0)
X = _rng.standard_normal((2, 3, 13, 11)).astype(np.float32)
W = _rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
B = _rng.standard_normal(4).astype(np.float32)
IMAGES = _rng.standard_normal((2, 13, 11)).astype(np.float32)
BANK = _rng.standard_normal((3, 5, 4)).astype(np.float32)
XI = _rng.integers(-3, 4, size=(2, 3, 13, 11)).astype(np.float32)  # many ties: the first maximum wins
POOL_GEOMETRIES = [(2, None, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 0))]  # (size, stride, padding)


@pytest.mark.parametrize("stride, padding", [((1, 1), (0, 0)), ((2, 2), (1, 1)), ((1, 3), (2, 0))])
def test_correlate_batch_matches_cpu(assert_close, stride, padding):
    args = {"stride": stride, "padding": padding}
    assert_close(
        v1sim.correlate_batch(X, W, B, device="cuda", **args), v1sim.correlate_batch(X, W, B, device="cpu", **args)
    )


def test_correlate_batch_keeps_float64(assert_close):
    x64, w64 = X[:1].astype(np.float64), W.astype(np.float64)
    assert_close(
        v1sim.correlate_batch(x64, w64, stride=2, padding=1, device="cuda"),
        v1sim.correlate_batch(x64, w64, stride=2, padding=1, device="cpu"),
        tol=1e-12,
    )


@pytest.mark.parametrize("mode", ["reflect", "constant"])
def test_apply_bank_matches_cpu(assert_close, mode):
    assert_close(
        v1sim.apply_bank(IMAGES, BANK, mode=mode, cval=0.5, device="cuda"),
        v1sim.apply_bank(IMAGES, BANK, mode=mode, cval=0.5, device="cpu"),
    )


def test_apply_bank_single_image_matches_cpu(assert_close):
    assert_close(v1sim.apply_bank(IMAGES[0], BANK, device="cuda"), v1sim.apply_bank(IMAGES[0], BANK, device="cpu"))


def test_correlate2d_same_matches_scipy_in_float32(assert_close):
    want = scipy.signal.correlate2d(IMAGES[0].astype(np.float64), BANK[0].astype(np.float64), mode="same")
    assert_close(v1sim.correlate2d(IMAGES[0], BANK[0], mode="same", device="cuda"), want, dtype=np.float32)


@pytest.mark.parametrize("geometry", POOL_GEOMETRIES, ids=str)
def test_max_pool_values_and_first_argmax_match_cpu_exactly(assert_close, geometry):
    out_g, idx_g = v1sim.pool2d(XI, *geometry, return_indices=True, device="cuda")
    out_c, idx_c = v1sim.pool2d(XI, *geometry, return_indices=True, device="cpu")
    assert_close(out_g, out_c, tol=0)
    assert_close(idx_g, idx_c, tol=0, dtype=np.int32)
    assert_close(v1sim.pool2d(XI, *geometry, device="cuda"), out_c, tol=0)


@pytest.mark.parametrize("kind", ["avg", "l2"])
@pytest.mark.parametrize("geometry", POOL_GEOMETRIES, ids=str)
def test_avg_and_l2_pool_match_cpu(assert_close, geometry, kind):
    assert_close(
        v1sim.pool2d(X, *geometry, kind=kind, device="cuda"), v1sim.pool2d(X, *geometry, kind=kind, device="cpu")
    )


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("geometry", POOL_GEOMETRIES, ids=str)
def test_pool2d_backward_matches_cpu(assert_close, geometry, kind):
    out, idx = v1sim.pool2d(XI, *geometry, return_indices=True, device="cpu")
    g = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    extra = {"indices": idx} if kind == "max" else {"kind": "avg"}
    assert_close(
        pool2d_backward(g, XI.shape, *geometry, device="cuda", **extra),
        pool2d_backward(g, XI.shape, *geometry, device="cpu", **extra),
    )


def small_net(device):
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, device=device, rng=1),
        nn.Tanh(),
        nn.AvgPool2d(2, device=device),
        nn.Conv2d(3, 4, 3, padding=1, groups=1, device=device, rng=2),
        nn.ReLU(),
        nn.MaxPool2d(2, device=device),
        nn.Flatten(),
        nn.Linear(4 * 2 * 2, 5, rng=3),
    )


def test_training_step_of_layers_built_for_cuda_matches_cpu(assert_close):
    xs = np.random.default_rng(2).standard_normal((2, 1, 10, 10)).astype(np.float32)
    ys = np.array([1, 3])
    grads = {}
    for device in ("cuda", "cpu"):
        net, crit = small_net(device), nn.CrossEntropyLoss()
        loss = crit(net(xs), ys)
        dx = net.backward(crit.backward())
        grads[device] = [np.float32(loss), dx] + [p.grad for p in net.parameters()]
    assert len(grads["cuda"]) == 2 + 6  # loss, dx, then the 6 parameter gradients
    for got, want in zip(grads["cuda"], grads["cpu"]):
        assert_close(got, want)


# -- the kernel registry: every CPU kernel with a CUDA twin, same arguments, same result --------------------


def nan(*shape):
    return np.full(shape, np.nan, np.float32)


def _out(h, k, s, p=0):
    return (h + 2 * p - k) // s + 1


def kernel_arguments(name, rng):
    """Arguments of kernel ``name`` (float32, odd sizes); the outputs are pre-filled with NaN (or zeroed where
    the kernel adds into them), so an element the twin leaves unwritten fails the comparison."""
    x = rng.standard_normal((2, 3, 13, 11)).astype(np.float32)
    ph, pw, sy, sx, py, px = 3, 2, 2, 1, 1, 0
    pooled = (2, 3, _out(13, ph, sy, py), _out(11, pw, sx, px))
    if name == "correlate_valid":
        return (x, rng.standard_normal((5, 3, 3, 2)).astype(np.float32), 2, 1, nan(2, 5, 6, 10))
    if name == "correlate_valid_bank":
        return (x, rng.standard_normal((3, 3, 2, 9)).astype(np.float32), 2, 1, nan(2, 9, 6, 10))
    if name == "im2col":
        return (x, 3, 2, 2, 3, nan(3 * 3 * 2, 2, _out(13, 3, 2) * _out(11, 2, 3)))
    if name == "col2im":
        cols = rng.standard_normal((3 * 3 * 2, 2, _out(13, 3, 2) * _out(11, 2, 3))).astype(np.float32)
        return (cols, 3, 2, 2, 3, np.zeros_like(x))
    if name == "swap01":
        return (
            rng.standard_normal((3, 5, 7)).astype(np.float32),
            rng.standard_normal(3).astype(np.float32),
            nan(5, 3, 7),
        )
    if name == "tanh_float32":
        return (rng.uniform(-9, 9, 301).astype(np.float32), nan(301))
    if name == "add":
        return (rng.standard_normal(301).astype(np.float32), rng.standard_normal(301).astype(np.float32), nan(301))
    if name == "tanh_backward":
        return (
            rng.standard_normal(301).astype(np.float32),
            np.tanh(rng.standard_normal(301)).astype(np.float32),
            nan(301),
        )
    if name == "max_pool":
        return (x, ph, pw, sy, sx, py, px, nan(*pooled), np.full(pooled, -1, np.int32))
    if name in ("avg_pool", "l2_pool"):
        return (x, ph, pw, sy, sx, py, px, nan(*pooled))
    if name == "max_pool_backward":
        idx = np.empty(pooled, np.int32)
        kernels.get("max_pool", "cpu")(x, ph, pw, sy, sx, py, px, np.empty(pooled, np.float32), idx)
        return (rng.standard_normal(pooled).astype(np.float32), idx, np.zeros_like(x))
    if name == "avg_pool_backward":
        return (rng.standard_normal(pooled).astype(np.float32), ph, pw, sy, sx, py, px, np.zeros_like(x))
    raise KeyError(f"kernel {name!r} has a CUDA twin but no test arguments: add them to kernel_arguments")


TWINNED = [name for name in kernels.names() if name not in kernels.CPU_ONLY]


@pytest.mark.parametrize("name", TWINNED)
def test_kernel_twin_matches_cpu(assert_close, name):
    """The registry's CUDA twin of each kernel (host arrays in, results copied back) writes what the CPU
    kernel writes into its outputs: the last argument (max_pool: the last two, values and argmax)."""
    cpu_args, cuda_args = (kernel_arguments(name, np.random.default_rng(3)) for _ in range(2))
    kernels.get(name, "cpu")(*cpu_args)
    kernels.get(name, "cuda")(*cuda_args)
    n_out = 2 if name == "max_pool" else 1
    for got, want in zip(cuda_args[-n_out:], cpu_args[-n_out:]):
        unwritten = np.isnan(want) if want.dtype.kind == "f" else want < 0  # the NaN / -1 fill
        assert not unwritten.any(), f"the CPU {name} left outputs unwritten: the test's arguments are wrong"
        assert_close(got, want, tol=1e-6 if name == "tanh_float32" else 1e-5)
