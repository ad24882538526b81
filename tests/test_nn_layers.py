"""v1sim.nn modules: gradients, shapes, state dicts, modes, errors, and a ConvNet that learns.

Gradient checks run each module in float64 (``module.to(dtype=np.float64)``)
against central differences of ``L = sum(module(x) * G)``, for the input and
every parameter, with relative error ``max|analytic - numeric| / max|numeric|``
at most 1e-6 (on up to 60 random entries per array).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from naive import assert_grad

import v1sim
from v1sim import nn
from v1sim.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]


def check_module(module, x, rng):
    """Gradient-check ``module`` (cast to float64) w.r.t. ``x`` and all its parameters."""
    module.to(dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    out = module(x)
    g = rng.standard_normal(out.shape)
    module.zero_grad()
    dx = module.backward(g)
    assert dx.shape == x.shape

    def loss():
        return float(np.sum(module(x) * g))

    assert_grad(dx, loss, x, rng, "x")
    for name, p in module.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
        assert_grad(p.grad, loss, p.data, rng, name)


GRAD_CASES = {
    "conv": (lambda: nn.Conv2d(3, 4, 3, padding=1, device="cpu", rng=0), (2, 3, 5, 6)),
    "conv stride groups": (
        lambda: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), groups=2, device="cpu", rng=0),
        (2, 4, 7, 6),
    ),
    "locally connected": (
        lambda: nn.LocallyConnected2d(2, 3, (5, 4), 3, stride=1, padding=1, device="cpu", rng=0),
        (2, 2, 5, 4),
    ),
    "linear": (lambda: nn.Linear(7, 4, rng=0), (3, 7)),
    "lrn": (lambda: nn.LocalResponseNorm(3, alpha=0.5, beta=0.75, k=2.0), (2, 5, 3, 3)),
    "batchnorm2d train": (lambda: nn.BatchNorm2d(3), (4, 3, 3, 3)),
    "batchnorm1d train": (lambda: nn.BatchNorm1d(5), (6, 5)),
    "basic block identity": (lambda: nn.BasicBlock(3, 3, device="cpu", rng=0), (2, 3, 5, 5)),
    "basic block projection": (lambda: nn.BasicBlock(3, 4, stride=2, device="cpu", rng=0), (2, 3, 5, 6)),
    "basic block zero-pad (A)": (
        lambda: nn.BasicBlock(2, 4, stride=2, shortcut="A", device="cpu", rng=0),
        (2, 2, 6, 5),
    ),
    "bottleneck projection": (lambda: nn.Bottleneck(3, 2, stride=2, device="cpu", rng=0), (2, 3, 5, 5)),
    "bottleneck identity": (lambda: nn.Bottleneck(8, 2, device="cpu", rng=0), (2, 8, 4, 4)),
    "inception": (lambda: nn.Inception(3, 2, 2, 3, 1, 2, 2, device="cpu", rng=0), (2, 3, 5, 5)),
    "small convnet": (
        lambda: nn.Sequential(
            nn.Conv2d(2, 3, 3, device="cpu", rng=0),
            nn.Tanh(),
            nn.AvgPool2d(2, device="cpu"),
            nn.Conv2d(3, 4, 2, device="cpu", rng=1),
            nn.Sigmoid(),
            nn.GlobalAvgPool2d(),
            nn.Linear(4, 3, rng=2),
        ),
        (2, 2, 7, 7),
    ),
}


@pytest.mark.parametrize("case", list(GRAD_CASES))
def test_module_gradients(case):
    make, shape = GRAD_CASES[case]
    rng = np.random.default_rng(len(case))
    module = make()
    # perturb BN's affine parameters away from (1, 0) so their gradients are generic
    for _name, p in module.named_parameters():
        if p.data.ndim == 1:
            p.data[...] = rng.uniform(0.5, 1.5, p.shape)
    check_module(module, rng.standard_normal(shape), rng)


def test_maxpool_and_crossentropy_gradients():
    rng = np.random.default_rng(11)
    n = 2 * 3 * 6 * 5
    x = ((rng.permutation(n) - n / 2) * 0.1 + 0.05).reshape(2, 3, 6, 5)  # no ties, no zeros
    check_module(nn.Sequential(nn.ReLU(), nn.MaxPool2d(3, 2, 1, device="cpu")), x, rng)
    crit, z, y = nn.CrossEntropyLoss(), rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    crit(z, y)
    assert_grad(crit.backward(), lambda: crit(z, y), z, rng, "logits")


# --------------------------------------------------------------------------
# forward passes against the kernel layer
# --------------------------------------------------------------------------


def test_conv2d_matches_correlate_batch():
    rng = np.random.default_rng(12)
    conv = nn.Conv2d(3, 5, (3, 4), stride=(2, 1), padding=(1, 2), rng=0)
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    want = v1sim.correlate_batch(x, conv.weight.data, conv.bias.data, stride=(2, 1), padding=(1, 2), device="cpu")
    got = conv(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_locally_connected_with_shared_weights_equals_conv2d():
    rng = np.random.default_rng(13)
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1, rng=0)
    conv.bias.data[...] = rng.standard_normal(4)
    lc = nn.LocallyConnected2d(3, 4, (7, 6), 3, stride=2, padding=1, rng=1)
    lc.weight.data[...] = conv.weight.data  # the same bank at every position
    lc.bias.data[...] = conv.bias.data[:, None, None]
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    out = conv(x)
    np.testing.assert_allclose(lc(x), out, rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(out.shape).astype(np.float32)
    np.testing.assert_allclose(lc.backward(g), conv.backward(g), rtol=1e-5, atol=1e-5)
    # the shared filter's gradient is the sum of the per-position gradients
    np.testing.assert_allclose(lc.weight.grad.sum(axis=(0, 1)), conv.weight.grad, rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------
# shapes, MACs, parameter counts
# --------------------------------------------------------------------------


def out_len(w1, f, p, s):
    return (w1 - f + 2 * p) // s + 1  # the lecture's W2 = (W1 - F + 2P)/S + 1


def test_conv2d_lecture_example():
    conv = nn.Conv2d(3, 10, 5, padding=2, rng=0)
    side = out_len(32, 5, 2, 1)
    assert conv.output_shape((3, 32, 32)) == (10, side, side) == (10, 32, 32)
    expected = (5 * 5 * 3 + 1) * 10  # (F*F*C + 1) * K
    assert conv.num_parameters() == expected == 760  # the lecture's stated count
    assert conv.macs((3, 32, 32)) == 10 * side * side * 5 * 5 * 3


def test_alexnet_conv1_and_grouped_macs():
    conv1 = nn.Conv2d(3, 96, 11, stride=4, rng=0)
    side = out_len(227, 11, 0, 4)
    assert conv1.output_shape((3, 227, 227)) == (96, side, side) == (96, 55, 55)  # the lecture's 55x55x96
    assert conv1.num_parameters() == 11 * 11 * 3 * 96 + 96
    grouped = nn.Conv2d(96, 256, 5, padding=2, groups=2, rng=0)  # AlexNet conv2, two towers
    assert grouped.num_parameters() == 256 * (96 // 2) * 5 * 5 + 256
    assert grouped.macs((96, 27, 27)) == 256 * 27 * 27 * 48 * 25


def test_linear_and_container_shapes():
    fc = nn.Linear(400, 120, rng=0)
    assert fc.output_shape((400,)) == (120,)
    assert fc.num_parameters() == 400 * 120 + 120 and fc.macs((400,)) == 400 * 120
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5, rng=0),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5, rng=0),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        fc,
        nn.Tanh(),
        nn.Linear(120, 84, rng=0),
        nn.Tanh(),
        nn.Linear(84, 10, rng=0),
    )
    s1 = out_len(32, 5, 0, 1)  # 28
    s2 = out_len(s1 // 2, 5, 0, 1)  # 10
    assert net.output_shape((1, 32, 32)) == (10,)
    assert net[6].output_shape((16, s2 // 2, s2 // 2)) == (16 * (s2 // 2) ** 2,) == (400,)
    want_macs = 6 * s1 * s1 * 25 + 16 * s2 * s2 * 6 * 25 + 400 * 120 + 120 * 84 + 84 * 10
    assert net.macs((1, 32, 32)) == want_macs
    want_params = (25 + 1) * 6 + (6 * 25 + 1) * 16 + (400 + 1) * 120 + (120 + 1) * 84 + (84 + 1) * 10
    assert net.num_parameters() == want_params
    assert nn.MaxPool2d(3, 2).output_shape((8, 13, 13)) == (8, 6, 6)
    assert nn.GlobalAvgPool2d().output_shape((8, 5, 7)) == (8,)


def test_block_shapes():
    assert nn.BasicBlock(16, 32, stride=2, rng=0).output_shape((16, 7, 8)) == (32, 4, 4)
    assert nn.BasicBlock(16, 32, stride=2, shortcut="A", rng=0).output_shape((16, 7, 8)) == (32, 4, 4)
    block = nn.Bottleneck(64, 64, rng=0)
    assert block.output_shape((64, 14, 14)) == (256, 14, 14)
    assert isinstance(block.shortcut, nn.Sequential)  # channels change: projection
    assert isinstance(nn.Bottleneck(256, 64, rng=0).shortcut, nn.Identity)
    inc = nn.Inception(192, 64, 96, 128, 16, 32, 32, rng=0)  # GoogLeNet inception (3a)
    assert inc.output_shape((192, 28, 28)) == (64 + 128 + 32 + 32, 28, 28) == (256, 28, 28)
    convs = [(192, 64, 1), (192, 96, 1), (96, 128, 3), (192, 16, 1), (16, 32, 5), (192, 32, 1)]
    assert inc.num_parameters() == sum(c * k * f * f + k for c, k, f in convs)
    assert inc.macs((192, 28, 28)) == sum(c * k * f * f for c, k, f in convs) * 28 * 28


def test_shape_mismatch_names_the_layer():
    with pytest.raises(ValueError, match=r"Linear\(in_features=400.*expects 400 input features, got 256"):
        nn.Linear(400, 10, rng=0).output_shape((256,))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 10.*expects 3 input channels, got 1"):
        nn.Conv2d(3, 10, 5, rng=0)(np.zeros((2, 1, 32, 32), np.float32))
    with pytest.raises(ValueError, match=r"Linear.*Flatten"):
        nn.Linear(48, 10, rng=0).output_shape((3, 4, 4))
    with pytest.raises(ValueError, match=r"Conv2d.*\(C, H, W\)"):
        nn.Conv2d(1, 2, 3, rng=0).output_shape((8, 8))
    with pytest.raises(ValueError, match=r"MaxPool2d.*height 3.*input height 2"):
        nn.MaxPool2d(3).output_shape((4, 2, 9))
    net = nn.Sequential(nn.Conv2d(1, 4, 3, rng=0), nn.ReLU(), nn.Flatten(), nn.Linear(100, 2, rng=0))
    with pytest.raises(ValueError, match=r"layer '3' of Sequential: Linear.*expects 100 input features, got 144"):
        net(np.zeros((1, 1, 8, 8), np.float32))
    with pytest.raises(ValueError, match="shortcut"):
        nn.blocks.Residual(nn.Conv2d(2, 4, 3, padding=1, rng=0)).output_shape((2, 5, 5))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(4.*expects 4 channels, got 3"):
        nn.BatchNorm2d(4).output_shape((3, 5, 5))
    with pytest.raises(ValueError, match="input maps of size"):
        nn.LocallyConnected2d(1, 2, (6, 6), 3, rng=0).output_shape((1, 7, 6))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2d(3, 8, 0)
    with pytest.raises(TypeError, match="kernel_size"):
        nn.Conv2d(3, 8, 2.5)
    with pytest.raises(ValueError, match="stride"):
        nn.Conv2d(3, 8, 3, stride=0)
    with pytest.raises(ValueError, match="padding"):
        nn.Conv2d(3, 8, 3, padding=-1)
    with pytest.raises(ValueError, match="groups must divide in_channels"):
        nn.Conv2d(3, 8, 3, groups=2)
    with pytest.raises(ValueError, match="in_channels"):
        nn.Conv2d(0, 8, 3)
    with pytest.raises(ValueError, match="init"):
        nn.Linear(3, 2, init="uniform")
    for p in (-0.1, 1.0, 2):
        with pytest.raises(ValueError, match="p must lie in"):
            nn.Dropout(p)
    with pytest.raises(ValueError, match="padding must be at most half"):
        nn.MaxPool2d(2, padding=2)
    with pytest.raises(ValueError, match="num_features"):
        nn.BatchNorm2d(0)
    with pytest.raises(ValueError, match="shortcut"):
        nn.BasicBlock(4, 4, shortcut="D")
    with pytest.raises(TypeError, match="Sequential takes Modules"):
        nn.Sequential(nn.ReLU(), np.zeros(3))


def test_backward_needs_forward():
    conv = nn.Conv2d(1, 2, 3, rng=0)
    with pytest.raises(RuntimeError, match="without a preceding forward"):
        conv.backward(np.zeros((1, 2, 3, 3), np.float32))
    with pytest.raises(RuntimeError, match="without a preceding forward"):
        nn.CrossEntropyLoss().backward()


# --------------------------------------------------------------------------
# state, modes, freezing, initialisation
# --------------------------------------------------------------------------


def make_net(seed):
    return nn.Sequential(
        OrderedDict(
            conv=nn.Conv2d(2, 4, 3, padding=1, rng=seed),
            bn=nn.BatchNorm2d(4),
            relu=nn.ReLU(),
            pool=nn.MaxPool2d(2),
            flat=nn.Flatten(),
            drop=nn.Dropout(0.5, rng=seed),
            fc=nn.Linear(4 * 3 * 3, 3, rng=seed),
        )
    )


def train_steps(net, x, y, steps, opt):
    crit = nn.CrossEntropyLoss()
    net.train()
    for _ in range(steps):
        crit(net(x), y)
        net.zero_grad()
        net.backward(crit.backward())
        opt.step()


def test_state_dict_round_trip_through_npz(tmp_path):
    rng = np.random.default_rng(14)
    x, y = rng.standard_normal((8, 2, 6, 6)).astype(np.float32), rng.integers(0, 3, 8)
    a = make_net(0)
    train_steps(a, x, y, 3, nn.SGD(a.parameters(), lr=0.1, momentum=0.9))
    state = a.state_dict()
    assert list(state) == [
        "conv.weight",
        "conv.bias",
        "bn.weight",
        "bn.bias",
        "fc.weight",
        "fc.bias",
        "bn.running_mean",
        "bn.running_var",
    ]
    assert not np.allclose(state["bn.running_mean"], 0) and not np.allclose(state["bn.running_var"], 1)
    np.savez(tmp_path / "model.npz", **state)
    a.eval()
    b = make_net(1).eval()
    assert not np.allclose(b(x), a(x))
    with np.load(tmp_path / "model.npz", allow_pickle=False) as saved:
        result = b.load_state_dict(saved)
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(b(x), a(x))
    state["conv.weight"][...] = 0  # state_dict returns copies
    assert np.any(a.conv.weight.data != 0)


def test_load_state_dict_errors():
    net, state = make_net(0), make_net(1).state_dict()
    missing = dict(state)
    del missing["bn.running_var"]
    with pytest.raises(KeyError, match=r"missing key\(s\): bn.running_var"):
        net.load_state_dict(missing)
    with pytest.raises(KeyError, match=r"unexpected key\(s\): fc.scale"):
        net.load_state_dict({**state, "fc.scale": np.ones(3)})
    bad = {**state, "fc.weight": np.zeros((3, 35))}
    before = net.conv.weight.data.copy()
    with pytest.raises(ValueError, match=r"'fc.weight' has shape \(3, 35\) in the state but \(3, 36\) in the model"):
        net.load_state_dict(bad)
    np.testing.assert_array_equal(net.conv.weight.data, before)  # nothing half-loaded
    with pytest.raises(ValueError, match="finite"):
        net.load_state_dict({**state, "fc.bias": np.array([0.0, np.nan, 0.0])})
    result = net.load_state_dict(missing, strict=False)
    assert result.missing_keys == ["bn.running_var"]
    np.testing.assert_array_equal(net.conv.weight.data, state["conv.weight"])


def test_train_eval_modes():
    rng = np.random.default_rng(15)
    net = make_net(0)
    assert all(m.training for m in net.modules())
    x = rng.standard_normal((6, 2, 6, 6)).astype(np.float32) * 2 + 1
    net(x)  # updates BN running statistics
    net.eval()
    assert not any(m.training for m in net.modules())
    bn, h = net.bn, net.conv(x)
    got = bn(h)
    want = (h - bn.running_mean[:, None, None]) / np.sqrt(bn.running_var[:, None, None] + bn.eps)
    np.testing.assert_allclose(
        got, want * bn.weight.data[:, None, None] + bn.bias.data[:, None, None], rtol=1e-5, atol=1e-5
    )
    np.testing.assert_array_equal(net.drop(x), x)  # dropout is the identity in evaluation
    np.testing.assert_array_equal(net(x), net(x))  # deterministic
    net.train()
    assert np.count_nonzero(net.drop(x) == 0) > 0


def test_freeze_and_lr_mult():
    rng = np.random.default_rng(16)
    net = make_net(0)
    x, y = rng.standard_normal((4, 2, 6, 6)).astype(np.float32), rng.integers(0, 3, 4)
    total = net.num_parameters()
    net.conv.freeze()
    assert net.num_parameters(trainable_only=True) == total - net.conv.num_parameters()
    frozen = net.conv.weight.data.copy()
    fc_before = net.fc.weight.data.copy()
    train_steps(net, x, y, 2, nn.SGD(net.parameters(), lr=0.1))
    assert net.conv.weight.grad is None
    np.testing.assert_array_equal(net.conv.weight.data, frozen)
    assert not np.allclose(net.fc.weight.data, fc_before)
    net.unfreeze()
    assert net.num_parameters(trainable_only=True) == total


def test_he_and_xavier_initialisation():
    conv = nn.Conv2d(64, 128, 3, rng=0)
    fan_in = 64 * 3 * 3
    assert conv.weight.data.std() == pytest.approx(np.sqrt(2 / fan_in), rel=0.02)  # "Xavier/2"
    assert np.all(conv.bias.data == 0)
    w = nn.init.xavier_uniform_(np.empty((300, 200)), rng=0)
    bound = np.sqrt(6 / (200 + 300))
    assert np.abs(w).max() <= bound and w.var() == pytest.approx(bound**2 / 3, rel=0.03)
    lc = nn.LocallyConnected2d(16, 32, (6, 6), 3, rng=0)
    assert lc.weight.data.std() == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.02)
    a, b = nn.Linear(5, 4, rng=3), nn.Linear(5, 4, rng=3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)


# --------------------------------------------------------------------------
# learning
# --------------------------------------------------------------------------


def test_tiny_convnet_overfits_random_labels():
    rng = np.random.default_rng(17)
    x = rng.standard_normal((64, 1, 12, 12)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    net = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, rng=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, rng=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 3 * 3, 10, rng=3),
    )
    opt = nn.SGD(net.parameters(), lr=0.02, momentum=0.9)
    crit = nn.CrossEntropyLoss()
    start, first_loss = time.perf_counter(), None
    for step in range(300):  # noqa: B007 (step is reported after the loop)
        logits = net(x)
        loss = crit(logits, y)
        first_loss = loss if first_loss is None else first_loss
        if np.all(logits.argmax(axis=1) == y):
            break
        net.zero_grad()
        net.backward(crit.backward())
        opt.step()
    assert np.all(net(x).argmax(axis=1) == y), (
        f"train accuracy {np.mean(net(x).argmax(axis=1) == y):.2f} after {step} steps"
    )
    assert crit(net(x), y) < first_loss
    assert time.perf_counter() - start < 10


# --------------------------------------------------------------------------
# imports and CUDA
# --------------------------------------------------------------------------


def test_import_is_light():
    code = "import sys, v1sim.nn; bad = [m for m in ('numba.cuda', 'torch') if m in sys.modules]; print(bad)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_functional_and_module_agree():
    rng = np.random.default_rng(18)
    conv = nn.Conv2d(2, 3, 3, stride=2, rng=0)
    x = rng.standard_normal((2, 2, 7, 7)).astype(np.float32)
    want, _ = F.conv2d_forward(x, conv.weight.data, conv.bias.data, 2, 0, device="cpu")
    np.testing.assert_allclose(conv(x), want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.Conv2d(2, 3, 3, padding=1, rng=0),
        lambda: nn.Conv2d(2, 4, 3, stride=2, groups=2, rng=0),
        lambda: nn.LocallyConnected2d(2, 3, (5, 5), 3, rng=0),
        lambda: nn.Linear(50, 4, rng=0),
    ],
)
def test_input_grad_false_skips_dx_and_keeps_parameter_gradients(make):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 5, 5)).astype(np.float32)
    layers = [make(), make()]
    if isinstance(layers[0], nn.Linear):
        x = x.reshape(3, -1)
    outs = [m(x) for m in layers]
    g = rng.standard_normal(outs[0].shape).astype(np.float32)
    dx = layers[0].backward(g)
    assert dx is not None and dx.shape == x.shape
    assert layers[1].backward(g, input_grad=False) is None
    for a, b in zip(layers[0].parameters(), layers[1].parameters()):
        np.testing.assert_array_equal(a.grad, b.grad)


def test_sequential_passes_input_grad_false_to_its_first_module_only():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, rng=0), nn.ReLU(), nn.Conv2d(2, 2, 3, rng=1))
    x = np.random.default_rng(1).standard_normal((2, 1, 7, 7)).astype(np.float32)
    out = model(x)
    assert model.backward(np.ones_like(out), input_grad=False) is None
    assert all(p.grad is not None for p in model.parameters())
    out = model(x)
    assert model.backward(np.ones_like(out)).shape == x.shape


def test_a_layer_checks_every_new_batch_shape_and_again_once_a_setting_changes():
    """The batch checks are remembered for the last shape that passed (a training loop's every step), never
    for another shape, and forgotten when an attribute of the layer is set."""
    conv = nn.Conv2d(1, 4, 5, rng=0)
    fits, small = np.zeros((2, 1, 8, 8), np.float32), np.zeros((2, 1, 4, 4), np.float32)
    assert conv(fits).shape == (2, 4, 4, 4)
    with pytest.raises(v1sim.errors.InputError, match="does not fit"):
        conv(small)
    assert conv(fits).shape == (2, 4, 4, 4)
    conv.padding = (5, 5)  # a setting that changes the output: the same batch is checked again
    assert conv(fits).shape == (2, 4, 14, 14)
    conv.padding = (0, 0)
    conv.kernel_size = (9, 9)
    with pytest.raises(v1sim.errors.InputError, match="does not fit"):
        conv(fits)


def test_a_conv_layer_reuses_its_plan_only_for_the_batch_it_was_made_for():
    """Step after step a Conv2d runs the plan its first call made (no checks, no planning); a new batch shape,
    a non-contiguous batch or another dtype goes through conv2d_forward again. Every way gives the functional
    pass's bits, forward and backward."""
    conv = nn.Conv2d(3, 16, 3, padding=1, rng=0)
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal(s).astype(np.float32) for s in ((4, 3, 12, 12), (4, 3, 12, 12), (9, 3, 12, 12))]
    batches += [np.ascontiguousarray(batches[0].transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)]  # a strided view
    batches += [batches[2].astype(np.float64), batches[2]]
    for x in batches:
        out = conv(x)
        want, cache = F.conv2d_forward(x, conv.weight.data, conv.bias.data, 1, 1)
        np.testing.assert_array_equal(out, want)
        g = rng.standard_normal(out.shape).astype(out.dtype)
        conv.zero_grad()
        dx = conv.backward(g)
        want_dx, want_dw, want_db = F.conv2d_backward(g, cache)
        np.testing.assert_array_equal(dx, want_dx)
        np.testing.assert_array_equal(conv.weight.grad, want_dw.astype(np.float32))  # float32 parameters
        np.testing.assert_array_equal(conv.bias.grad, want_db.astype(np.float32))
    assert conv._planned[0][0] == (9, 3, 12, 12)  # the last float32 batch's plan
