"""Benchmark: the ConvNet engine against PyTorch on the CPU, same threads, same run.

Run from the repository root (PyTorch CPU as the peer: ``pip install -e ".[bench]"``)::

    python benchmarks/bench_convnet.py [--quick]

Cases
-----
(a) LeNet-5 training (forward, backward, SGD step) in images/s at batch 64 and 256.
(b) Forward + backward of a VGG-style 3x3 layer, 64 -> 64 channels, 56x56, batch 8.
(c) Forward + backward of AlexNet's conv1 (96 11x11 filters, stride 4) on 227x227x3, batch 8.
(d) ResNet-20 (He et al.'s CIFAR network: batch norm, option-A shortcuts) training step on
    1x32x32 digits at batch 64, as ``v1sim train resnet20`` runs it.
(e) ``--memory``: peak resident memory of one plain-56 and one ResNet-56 training step at batch
    128 (each in a fresh process; the target is 2 GB: a convolution caches its input, not its
    im2col columns, v1sim.kernels.conv_blocks).

Prints medians and the speed-up (torch time / v1sim time; > 1 means v1sim is faster);
v1sim and torch steps alternate, so load drifting on a shared machine hits both alike. PyTorch runs
in a process of its own (``_common.TorchPeer``) on the same inputs (the same seeds), so each library
keeps its own OpenMP settings.
The first v1sim step (Numba compilation or cache load) is reported apart.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
from _common import TorchPeer, machine_report, paired_medians, report  # noqa: E402

from v1sim import nn  # noqa: E402
from v1sim.nn import models  # noqa: E402


def _digits(batch):
    """The training batch of cases (a) and (d), the same in both processes."""
    rng = np.random.default_rng(0)
    return rng.random((batch, 1, 32, 32), dtype=np.float32), rng.integers(0, 10, batch)


def lenet_case(peer, batch, repeat):
    x, y = _digits(batch)
    model = models.build("lenet5", rng=0)
    crit = nn.CrossEntropyLoss()
    opt = nn.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        loss = crit(model(x), y)
        model.zero_grad()
        model.backward(crit.backward(), input_grad=False)  # as torch: no gradient w.r.t. the images
        opt.step()
        return loss

    start = time.perf_counter()
    step()
    first = time.perf_counter() - start
    theirs = peer.case("torch_lenet_step", batch) if peer.version else None
    ours, theirs = paired_medians(step, theirs, repeat=repeat)
    return ours, theirs, first


def torch_lenet_step(torch, batch):
    """Case (a) in PyTorch: LeNet-5 (tanh, average pooling) and its SGD step."""
    tnn = torch.nn
    tm = tnn.Sequential(
        *(tnn.Conv2d(1, 6, 5), tnn.Tanh(), tnn.AvgPool2d(2), tnn.Conv2d(6, 16, 5), tnn.Tanh(), tnn.AvgPool2d(2)),
        *(tnn.Conv2d(16, 120, 5), tnn.Tanh(), tnn.Flatten(), tnn.Linear(120, 84), tnn.Tanh(), tnn.Linear(84, 10)),
    )
    topt = torch.optim.SGD(tm.parameters(), lr=0.01, momentum=0.9)
    tx, ty = (torch.from_numpy(a) for a in _digits(batch))

    def tstep():
        topt.zero_grad()
        loss = torch.nn.functional.cross_entropy(tm(tx), ty)
        loss.backward()
        topt.step()

    return tstep


def _torch_resnet20(torch):
    """He et al.'s CIFAR ResNet-20 in PyTorch, as v1sim's ``cifar_resnet(20)``: 16/32/64 filters, option-A
    shortcuts (subsample by 2, zero-pad the new channels), batch norm, global average pooling."""
    tnn, F = torch.nn, torch.nn.functional

    class Block(tnn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1, self.b1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False), tnn.BatchNorm2d(cout)
            self.c2, self.b2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False), tnn.BatchNorm2d(cout)
            self.pad = cout - cin

        def forward(self, x):
            out = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
            short = x if not self.pad else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 0, self.pad))
            return F.relu(out + short)

    layers, cin = [tnn.Conv2d(1, 16, 3, 1, 1, bias=False), tnn.BatchNorm2d(16), tnn.ReLU()], 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for i in range(3):
            layers.append(Block(cin, cout, stride if i == 0 else 1))
            cin = cout
    return tnn.Sequential(*layers, tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Linear(64, 10))


def resnet20_case(peer, batch, repeat):
    x, y = _digits(batch)
    model = models.build("resnet20", in_channels=1, num_classes=10, rng=0)
    crit = nn.CrossEntropyLoss()
    opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)

    def step():
        crit(model(x), y)
        model.zero_grad()
        model.backward(crit.backward(), input_grad=False)
        opt.step()

    start = time.perf_counter()
    step()
    first = time.perf_counter() - start
    theirs = peer.case("torch_resnet20_step", batch) if peer.version else None
    ours, theirs = paired_medians(step, theirs, repeat=repeat)
    return ours, theirs, first


def torch_resnet20_step(torch, batch):
    """Case (d) in PyTorch."""
    tm = _torch_resnet20(torch)
    topt = torch.optim.SGD(tm.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    tx, ty = (torch.from_numpy(a) for a in _digits(batch))

    def tstep():
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tm(tx), ty).backward()
        topt.step()

    return tstep


def _layer_input(x_shape):
    return np.random.default_rng(0).standard_normal(x_shape, dtype=np.float32)


def layer_case(peer, x_shape, w_shape, stride, padding, repeat):
    x = _layer_input(x_shape)
    conv = nn.Conv2d(w_shape[1], w_shape[0], w_shape[2], stride=stride, padding=padding, rng=0)
    g = None

    def fwd_bwd():
        nonlocal g
        out = conv(x)
        if g is None:
            g = np.ones_like(out)
        conv.zero_grad()
        conv.backward(g)

    start = time.perf_counter()
    fwd_bwd()
    first = time.perf_counter() - start
    theirs = peer.case("torch_layer", x_shape, w_shape, stride, padding) if peer.version else None
    ours, theirs = paired_medians(fwd_bwd, theirs, repeat=repeat)
    return ours, theirs, first


def torch_layer(torch, x_shape, w_shape, stride, padding):
    """Cases (b) and (c) in PyTorch: one convolution's forward and backward."""
    tconv = torch.nn.Conv2d(w_shape[1], w_shape[0], w_shape[2], stride=stride, padding=padding)
    tx = torch.from_numpy(_layer_input(x_shape)).requires_grad_(True)

    def tfb():
        tconv.zero_grad()
        tx.grad = None
        out = tconv(tx)
        out.backward(torch.ones_like(out))

    return tfb


_MEMORY_STEP = """
import resource, sys, time
import numpy as np
from v1sim import nn
from v1sim.backend import retain_freed_memory
from v1sim.nn import models
retain_freed_memory()
model = models.build(sys.argv[1], in_channels=1, num_classes=10, rng=0)
crit, opt = nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1, momentum=0.9)
rng = np.random.default_rng(0)
x, y = rng.random((128, 1, 32, 32), dtype=np.float32), rng.integers(0, 10, 128)
for _ in range(2):
    start = time.perf_counter()
    crit(model(x), y)
    model.zero_grad()
    model.backward(crit.backward(), input_grad=False)
    opt.step()
    step = time.perf_counter() - start
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, step)
"""


def memory_case():
    """Peak RSS (bytes) and second-step time of a plain-56 and a ResNet-56 step at batch 128, fresh processes."""
    import subprocess

    print("\n## peak memory of a 56-layer training step, batch 128, 1x32x32 (target <= 2 GB)")
    for name in ("plain56", "resnet56"):
        res = subprocess.run([sys.executable, "-c", _MEMORY_STEP, name], capture_output=True, text=True, check=True)
        rss, step = res.stdout.split()
        print(f"  {name:<10} peak RSS {int(rss) / 2**30:5.2f} GiB   step {float(step):5.2f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--memory", action="store_true", help="also case (e), peak memory of 56-layer steps")
    args = parser.parse_args(argv)
    print(machine_report())
    repeat = 5 if args.quick else 15
    peer = TorchPeer("bench_convnet")
    from v1sim.backend import SMALL_GEMM_MACS

    print(f"torch {f'{peer.version} ({peer.threads} threads, own process)' if peer.version else 'not installed'}")
    print(
        f"threads: Numba's pool OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')} "
        f"GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT')} (torch: its own defaults), "
        "v1sim GEMMs: one BLAS thread each, split over v1sim's worker threads from "
        f"{SMALL_GEMM_MACS:.0e} MACs (v1sim.backend)"
    )
    rows, firsts = [], []
    for batch in (64, 256):
        ours, theirs, first = lenet_case(peer, batch, repeat)
        rows.append(
            (
                f"LeNet-5 train step, batch {batch} ({batch / ours:,.0f} img/s)",
                ours,
                f"torch ({batch / theirs:,.0f} img/s)",
                theirs,
            )
        )
        firsts.append((f"LeNet-5 batch {batch}", first))
    for label, xs, ws, s, p in [
        ("VGG 3x3 64->64, 56x56, batch 8, fwd+bwd", (8, 64, 56, 56), (64, 64, 3, 3), 1, 1),
        ("AlexNet conv1 96x11x11/4, batch 8, fwd+bwd", (8, 3, 227, 227), (96, 3, 11, 11), 4, 0),
    ]:
        ours, theirs, first = layer_case(peer, xs, ws, s, p, max(3, repeat // 3))
        rows.append((label, ours, "torch conv2d fwd+bwd", theirs))
        firsts.append((label, first))
    ours, theirs, first = resnet20_case(peer, 64, max(3, repeat // 3))
    rows.append(
        (f"ResNet-20 train step, batch 64 ({64 / ours:,.0f} img/s)", ours, f"torch ({64 / theirs:,.0f} img/s)", theirs)
    )
    firsts.append(("ResNet-20 batch 64", first))
    report(rows, "ConvNet engine vs PyTorch (CPU)")
    print("\nfirst call (compilation or Numba cache load):")
    for label, first in firsts:
        print(f"  {label:<48} {first * 1e3:8.1f} ms")
    peer.close()
    if args.memory:
        memory_case()


if __name__ == "__main__":
    main()
