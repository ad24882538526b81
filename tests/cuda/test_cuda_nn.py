"""Full CUDA training (``device="cuda"``) against the CPU: every layer's forward and backward pass, GEMM, SGD.

Marked ``cuda`` and run as ``test_cuda_kernels.py`` says (``NUMBA_ENABLE_CUDASIM=1 python3 -m pytest -m cuda``
without a GPU; skipped with that hint otherwise). Shapes are small and odd so that partial tiles and tail
blocks are exercised. Under the simulator, device arrays are as strict as real ones (``conftest.py``), and a
fixture counts host<->device copies to show that a training step keeps everything on the device except the
batch, the labels and the per-row losses.
"""

from __future__ import annotations

import numpy as np
import pytest

from v1sim import nn
from v1sim.nn import device as nn_device
from v1sim.nn import models

pytestmark = pytest.mark.cuda


@pytest.fixture(scope="module")
def kc():
    from v1sim.kernels import cuda

    return cuda


# -- GEMM against numpy, odd shapes, every transpose flag ----------------------------------------------------


@pytest.mark.parametrize("ta, tb", [(False, False), (False, True), (True, False), (True, True)])
def test_gemm_matches_numpy_for_each_transpose_flag(kc, assert_close, ta, tb):
    m, k, n = 19, 23, 37
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    c = kc.gemm(kc.to_device(a), kc.to_device(b), kc.empty((m, n), np.float32), ta, tb)
    assert_close(c, ((a.T if ta else a).astype(np.float64) @ (b.T if tb else b)).astype(np.float32))


def test_gemm_batched_accumulate_and_float64(kc, assert_close):
    rng = np.random.default_rng(1)
    a, b, c0 = (rng.standard_normal(s).astype(np.float32) for s in ((3, 5, 17), (3, 17, 7), (3, 5, 7)))
    assert_close(
        kc.gemm(kc.to_device(a), kc.to_device(b), kc.to_device(c0), accumulate=True),
        (np.matmul(a.astype(np.float64), b) + c0).astype(np.float32),
    )
    a, b = rng.standard_normal((9, 20)), rng.standard_normal((20, 11))
    assert_close(kc.gemm(kc.to_device(a), kc.to_device(b), kc.empty((9, 11), np.float64)), a @ b, tol=1e-12)


# -- every layer, forward and backward, CUDA against CPU -----------------------------------------------------

_rng = np.random.default_rng(0)
X4 = _rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
XG = _rng.standard_normal((2, 4, 5, 6)).astype(np.float32)
X2 = _rng.standard_normal((3, 5)).astype(np.float32)
WB = ["weight", "bias"]
# name: (make, input, parameter names (None: a block, some), buffer count (None: any)), train, warm-up steps
LAYERS = {
    "Conv2d 3x3 p1": (lambda: nn.Conv2d(3, 4, 3, padding=1, rng=1), X4, WB, 0),
    "Conv2d (3,2) s2 p(1,0)": (lambda: nn.Conv2d(3, 4, (3, 2), stride=2, padding=(1, 0), rng=2), X4, WB, 0),
    "Conv2d groups=2": (lambda: nn.Conv2d(4, 6, 3, padding=1, groups=2, rng=3), XG, WB, 0),
    "Conv2d 1x1 no bias": (lambda: nn.Conv2d(3, 5, 1, bias=False, rng=4), X4, ["weight"], 0),
    "LocallyConnected2d": (lambda: nn.LocallyConnected2d(3, 2, (7, 6), 3, stride=2, padding=1, rng=5), X4, WB, 0),
    "Linear": (lambda: nn.Linear(5, 4, rng=6), X2, WB, 0),
    "Flatten+Linear": (
        lambda: nn.Sequential(nn.Flatten(), nn.Linear(3 * 7 * 6, 4, rng=7)),
        X4,
        ["1.weight", "1.bias"],
        0,
    ),
    "ReLU": (nn.ReLU, X4, [], 0),
    "Tanh": (nn.Tanh, X4, [], 0),
    "Sigmoid": (nn.Sigmoid, X4, [], 0),
    "MaxPool2d 2": (lambda: nn.MaxPool2d(2), X4, [], 0),
    "MaxPool2d 3/2 p1": (lambda: nn.MaxPool2d(3, 2, 1), X4, [], 0),
    "AvgPool2d 2": (lambda: nn.AvgPool2d(2), X4, [], 0),
    "AvgPool2d 3/2 p1": (lambda: nn.AvgPool2d(3, 2, 1), X4, [], 0),
    "GlobalAvgPool2d": (nn.GlobalAvgPool2d, X4, [], 0),
    "LocalResponseNorm": (lambda: nn.LocalResponseNorm(3, alpha=0.3, beta=0.75, k=2.0), X4, [], 0),
    "BatchNorm2d train": (lambda: nn.BatchNorm2d(3), X4, WB, 2),  # running mean and variance
    "BatchNorm1d train": (lambda: nn.BatchNorm1d(5), X2, WB, 2),
    "BatchNorm2d eval": (lambda: nn.BatchNorm2d(3), X4, WB, 2),
    "Dropout": (lambda: nn.Dropout(0.4, rng=8), X4, [], 0),
    "BasicBlock identity": (lambda: nn.BasicBlock(3, 3, rng=9), X4, None, None),
    "BasicBlock projection": (lambda: nn.BasicBlock(3, 4, 2, "B", rng=10), X4, None, None),
    "BasicBlock zero-pad": (lambda: nn.BasicBlock(3, 4, 2, "A", rng=11), X4, None, None),
    "Bottleneck projection": (lambda: nn.Bottleneck(3, 2, rng=12), X4, None, None),
    "Inception": (lambda: nn.Inception(3, 2, 2, 3, 1, 2, 2, rng=13), X4, None, None),
}


@pytest.mark.parametrize("layer", list(LAYERS))
def test_layer_forward_gradients_and_buffers_match_cpu(assert_close, layer):
    make, x, param_names, n_buffers = LAYERS[layer]
    train = not layer.endswith(" eval")
    mods = {}
    for device in ("cuda", "cpu"):
        mod = make()
        mod.to(device).train(train)
        if not train:  # running statistics from one training batch before evaluating
            mod.train(True)(x)
            mod.train(False)
        mods[device] = mod
    out_c, out_h = mods["cuda"](nn_device.to_device(x)), mods["cpu"](x)  # inside a network, inputs are on the device
    assert nn_device.is_device(out_c), "the CUDA layer's output should stay on the device"
    assert_close(out_c, out_h)
    g = np.random.default_rng(4).standard_normal(np.shape(out_h)).astype(np.float32)
    assert_close(mods["cuda"].backward(g), mods["cpu"].backward(g))

    params = list(zip(mods["cuda"].named_parameters(), mods["cpu"].named_parameters()))
    names = [name for (name, _), _ in params]
    if param_names is None:
        assert names, f"{layer} has parameters"
    else:
        assert names == param_names
    for (name, pc), (_, ph) in params:
        assert nn_device.is_device(pc.data), name
        assert_close(pc.grad, ph.grad)
    buffers = list(zip(mods["cuda"].named_buffers(), mods["cpu"].named_buffers()))
    if n_buffers is not None:
        assert len(buffers) == n_buffers
    for (_, bc), (_, bh) in buffers:
        assert_close(bc, bh)


def test_cross_entropy_matches_cpu(assert_close):
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((5, 7)).astype(np.float32)
    labels = np.array([0, 6, 3, 3, 1])
    crits = {d: nn.CrossEntropyLoss() for d in ("cuda", "cpu")}
    assert_close(
        np.float32(crits["cuda"](nn_device.to_device(logits), labels)), np.float32(crits["cpu"](logits, labels))
    )
    assert_close(crits["cuda"].backward(), crits["cpu"].backward())


# -- a few SGD steps of a small network ------------------------------------------------------------------------


def small_net():
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, rng=1),
        nn.BatchNorm2d(3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(3 * 4 * 3, 5, rng=2),
    )


XS = np.random.default_rng(6).standard_normal((3, 1, 10, 8)).astype(np.float32)


@pytest.fixture(scope="module")
def trained(device_array_type):
    """Three Nesterov SGD steps of :func:`small_net` on each device: ``{device: (net, optimizer, losses)}``, and
    where the CUDA run's state lived and how many host<->device copies its last step made."""
    from numba import cuda

    copies = {"h2d": 0, "d2h": 0}
    to_device, copy_to_host = cuda.to_device, device_array_type.copy_to_host

    def counted_to_device(*a, **k):
        copies["h2d"] += 1
        return to_device(*a, **k)

    def counted_copy_to_host(self, *a, **k):
        copies["d2h"] += 1
        return copy_to_host(self, *a, **k)

    ys = np.array([1, 4, 0])
    runs, placement = {}, {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cuda, "to_device", counted_to_device)
        mp.setattr(device_array_type, "copy_to_host", counted_copy_to_host)
        for device in ("cuda", "cpu"):
            net = small_net().to(device)
            opt = nn.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3, nesterov=True)
            crit, losses = nn.CrossEntropyLoss(), []
            for _ in range(3):
                before = dict(copies)
                losses.append(crit(net(XS), ys))
                net.zero_grad()
                net.backward_without_input_grad(crit.backward())
                opt.step()
                if device == "cuda":
                    placement = {
                        "param": all(nn_device.is_device(p.data) for p in net.parameters()),
                        "grad": all(nn_device.is_device(p.grad) for p in net.parameters()),
                        "velocity": all(nn_device.is_device(v) for v in opt._velocity.values()),
                        "buffers": all(nn_device.is_device(b) for _, b in net.named_buffers()),
                        "h2d": copies["h2d"] - before["h2d"],
                        "d2h": copies["d2h"] - before["d2h"],
                    }
            runs[device] = (net, opt, losses)
    return runs, placement


def test_sgd_steps_match_cpu(assert_close, trained):
    runs, _ = trained
    assert_close(np.float32(runs["cuda"][2]), np.float32(runs["cpu"][2]))
    params = list(zip(runs["cuda"][0].named_parameters(), runs["cpu"][0].named_parameters()))
    assert len(params) == 6  # conv w, b; bn gamma, beta; linear w, b
    for (_, pc), (_, ph) in params:
        assert_close(pc.data, ph.data)


def test_training_state_stays_on_device(trained):
    runs, placement = trained
    assert placement["param"] and placement["grad"] and placement["velocity"] and placement["buffers"], placement
    # per step: the batch and the labels go in, the per-row losses come out; nothing else crosses
    assert (placement["h2d"], placement["d2h"]) == (2, 1), placement
    state = runs["cuda"][1].state_dict()
    assert all(isinstance(v, np.ndarray) for k, v in state.items() if k.startswith("velocity"))


def test_state_dict_round_trips_between_devices(assert_close, trained):
    cuda_net = trained[0]["cuda"][0].eval()
    state = cuda_net.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    cpu_net = small_net().eval()
    cpu_net.load_state_dict(state)
    assert_close(cuda_net(XS), cpu_net(XS))
    back = small_net().to("cuda").eval()
    back.load_state_dict(cpu_net.state_dict())
    assert nn_device.is_device(back[0].weight.data)
    assert_close(back(XS), cpu_net(XS))


# -- LeNet-5 built for cuda: one training step -----------------------------------------------------------------


def test_lenet5_built_for_cuda_trains_like_cpu(assert_close):
    xl = np.random.default_rng(7).standard_normal((2, 1, 32, 32)).astype(np.float32)
    yl = np.array([3, 7])
    runs = {}
    for device in ("cuda", "cpu"):
        net = models.build("lenet5", rng=0, device=device)
        opt, crit = nn.SGD(net.parameters(), lr=0.05, momentum=0.9), nn.CrossEntropyLoss()
        loss = crit(net(xl), yl)
        net.zero_grad()
        net.backward_without_input_grad(crit.backward())
        opt.step()
        runs[device] = (net, loss)
    assert_close(np.float32(runs["cuda"][1]), np.float32(runs["cpu"][1]))
    params = list(zip(runs["cuda"][0].named_parameters(), runs["cpu"][0].named_parameters()))
    assert len(params) == 10
    for (name, pc), (_, ph) in params:
        assert nn_device.is_device(pc.data), name
        assert_close(pc.data, ph.data)


# -- layers built with device=, against the same layers on the CPU ---------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda d: nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, device=d, rng=0),
        lambda d: nn.MaxPool2d(3, 2, 1, device=d),
        lambda d: nn.AvgPool2d(2, device=d),
    ],
    ids=["grouped-strided-conv", "maxpool-3-2-1", "avgpool-2"],
)
def test_layers_built_on_the_device_match_the_cpu(make, assert_close):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 7, 5)).astype(np.float32)
    gpu, cpu = make("cuda"), make("cpu")
    out_g, out_c = gpu(x), cpu(x)
    assert_close(out_g, out_c, 1e-5)
    g = rng.standard_normal(out_c.shape).astype(np.float32)
    assert_close(gpu.backward(g), cpu.backward(g), 1e-5)
