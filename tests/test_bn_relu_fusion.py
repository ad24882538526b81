"""Batch norm + ReLU run as one layer on the CPU (issue 15): bit for bit the two layers it replaces.

The kernels against their unfused pair (special values included), the
functional pair against ``batch_norm_*`` + ``relu_*`` and against float64
central differences, and whole networks (a BN-ReLU stack, ResNet-20) trained
for three SGD steps with the fusion on and off: outputs, every gradient,
parameter and running statistic equal bit for bit. The pair must fall back to
two layers while :mod:`v1sim.nn.capture` watches either of them, for strided
inputs, and in any other arrangement, and leave every layer's name, cache and
state as the two layers would.
"""

from __future__ import annotations

import numpy as np
import pytest
from naive import assert_grad

from v1sim import kernels, nn
from v1sim.nn import container, models
from v1sim.nn import functional as F
from v1sim.nn.capture import capture_outputs

DTYPES = (np.float32, np.float64)
DEVICES = ("cpu", "parallel")


def bits(a):
    """The array's bit patterns (NaN payloads and the sign of zero compared too)."""
    a = np.ascontiguousarray(a)
    return a.view({4: np.uint32, 8: np.uint64}[a.dtype.itemsize])


def assert_bits_equal(got, want, what=""):
    assert got.dtype == want.dtype and got.shape == want.shape, what
    np.testing.assert_array_equal(bits(got), bits(want), err_msg=what)


def special(shape, dtype, rng):
    """Random normal values with NaN, +-inf and +-0 mixed in (each kind several times)."""
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    picks = rng.choice(flat.size, 12, replace=False)
    flat[picks] = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0] * 2, dtype)
    return x


# ----------------------------------------------------------------------------- kernels


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_fused_kernels_equal_the_affine_map_relu_and_masked_backward(dtype, device):
    rng = np.random.default_rng(1)
    x = special((3, 4, 50), dtype, rng)
    scale, shift = rng.standard_normal(4), rng.standard_normal(4)
    scale[1], shift[1] = 1.0, -0.0  # x * 1 + -0.0 keeps -0.0: the ReLU must give +0.0, as np.maximum
    ref = np.empty_like(x)
    kernels.get("bn_affine", device)(x, scale, shift, ref)
    want = np.maximum(ref, 0)
    assert np.signbit(ref[:, 1][ref[:, 1] == 0]).any()  # the case is really exercised
    got = np.empty_like(x)
    kernels.get("bn_affine_relu", device)(x, scale, shift, got)
    assert_bits_equal(got, want, "bn_affine_relu")

    g = special(x.shape, dtype, rng)
    with np.errstate(invalid="ignore"):  # inf * 0
        masked = g * (got > 0)  # relu_backward's product: NaN * 0 stays NaN, -g * 0 is -0.0
    mean, invstd = rng.standard_normal(4), rng.random(4) + 0.5
    sums = [np.empty(4) for _ in range(4)]
    kernels.get("bn_backward_sums", device)(masked, x, mean, invstd, sums[0], sums[1])
    kernels.get("bn_backward_sums_relu", device)(g, got, x, mean, invstd, sums[2], sums[3])
    assert_bits_equal(sums[2], sums[0], "sum g")
    assert_bits_equal(sums[3], sums[1], "sum g xhat")
    a, b = rng.random(4), rng.standard_normal((2, 4))
    dx, dx_fused = np.empty_like(x), np.empty_like(x)
    kernels.get("bn_backward_dx", device)(masked, x, mean, invstd, a, b, dx)
    kernels.get("bn_backward_dx_relu", device)(g, got, x, mean, invstd, a, b, dx_fused)
    assert_bits_equal(dx_fused, dx, "dx")


# ----------------------------------------------------------------------------- the functional pair


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (7, 3)])
def test_functional_pair_equals_batch_norm_then_relu_bit_for_bit(dtype, training, shape):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype) * 3 + 1
    if not training:  # the running statistics keep special inputs local, so they reach the output
        x = special(shape, dtype, rng)
    gamma, beta = rng.standard_normal(3).astype(dtype), rng.standard_normal(3).astype(dtype)
    beta[0] = -0.0
    stats = [rng.standard_normal(3).astype(dtype), rng.random(3).astype(dtype) + 0.5]
    stats_fused = [s.copy() for s in stats]
    bn_out, bn_cache = F.batch_norm_forward(x, gamma, beta, *stats, training=training, momentum=0.3)
    want, relu_cache = F.relu_forward(bn_out)
    got, cache = F.batch_norm_relu_forward(x, gamma, beta, *stats_fused, training=training, momentum=0.3)
    assert isinstance(cache, F.BatchNormReluCache)
    assert_bits_equal(got, want, "output")
    for s, s_fused in zip(stats, stats_fused):
        assert_bits_equal(s_fused, s, "running statistics")
    g = special(shape, dtype, rng)
    for got_grad, want_grad in zip(
        F.batch_norm_relu_backward(g, cache), F.batch_norm_backward(F.relu_backward(g, relu_cache), bn_cache)
    ):
        assert_bits_equal(got_grad, want_grad, "gradient")


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3, 3, 2), (6, 5)])
def test_functional_pair_gradients_match_central_differences(shape, training):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape) * 2 + 1
    c = shape[1]
    gamma, beta = rng.uniform(0.5, 2, c) * rng.choice([-1, 1], c), rng.standard_normal(c) * 0.5
    rm, rv = rng.standard_normal(c), rng.uniform(0.5, 2, c)

    def fwd(x, gamma, beta):
        return F.batch_norm_relu_forward(x, gamma, beta, rm.copy(), rv.copy(), training=training)

    before_relu, _ = F.batch_norm_forward(x, gamma, beta, rm.copy(), rv.copy(), training=training)
    assert np.abs(before_relu).min() > 1e-4  # a 1e-6 step crosses no kink of the ReLU
    assert 0.2 < np.mean(before_relu > 0) < 0.8  # both sides of the kink are checked
    out, cache = fwd(x, gamma, beta)
    g = rng.standard_normal(out.shape)
    grads = F.batch_norm_relu_backward(g, cache)

    def loss():
        return float(np.sum(fwd(x, gamma, beta)[0] * g))

    for k, (a, da) in enumerate(zip((x, gamma, beta), grads)):
        assert da.shape == a.shape
        assert_grad(da, loss, a, rng, name=f"input {k}")


def test_functional_pair_checks_its_arguments_by_name():
    from v1sim.errors import InputError, InputTypeError

    x = np.ones((2, 3), np.float32)
    with pytest.raises(InputError) as exc:
        F.batch_norm_relu_forward(x, np.ones(2), np.zeros(3))
    assert exc.value.argument == "gamma"
    with pytest.raises(InputError) as exc:
        F.batch_norm_relu_forward(x, np.ones(3), np.zeros(3), training=False)
    assert exc.value.argument == "running_mean"
    _, bn_cache = F.batch_norm_forward(np.arange(6.0).reshape(2, 3), np.ones(3), np.zeros(3))
    with pytest.raises(InputTypeError) as exc:  # the plain batch norm's cache carries no ReLU mask
        F.batch_norm_relu_backward(np.ones((2, 3)), bn_cache)
    assert exc.value.argument == "cache"


# ----------------------------------------------------------------------------- networks, fusion on and off


def _unfused(monkeypatch):
    monkeypatch.setattr(container, "_fusable", lambda *args: False)


def _bn_relu_stack(rng):
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, rng=rng),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1, rng=rng),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 6 * 6, 5, rng=rng),
        nn.BatchNorm1d(5),
        nn.ReLU(),
        nn.Linear(5, 3, rng=rng),
    )


def _train(build, dtype, steps=3):
    """Outputs, gradients and state after each of ``steps`` SGD steps on fixed random batches."""
    model = build()
    model.to(dtype=dtype)
    shape = (6, 2, 6, 6) if isinstance(model[0], nn.Conv2d) and model[0].in_channels == 2 else (4, 1, 8, 8)
    rng = np.random.default_rng(4)
    crit = nn.CrossEntropyLoss()
    opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    record = []
    for _ in range(steps):
        x = rng.standard_normal(shape).astype(dtype)
        labels = rng.integers(0, 3, shape[0])
        out = model(x)
        crit(out, labels)
        model.zero_grad()
        dx = model.backward(crit.backward())
        record.append(("output", out.copy()))
        record.append(("input gradient", dx.copy()))
        record += [(f"{name}.grad", p.grad.copy()) for name, p in model.named_parameters()]
        opt.step()
        record += [(name, np.array(a, copy=True)) for name, a in model.state_dict().items()]
    model.eval()
    record.append(("eval output", model(rng.standard_normal(shape).astype(dtype))))
    return record


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("network", ["bn-relu stack", "resnet20"])
def test_training_with_the_fusion_equals_training_without_it_bit_for_bit(network, device, dtype, monkeypatch):
    monkeypatch.setenv("V1SIM_DEVICE", device)
    if network == "resnet20":

        def build():
            return models.build("resnet20", in_channels=1, num_classes=3, rng=0)
    else:

        def build():
            return _bn_relu_stack(np.random.default_rng(0))

    relu_backward_calls = []
    original = nn.ReLU._backward
    monkeypatch.setattr(nn.ReLU, "_backward", staticmethod(lambda *a: relu_backward_calls.append(1) or original(*a)))
    fused = _train(build, dtype)
    assert not relu_backward_calls  # every ReLU ran inside a batch norm (or, in the ResNet, a residual add)
    with monkeypatch.context() as m:
        _unfused(m)
        plain = _train(build, dtype)
    assert relu_backward_calls  # the unfused run really ran the ReLU layers
    assert [name for name, _ in fused] == [name for name, _ in plain]
    for (name, got), (_, want) in zip(fused, plain):
        assert_bits_equal(got, want, name)


# ----------------------------------------------------------------------------- when the pair runs as two layers


def _fused_pairs(model):
    """Names of the batch norms whose last forward ran the ReLU after them."""
    return [name for name, m in model.named_modules() if isinstance(m._cache, F.BatchNormReluCache)]


def test_the_pair_is_fused_only_in_its_own_arrangement():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 5, 5)).astype(np.float32)
    net = nn.Sequential(
        nn.BatchNorm2d(3), nn.ReLU(), nn.BatchNorm2d(3), nn.Tanh(), nn.ReLU(), nn.BatchNorm2d(3), nn.Identity()
    )
    net(x)
    assert _fused_pairs(net) == ["0"]
    net(x[:, :, ::2, ::2])  # a strided input: the first pair runs as two layers
    assert _fused_pairs(net) == []
    net(np.asfortranarray(x))
    assert _fused_pairs(net) == []
    net(x.astype(np.float64))
    assert _fused_pairs(net) == ["0"]
    last = nn.Sequential(nn.ReLU(), nn.BatchNorm2d(3))  # a batch norm last in its Sequential has no ReLU to take
    last(x)
    assert _fused_pairs(last) == []


def test_bad_input_is_refused_as_by_the_two_layers():
    net = nn.Sequential(nn.BatchNorm2d(3), nn.ReLU())
    with pytest.raises(ValueError, match="expects 3 channels") as fused_error:
        net(np.ones((2, 4, 3, 3), np.float32))
    with pytest.raises(ValueError, match="more than one value per channel"):
        net(np.ones((1, 3, 1, 1), np.float32))
    with pytest.MonkeyPatch.context() as m:
        _unfused(m)
        with pytest.raises(ValueError) as plain_error:
            net(np.ones((2, 4, 3, 3), np.float32))
    assert str(fused_error.value) == str(plain_error.value)


@pytest.mark.parametrize("watched", ["stage1.0.body.bn1", "stage1.0.body.relu1", "bn1", "relu"])
def test_captured_layers_run_unfused_and_read_the_same_outputs(watched, monkeypatch):
    model = models.build("resnet20", in_channels=1, num_classes=10, rng=0)
    modules = dict(model.named_modules())
    x = np.random.default_rng(6).standard_normal((3, 1, 8, 8)).astype(np.float32)
    model(x)  # a training pass first: the capture's eval pass reads moved running statistics
    assert _fused_pairs(model)
    got = capture_outputs(model, x, [watched])[watched]
    assert model.training  # the mode is restored
    bn = modules[watched.replace("relu1", "bn1") if "relu1" in watched else watched.replace("relu", "bn1")]
    assert isinstance(bn._cache, F.BatchNormCache)  # the watched pair ran as two layers
    if "bn" in watched:
        assert (got < 0).any()  # the batch norm's own output, not the rectified one
    with monkeypatch.context() as m:
        _unfused(m)
        want = capture_outputs(model, x, [watched])[watched]
    assert_bits_equal(got, want, watched)


def test_layer_outputs_of_the_pair_equal_the_unfused_ones(monkeypatch):
    from v1sim import visualize

    model = _bn_relu_stack(np.random.default_rng(7)).eval()
    x = np.random.default_rng(8).standard_normal((2, 2, 6, 6)).astype(np.float32)
    names = ["1", "2", "8", "9"]
    got = visualize.layer_outputs(model, x, names)
    with monkeypatch.context() as m:
        _unfused(m)
        want = visualize.layer_outputs(model, x, names)
    for name in names:
        assert_bits_equal(np.asarray(got[name]), np.asarray(want[name]), name)
    assert (np.asarray(got["1"]) < 0).any() and (np.asarray(got["2"]) >= 0).all()


# ----------------------------------------------------------------------------- module state after a fused pass


def test_a_fused_pass_leaves_each_layer_as_the_two_layers_would(monkeypatch):
    rng = np.random.default_rng(9)

    def build():
        return nn.Sequential(nn.Conv2d(2, 3, 3, rng=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten())

    net = build()
    assert list(net.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"]
    assert [name for name, _ in net.named_modules()] == ["", "0", "1", "2", "3"]
    x = rng.standard_normal((4, 2, 5, 5)).astype(np.float32)
    g = rng.standard_normal((4, 27)).astype(np.float32)
    out = net(x)
    bn, relu = net[1], net[2]
    assert isinstance(bn._cache, F.BatchNormReluCache)
    assert np.shares_memory(relu._cache, out)  # the ReLU holds its output, as after an unfused pass
    # the layers' own backward passes, one after another, still give the container's gradients (masking twice is
    # masking once): nothing outside the Sequential sees a half-done layer
    by_hand = net[0].backward(bn.backward(relu.backward(g.reshape(relu._cache.shape))))
    bn_grads = [p.grad.copy() for p in bn.parameters()]
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net(x)
    dx = net.backward(g)
    assert relu._cache is None and bn._cache is None and net._cache is None  # all freed, as after an unfused pass
    assert_bits_equal(dx, by_hand)
    for p, want in zip(bn.parameters(), bn_grads):
        assert_bits_equal(p.grad, want)
    with pytest.raises(RuntimeError, match="without a preceding forward"):
        net.backward(g)  # one backward per forward, as before
    with monkeypatch.context() as m:
        _unfused(m)
        plain = build()
        plain(x)
        plain(x)  # the running statistics moved twice, as net's did
        assert_bits_equal(plain.backward(g), dx)
        assert_bits_equal(plain[1].running_var, bn.running_var)
    net.eval()
    state = {k: v.copy() for k, v in net.state_dict().items()}
    eval_out = net(x)
    for key, value in net.state_dict().items():
        assert_bits_equal(value, state[key], key)  # evaluation leaves the running statistics alone
    copy = build().eval()
    copy.load_state_dict(state)
    assert_bits_equal(copy(x), eval_out)
    assert isinstance(copy[1]._cache, F.BatchNormReluCache)  # fused in evaluation too


@pytest.mark.parametrize("fused", [True, False])
def test_a_batch_too_large_for_memory_is_refused_fused_or_not(monkeypatch, fused):
    """The fused pair runs the batch norm's own call checks (Module._checked_batch): the same refusal, naming x
    and the batch norm, when the Sequential's forward runs without its own call's check."""
    from v1sim.errors import InputError

    if not fused:
        _unfused(monkeypatch)
    model = nn.Sequential(nn.BatchNorm2d(3), nn.ReLU())
    x = np.ones((4, 3, 8, 8), np.float32)  # 3 KB of output, twice: past a 4 KB limit
    monkeypatch.setenv("V1SIM_MAX_BYTES", "4000")
    with pytest.raises(InputError) as exc:
        model.forward(x)
    assert exc.value.argument == "x" and "BatchNorm2d" in str(exc.value)
    monkeypatch.setenv("V1SIM_MAX_BYTES", str(1 << 30))
    assert model.forward(x).shape == x.shape
