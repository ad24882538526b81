"""Fused passes of the CPU engine: ReLU's gradient in one pass, a residual block's add + ReLU, the 2x2
average-pooling gradient written in one pass (no zeroing), and the convolution's padding and cropping in one
parallel pass.

Each fused path is checked bit for bit against the numpy form it replaces (NaN, infinities and signed zeros
included), a residual block against its unfused add-then-ReLU path, its gradient against float64 central
differences, and a ResNet's training curve against the unfused path (equal to the last bit).
"""

from __future__ import annotations

import numpy as np
import pytest

from v1sim import kernels, nn
from v1sim.nn import blocks, models
from v1sim.nn import functional as F

DEVICES = ("cpu", "parallel")
DTYPES = (np.float32, np.float64)
SPECIAL = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1.0, -1.0, -2.0]
SPECIAL_B = [1.0, -np.inf, 1.0, -0.0, -0.0, 2.0, 0.5, -3.0]


def _operands(dtype, size=1001):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(size).astype(dtype), rng.standard_normal(size).astype(dtype)
    a[: len(SPECIAL)], b[: len(SPECIAL)] = SPECIAL, SPECIAL_B
    return a, b


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_add_relu_kernel_is_numpy_bit_for_bit(device, dtype):
    a, b = _operands(dtype)
    out = np.empty_like(a)
    kernels.get("add_relu", device)(a, b, out)
    with np.errstate(invalid="ignore"):
        expected = np.maximum(a + b, 0)
    assert out.tobytes() == expected.tobytes()  # NaN payloads and the sign of zero included


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_add_kernel_is_numpy_bit_for_bit_also_in_place(device, dtype):
    a, b = _operands(dtype)
    with np.errstate(invalid="ignore"):
        expected = a + b
    out = np.empty_like(a)
    kernels.get("add", device)(a, b, out)
    assert out.tobytes() == expected.tobytes()
    kernels.get("add", device)(a, b, a)  # into its first operand, as Residual.backward sums its gradients
    assert a.tobytes() == expected.tobytes()


@pytest.mark.parametrize(
    "body, shortcut",
    [("conv", None), ("identity", "conv"), ("identity", None), ("view", None)],
    ids=["conv+identity", "identity+conv", "one-array-twice", "body-returns-a-view"],
)
def test_residual_sums_its_gradients_as_numpy_whatever_the_branches_return(monkeypatch, body, shortcut):
    """In place into the body's gradient when it is an array of its own; a new array when the body returns
    the shortcut's own gradient (both identities) or a view: every case equal to ``a + b`` bit for bit, and
    the caller's output gradient untouched."""

    class View(nn.Module):  # backward hands back a view of its gradient
        def forward(self, x):
            return x

        def backward(self, grad_out, *, input_grad=True):
            return grad_out.reshape(-1).reshape(grad_out.shape)

        def output_shape(self, input_shape):
            return tuple(input_shape)

    make = {"conv": lambda: nn.Conv2d(3, 3, 3, padding=1, rng=1), "identity": nn.Identity, "view": View}
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    grad_out = rng.standard_normal(x.shape).astype(np.float32)
    kept = grad_out.copy()
    results = []
    for add in (None, lambda a, b: a + b):
        if add is not None:
            monkeypatch.setattr(blocks, "_add_gradients", add)
        block = nn.Residual(make[body](), None if shortcut is None else make[shortcut]())
        block(x)
        results.append(block.backward(grad_out))
    assert results[0].tobytes() == results[1].tobytes()
    assert grad_out.tobytes() == kept.tobytes()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_backward_kernel_is_numpy_bit_for_bit(device, dtype):
    g, x = _operands(dtype)
    y = np.maximum(x, 0)
    out = np.empty_like(g)
    kernels.get("relu_backward", device)(g, y, out)
    with np.errstate(invalid="ignore"):
        expected = g * (y > 0)
    assert out.tobytes() == expected.tobytes()
    assert np.isnan(out[1]) and np.signbit(out[7]) and out[7] == 0  # inf * 0 is NaN; -2 * 0 is -0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_backward_strided_and_contiguous_agree(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 5, 6)).astype(dtype)
    y, cache = F.relu_forward(x)
    g = rng.standard_normal((3, 4, 6, 5)).astype(dtype).transpose(0, 1, 3, 2)  # a strided view: the numpy form
    fast = F.relu_backward(np.ascontiguousarray(g), cache)
    slow = F.relu_backward(g, cache)
    assert fast.tobytes() == slow.tobytes() == (g * (y > 0)).tobytes()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 2, 8, 6), (2, 3, 7, 9)])  # even, and odd H and W (a row, a column uncovered)
def test_avg_pool_2x2_backward_equals_the_general_kernel(device, dtype, shape):
    rng = np.random.default_rng(6)
    n, c, h, w = shape
    g = rng.standard_normal((n, c, h // 2, w // 2)).astype(dtype)
    g.flat[:4] = [-0.0, np.nan, np.inf, -1e-45]  # -0.0 (and an underflow to it) must come out +0.0, as 0 + g/4
    general = np.zeros(shape, dtype)
    kernels.get("avg_pool_backward", device)(g, 2, 2, 2, 2, 0, 0, general)
    fast = np.full(shape, np.nan, dtype)  # garbage in: every element must be written
    kernels.get("avg_pool_2x2_backward", device)(g, fast)
    assert fast.tobytes() == general.tobytes()
    x = rng.standard_normal(shape).astype(dtype)
    _, cache = F.avg_pool2d_forward(x, 2)
    assert F.avg_pool2d_backward(g, cache).tobytes() == general.tobytes()  # the functional pair takes the fast path


def test_lenet5_training_curve_is_unchanged_by_the_pooling_fast_path(monkeypatch):
    """Three SGD steps of LeNet-5 with the one-pass 2x2 pooling gradient and with the general kernel: equal bits."""
    from v1sim.kernels import ops

    def curve():
        rng = np.random.default_rng(7)
        x, y = rng.random((16, 1, 32, 32), dtype=np.float32), rng.integers(0, 10, 16)
        model, crit = models.build("lenet5", rng=0), nn.CrossEntropyLoss()
        opt = nn.SGD(model.parameters(), lr=0.05, momentum=0.9)
        losses = []
        for _ in range(3):
            losses.append(float(crit(model(x), y)))
            model.zero_grad()
            model.backward(crit.backward(), input_grad=False)
            opt.step()
        return losses, [p.data.copy() for p in model.parameters()]

    calls = []
    real_get = ops.get
    monkeypatch.setattr(ops, "get", lambda name, device, size=None: calls.append(name) or real_get(name, device, size))
    fast = curve()
    assert calls.count("avg_pool_2x2_backward") == 3 * 2 and "avg_pool_backward" not in calls
    general = kernels.get("avg_pool_backward", "cpu")
    monkeypatch.setattr(
        ops,
        "get",
        lambda name, device, size=None: (
            (lambda g, gi: (gi.fill(0), general(g, 2, 2, 2, 2, 0, 0, gi)))
            if name == "avg_pool_2x2_backward"
            else real_get(name, device, size)
        ),
    )
    slow = curve()
    assert fast[0] == slow[0] and fast[0][-1] < fast[0][0]
    assert all(a.tobytes() == b.tobytes() for a, b in zip(fast[1], slow[1]))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("py, px", [(1, 1), (0, 2), (3, 0), (2, 5)])
def test_pad_and_crop_kernels_equal_numpy(device, dtype, py, px):
    x = np.random.default_rng(8).standard_normal((2, 3, 5, 4)).astype(dtype)
    x[0, 0, 0, :2] = [-0.0, np.nan]
    padded = np.full((2, 3, 5 + 2 * py, 4 + 2 * px), np.nan, dtype)  # garbage in: every element must be written
    kernels.get("pad_nchw", device)(x, py, px, padded)
    assert padded.tobytes() == np.pad(x, ((0, 0), (0, 0), (py, py), (px, px))).tobytes()
    cropped = np.full_like(x, np.nan)
    kernels.get("crop_nchw", device)(padded, py, px, cropped)
    assert cropped.tobytes() == x.tobytes()


def _unfused(monkeypatch):
    monkeypatch.setattr(blocks, "_add_relu", lambda a, b: None)  # Residual's add, then its ReLU layer


def _block_pass(block, x, grad_out):
    out = block(x)
    block.zero_grad()
    dx = block.backward(grad_out)
    return out, dx, [p.grad.copy() for p in block.parameters()]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("stride", [1, 2])
def test_residual_block_equals_its_unfused_path(monkeypatch, dtype, stride):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 8, 8)).astype(dtype)
    block = nn.BasicBlock(4, 8 if stride == 2 else 4, stride=stride, shortcut="A", rng=0)
    block.to(dtype=dtype)
    grad_out = rng.standard_normal((3,) + block.output_shape(x.shape[1:])).astype(dtype)
    fused = _block_pass(block, x, grad_out)
    _unfused(monkeypatch)
    plain = _block_pass(block, x, grad_out)
    for a, b in zip(fused[:2] + tuple(fused[2]), plain[:2] + tuple(plain[2])):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    assert (fused[0] >= 0).all() and (fused[0] == 0).any()  # rectified, with some units cut


def test_a_residual_blocks_relu_can_still_be_captured():
    """layer_outputs shadows a layer's forward to read it: the fused path must let the block's ReLU run."""
    from v1sim.visualize.activations import layer_outputs

    model = models.build("resnet20", in_channels=1, num_classes=10, rng=0)
    x = np.random.default_rng(5).random((2, 1, 16, 16), dtype=np.float32)
    maps = layer_outputs(model, x, ["stage1.0.relu", "stage1.0"])
    assert maps["stage1.0.relu"].shape == (2, 16, 16, 16)
    np.testing.assert_array_equal(maps["stage1.0.relu"], maps["stage1.0"])  # the block's output is its ReLU's


def test_residual_gradient_matches_central_differences():
    """dL/dx of a float64 residual block (batch statistics, L = sum(out * r)) against central differences."""
    rng = np.random.default_rng(3)
    block = nn.Residual(nn.Sequential(nn.Conv2d(2, 2, 3, padding=1, rng=0), nn.BatchNorm2d(2)))
    block.double()
    x = rng.standard_normal((2, 2, 4, 4))
    r = rng.standard_normal((2, 2, 4, 4))
    block(x)
    dx = block.backward(r)

    def loss(v):
        return float((block(v) * r).sum())

    h, numeric = 1e-6, np.empty_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        numeric[i] = (loss(up) - loss(down)) / (2 * h)
    np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-8)


def _curve(steps=3):
    rng = np.random.default_rng(4)
    x = rng.random((8, 1, 16, 16), dtype=np.float32)
    y = rng.integers(0, 10, 8)
    model = models.build("resnet20", in_channels=1, num_classes=10, rng=0)
    crit = nn.CrossEntropyLoss()
    opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    losses = []
    for _ in range(steps):
        losses.append(float(crit(model(x), y)))
        model.zero_grad()
        model.backward(crit.backward(), input_grad=False)
        opt.step()
    return losses, [p.data.copy() for p in model.parameters()]


def test_resnet20_training_curve_equals_the_unfused_path(monkeypatch):
    """Three SGD steps of ResNet-20: the fused and unfused residual paths give the same losses and weights, bit
    for bit (tolerance 0: the fused kernels round exactly as the numpy forms)."""
    fused_calls = []

    def spy(a, b):
        out = add_relu(a, b)
        fused_calls.append(out is not None)
        return out

    add_relu = blocks._add_relu
    monkeypatch.setattr(blocks, "_add_relu", spy)
    losses, weights = _curve()
    assert len(fused_calls) == 3 * 9 and all(fused_calls)  # nine residual blocks, three steps: all fused
    _unfused(monkeypatch)
    plain_losses, plain_weights = _curve()
    assert losses == plain_losses
    assert losses[-1] < losses[0]  # it trains
    assert all(a.tobytes() == b.tobytes() for a, b in zip(weights, plain_weights))
