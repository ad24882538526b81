"""Short float32 training curves on a toy task, to compare two convolution paths (a test monkeypatches one
off between two calls; shared by the test files of the CPU convolution paths)."""

from __future__ import annotations

import numpy as np

from v1sim import nn


def quadrant_images(n, channels, size, seed):
    """``(x, y)``: ``n`` noisy images whose class (0-3) is the quadrant holding a bright square."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 4
    x = 0.2 * rng.random((n, channels, size, size), dtype=np.float32)
    half, side = size // 2, 4 * size // 10
    for i, label in enumerate(y):
        x[i, :, half * (label // 2) : half * (label // 2) + side, half * (label % 2) : half * (label % 2) + side] += 1
    return x, y


def conv_net(in_channels, layers, classes=4):
    """3x3 convolutions (padding 1, each followed by a ReLU), one per ``(channels, stride)`` of ``layers``, then
    global average pooling and a linear classifier; weights seeded 1, 2, ... in that order."""
    body, seed = [], 1
    for channels, stride in layers:
        body += [nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, rng=seed), nn.ReLU()]
        in_channels, seed = channels, seed + 1
    return nn.Sequential(*body, nn.GlobalAvgPool2d(), nn.Linear(in_channels, classes, rng=seed))


def sgd_curve(model, x, y, steps=12, *, dtype=np.float32, weight_decay=0.0):
    """Losses and final parameters of ``model`` in ``dtype`` after ``steps`` steps of SGD with momentum."""
    model.to(dtype=dtype)
    crit = nn.CrossEntropyLoss()
    opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=weight_decay)
    losses = []
    for _ in range(steps):
        losses.append(float(crit(model(x), y)))
        model.zero_grad()
        model.backward(crit.backward())
        opt.step()
    return np.array(losses), [p.data.copy() for p in model.parameters()]
