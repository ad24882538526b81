"""Benchmark: one epoch of ``v1sim train resnet20 --dataset mnist`` against the same epoch in PyTorch.

Run from the repository root, with the BLAS on its own kernel::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_train_epoch.py --limit 6400
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_train_epoch.py   # the whole epoch

Both sides train the same network on the same data in the same order:

* v1sim: :func:`v1sim.nn.recipes.train_model`, what ``v1sim train resnet20 --dataset mnist --epochs 1
  [--limit N]`` runs (the recipe's SGD: lr 0.1, momentum 0.9, weight decay 1e-4, batch 128; digits
  zero-padded to 32x32; checkpoints and the test pass included);
* PyTorch: He et al.'s CIFAR ResNet-20 written out below (16/32/64 filters, option-A zero-padding
  shortcuts, BN after every convolution, global average pooling, a linear classifier), started from the
  initial weights v1sim draws, ``torch.optim.SGD`` with the same settings, and the minibatches of
  :func:`v1sim.nn.train.fit`'s epoch 1: the permutation ``numpy.random.default_rng([seed, 0])`` cut
  into batches of 128 (the last one shorter), then the same test pass (batches of 256, eval mode).

Timed by the wall clock: the training steps of the epoch (v1sim's own ``train_seconds``, the loop's time
on the PyTorch side) and the whole run (v1sim: loading the data, training, testing, checkpoints; PyTorch:
building, training, testing on the arrays v1sim's loader made). The
speed-up is PyTorch's time over v1sim's (> 1: v1sim is faster). Threads: PyTorch gets Numba's count, in a
process of its own (``_common.TorchPeer``: each library with its own OpenMP settings).
``--limit N`` trains on the first N images only (a fraction of the epoch, as ``v1sim train --limit``);
the test pass is whole. ``--dataset digits`` runs on the embedded digits where MNIST is absent.
v1sim runs first, before PyTorch is imported, so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
from _common import TorchPeer, machine_report  # noqa: E402

DEFAULT_MNIST = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")


def torch_resnet20(torch, in_channels=1, num_classes=10):
    """He et al.'s CIFAR ResNet-20 (option-A shortcuts) in plain PyTorch, as v1sim's ``cifar_resnet(20)``."""
    nn, F = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.stride, self.before, self.cin, self.cout = stride, (cout - cin) // 2, cin, cout

        def shortcut(self, x):  # option A: subsample, zero channels split between both ends
            if self.stride == 1 and self.cin == self.cout:
                return x
            sub = x[:, :, :: self.stride, :: self.stride]
            return F.pad(sub, (0, 0, 0, 0, self.before, self.cout - self.cin - self.before))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))

    layers = [nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    c = 16
    for stage, width in enumerate((16, 32, 64)):
        for i in range(3):
            layers.append(Block(c, width, 2 if (i == 0 and stage > 0) else 1))
            c = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes)]
    return nn.Sequential(*layers)


def start_from_v1sim_weights(torch, model, seed):
    """Give the PyTorch network the initial weights ``v1sim train`` draws (``models.build(..., rng=seed)``).

    Both networks list their 59 parameters in the same order with the same shapes (convolutions
    (K, C, 3, 3), batch-norm scales and shifts, the classifier (10, 64) and its bias).
    """
    from v1sim.nn import models

    ours = [p.data for _, p in models.build("resnet20", num_classes=10, in_channels=1, rng=seed).named_parameters()]
    theirs = list(model.parameters())
    if [tuple(a.shape) for a in ours] != [tuple(t.shape) for t in theirs]:
        raise RuntimeError("the PyTorch ResNet-20 does not list v1sim's parameters in order")
    with torch.no_grad():
        for t, a in zip(theirs, ours):
            t.copy_(torch.from_numpy(a.astype(np.float32)))


def torch_epoch(torch, data, settings, seed):
    """One epoch of SGD in PyTorch on v1sim's batch order, then the test pass: (train s, total s, test error)."""
    (x, y), (xt, yt) = data
    start = time.perf_counter()
    model = torch_resnet20(torch)
    start_from_v1sim_weights(torch, model, seed)
    opt = torch.optim.SGD(
        model.parameters(),
        lr=settings["lr"],
        momentum=settings["momentum"],
        weight_decay=settings["weight_decay"],
    )
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    order = torch.from_numpy(np.random.default_rng([seed, 0]).permutation(len(x)))  # fit's epoch 1
    batch = settings["batch_size"]
    model.train()
    steps_start = time.perf_counter()
    for b in range(math.ceil(len(x) / batch)):
        idx = order[b * batch : (b + 1) * batch]
        loss = torch.nn.functional.cross_entropy(model(tx[idx]), ty[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    train_s = time.perf_counter() - steps_start
    model.eval()
    wrong = 0
    with torch.no_grad():
        for i in range(0, len(xt), 256):
            wrong += int((model(torch.from_numpy(xt[i : i + 256])).argmax(1).numpy() != yt[i : i + 256]).sum())
    return train_s, time.perf_counter() - start, wrong / len(xt)


def torch_peer_epoch(torch, argv) -> dict:
    """The PyTorch side in its own process (:class:`_common.TorchPeer`): the same data and batches, its times."""
    from v1sim.nn import models, recipes

    args, settings, (x, y), (xt, yt), n = _setup(argv)
    shape = models.default_input_shape("resnet20", in_channels=1)
    data = (recipes.prepare_images(x[:n], shape), y[:n].astype(np.int64)), (recipes.prepare_images(xt, shape), yt)
    train_s, total_s, error = torch_epoch(torch, data, settings, args.seed)
    return {"train": train_s, "total": total_s, "error": error}


def _setup(argv):
    """The arguments, the recipe's settings, the (train, test) sets as loaded and the training images used."""
    from v1sim.datasets import load_dataset
    from v1sim.nn import recipes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="train on the first N images only (default: the whole epoch)")
    parser.add_argument("--dataset", choices=["mnist", "digits"], default="mnist")
    parser.add_argument("--data-dir", default=DEFAULT_MNIST, help="folder of the MNIST IDX files")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    settings = {**recipes.recipe("resnet20"), "epochs": 1, "seed": args.seed}
    data_dir = args.data_dir if args.dataset == "mnist" else None
    train, test = (load_dataset(args.dataset, split, data_dir=data_dir) for split in ("train", "test"))
    n = len(train[0]) if args.limit is None else min(args.limit, len(train[0]))
    return args, settings, train, test, n


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args, settings, (x, _), (xt, _), n = _setup(argv)
    from v1sim.nn import recipes
    from v1sim.nn.train import TrainConfig

    print(machine_report())
    data_dir = args.data_dir if args.dataset == "mnist" else None
    print(
        f"ResNet-20 on {args.dataset}: one epoch of {n} of {len(x)} training images "
        f"({100 * n / len(x):.0f}%), batch {settings['batch_size']}, then {len(xt)} test images"
    )

    with tempfile.TemporaryDirectory() as out:
        load = os.getloadavg()[0]
        start = time.perf_counter()
        result = recipes.train_model(
            "resnet20",
            dataset=args.dataset,
            data_dir=data_dir,
            config=TrainConfig(**settings),
            out=out,
            progress=False,
            limit=n,
        )
        ours_total = time.perf_counter() - start
    ours_train = result["train_seconds"]
    print(
        f"v1sim    train {ours_train:7.1f} s ({n / ours_train:6.0f} images/s), whole run {ours_total:7.1f} s, "
        f"test error {100 * result['test_error']:.2f}%, peak memory {result['peak_rss_mb']:.0f} MB "
        f"(load {load:.2f} before)"
    )
    load = os.getloadavg()[0]
    peer = TorchPeer("bench_train_epoch")
    if peer.version is None:
        print("PyTorch is not installed: no peer")
        return 0
    theirs = peer.call("torch_peer_epoch", argv)
    peer.close()
    theirs_train, theirs_total, theirs_error = theirs["train"], theirs["total"], theirs["error"]
    print(
        f"PyTorch  train {theirs_train:7.1f} s ({n / theirs_train:6.0f} images/s), whole run {theirs_total:7.1f} s, "
        f"test error {100 * theirs_error:.2f}% (torch {peer.version}, {peer.threads} threads, "
        f"own process; load {load:.2f} before)"
    )
    print(
        f"speed-up (PyTorch time / v1sim time): training steps {theirs_train / ours_train:.2f}x, "
        f"whole run {theirs_total / ours_total:.2f}x"
    )
    print(machine_report().splitlines()[0].replace("machine:", "after:"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
