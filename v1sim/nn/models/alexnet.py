"""AlexNet (Krizhevsky, Sutskever & Hinton 2012 [2]_): the lecture's one-tower table and the paper's two towers.

References
----------
.. [2] A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet classification with
   deep convolutional neural networks", NIPS 2012.
.. [8] A. Krizhevsky, "One weird trick for parallelizing convolutional neural
   networks", arXiv 1404.5997, 2014 (the 64/192/384/256/256 network
   torchvision ships as ``alexnet``).
"""

from __future__ import annotations

from collections import OrderedDict
from functools import partial

from ..._core.validate import check_positive_int, check_rng
from ...errors import InputError
from ..activation import ReLU
from ..container import Sequential
from ..layers import Conv2d, Flatten, Linear
from ..normalization import Dropout
from ..pooling import MaxPool2d
from .common import classes, classifier, lrn

__all__ = ["alexnet", "alexnet_torchvision"]


def alexnet(num_classes=1000, in_channels=3, *, towers=1, rng=None, device="auto") -> Sequential:
    """AlexNet [2]_ on 227x227 inputs: five convolutions, three max pools, two LRNs, three FC layers.

    ``towers=1`` is the lecture's "full (simplified)" single-tower table,
    layer for layer: CONV1 96 11x11/4 -> POOL1 3x3/2 -> NORM1 -> CONV2 256
    5x5 p2 -> POOL2 -> NORM2 -> CONV3 384 3x3 p1 -> CONV4 384 -> CONV5 256 ->
    POOL3 -> FC6 4096 -> FC7 4096 -> FC8 (62,378,344 parameters).

    ``towers=2`` is the paper's two-GPU network: CONV2, CONV4 and CONV5 see
    only the maps of their own tower (``groups=2``), CONV1, CONV3 and the FC
    layers connect across (60,965,224 parameters, the paper's "60 million").
    It also keeps the paper's order conv -> ReLU -> LRN -> pool, where the
    lecture pools before normalising (same shapes either way).

    ReLU follows every convolution and FC6/FC7; dropout 0.5 before FC7 and FC8.
    The paper's 224x224 input does not give 55x55 after an 11x11/4 convolution
    without padding; 227 does (the lecture's hint ``(227 - 11)/4 + 1 = 55``).
    """
    towers = check_positive_int(towers, "towers")
    if towers not in (1, 2):
        raise InputError(
            f"towers must be 1 (the lecture's table) or 2 (the paper's two GPUs), got {towers}", argument="towers"
        )
    rng = check_rng(rng)
    conv = partial(Conv2d, device=device, rng=rng)
    pool = partial(MaxPool2d, 3, 2, device=device)
    g = towers  # grouped where the paper keeps the towers apart
    conv1 = [("conv1", conv(in_channels, 96, 11, 4)), ("relu1", ReLU())]
    conv2 = [("conv2", conv(96, 256, 5, 1, 2, groups=g)), ("relu2", ReLU())]
    if towers == 1:
        stem = conv1 + [("pool1", pool()), ("norm1", lrn())] + conv2 + [("pool2", pool()), ("norm2", lrn())]
    else:
        stem = conv1 + [("norm1", lrn()), ("pool1", pool())] + conv2 + [("norm2", lrn()), ("pool2", pool())]
    layers = (
        stem
        + [
            ("conv3", conv(256, 384, 3, 1, 1)),
            ("relu3", ReLU()),
            ("conv4", conv(384, 384, 3, 1, 1, groups=g)),
            ("relu4", ReLU()),
            ("conv5", conv(384, 256, 3, 1, 1, groups=g)),
            ("relu5", ReLU()),
            ("pool3", pool()),
        ]
        + classifier(256 * 6 * 6, (4096, 4096), num_classes, 0.5, rng)
    )
    return Sequential(OrderedDict(layers))


def alexnet_torchvision(num_classes=1000, in_channels=3, *, rng=None, device="auto") -> Sequential:
    """torchvision's ``alexnet`` [8]_ on 224x224 inputs: 64/192/384/256/256 filters, no LRN, 61,100,840 parameters.

    CONV1 64 11x11/4 p2 -> POOL1 3x3/2 -> CONV2 192 5x5 p2 -> POOL2 -> CONV3
    384 3x3 p1 -> CONV4 256 -> CONV5 256 -> POOL3 (6x6x256) -> dropout ->
    FC6 4096 -> dropout -> FC7 4096 -> FC8, ReLU after every layer but FC8,
    in torchvision's order, so that its ImageNet weights load into it
    (:mod:`v1sim.nn.models.weights`). torchvision's adaptive average pool
    to 6x6 is the identity on 224x224 inputs and is left out: other input
    sizes are refused by FC6 rather than resampled.
    """
    rng = check_rng(rng)
    conv = partial(Conv2d, device=device, rng=rng)
    pool = partial(MaxPool2d, 3, 2, device=device)
    layers = [
        ("conv1", conv(in_channels, 64, 11, 4, 2)),
        ("relu1", ReLU()),
        ("pool1", pool()),
        ("conv2", conv(64, 192, 5, 1, 2)),
        ("relu2", ReLU()),
        ("pool2", pool()),
        ("conv3", conv(192, 384, 3, 1, 1)),
        ("relu3", ReLU()),
        ("conv4", conv(384, 256, 3, 1, 1)),
        ("relu4", ReLU()),
        ("conv5", conv(256, 256, 3, 1, 1)),
        ("relu5", ReLU()),
        ("pool3", pool()),
        ("flatten", Flatten()),
        ("drop6", Dropout(0.5, rng=rng)),
        ("fc6", Linear(256 * 6 * 6, 4096, rng=rng)),
        ("relu6", ReLU()),
        ("drop7", Dropout(0.5, rng=rng)),
        ("fc7", Linear(4096, 4096, rng=rng)),
        ("relu7", ReLU()),
        ("fc8", Linear(4096, classes(num_classes), rng=rng)),
    ]
    return Sequential(OrderedDict(layers))
