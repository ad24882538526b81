"""GoogLeNet (Szegedy et al. 2015 [4]_), row by row from the paper's Table 1.

References
----------
.. [4] C. Szegedy et al., "Going deeper with convolutions", CVPR 2015
   (arXiv 1409.4842).
"""

from __future__ import annotations

from collections import OrderedDict
from functools import partial
from typing import NamedTuple

from ..._core.validate import check_rng
from ..activation import ReLU
from ..blocks import Inception
from ..container import Sequential
from ..layers import Conv2d, Linear
from ..normalization import Dropout
from ..pooling import AvgPool2d, Flatten, MaxPool2d
from .common import classes, lrn

__all__ = ["GOOGLENET_INCEPTION", "InceptionSpec", "googlenet"]


class InceptionSpec(NamedTuple):
    """One Inception row of Table 1 [4]_: the filters of each branch (the arguments of :class:`v1sim.nn.Inception`)."""

    ch1x1: int  #: "#1x1"
    ch3x3red: int  #: "#3x3 reduce"
    ch3x3: int  #: "#3x3"
    ch5x5red: int  #: "#5x5 reduce"
    ch5x5: int  #: "#5x5"
    pool_proj: int  #: "pool proj"

    @property
    def out_channels(self) -> int:
        """Channels of the concatenated output: 1x1 + 3x3 + 5x5 + pool projection."""
        return self.ch1x1 + self.ch3x3 + self.ch5x5 + self.pool_proj


#: Szegedy et al.'s Table 1 [4]_ from the first Inception module on: module
#: name -> :class:`InceptionSpec`, and "M" for a 3x3/2 max pool.
GOOGLENET_INCEPTION = [
    ("inception3a", InceptionSpec(64, 96, 128, 16, 32, 32)),
    ("inception3b", InceptionSpec(128, 128, 192, 32, 96, 64)),
    ("pool3", "M"),
    ("inception4a", InceptionSpec(192, 96, 208, 16, 48, 64)),
    ("inception4b", InceptionSpec(160, 112, 224, 24, 64, 64)),
    ("inception4c", InceptionSpec(128, 128, 256, 24, 64, 64)),
    ("inception4d", InceptionSpec(112, 144, 288, 32, 64, 64)),
    ("inception4e", InceptionSpec(256, 160, 320, 32, 128, 128)),
    ("pool4", "M"),
    ("inception5a", InceptionSpec(256, 160, 320, 32, 128, 128)),
    ("inception5b", InceptionSpec(384, 192, 384, 48, 128, 128)),
]


def googlenet(num_classes=1000, in_channels=3, *, rng=None, device="auto") -> Sequential:
    """GoogLeNet [4]_ on 224x224 inputs, row by row from the paper's Table 1.

    conv1 7x7/2 (64) -> max pool 3x3/2 -> LRN -> conv2_reduce 1x1 (64) ->
    conv2 3x3 (192) -> LRN -> max pool -> inception 3a, 3b -> max pool ->
    4a..4e -> max pool -> 5a, 5b -> avg pool 7x7/1 -> dropout 40% -> linear.

    The max pools pad 1 so that 112 -> 56 -> 28 -> 14 -> 7 as the table says
    (the paper's Caffe model rounds up instead). The two LRN layers are from
    the paper's Figure 3 (the table omits them; they hold no parameters). The
    two auxiliary classifiers used only in training are omitted. The table's
    "convolution 3x3" row (112K parameters) is ``conv2_reduce`` and ``conv2``
    together.
    """
    rng = check_rng(rng)
    conv = partial(Conv2d, device=device, rng=rng)
    pool = partial(MaxPool2d, 3, 2, 1, device=device)
    layers = [
        ("conv1", conv(in_channels, 64, 7, 2, 3)),
        ("relu1", ReLU()),
        ("pool1", pool()),
        ("norm1", lrn()),
        ("conv2_reduce", conv(64, 64, 1)),
        ("relu2_reduce", ReLU()),
        ("conv2", conv(64, 192, 3, 1, 1)),
        ("relu2", ReLU()),
        ("norm2", lrn()),
        ("pool2", pool()),
    ]
    c = 192
    for name, spec in GOOGLENET_INCEPTION:
        if spec == "M":
            layers.append((name, pool()))
        else:
            spec = InceptionSpec(*spec)
            layers.append((name, Inception(c, **spec._asdict(), device=device, rng=rng)))
            c = spec.out_channels
    layers += [
        ("pool5", AvgPool2d(7, 1, device=device)),
        ("flatten", Flatten()),
        ("dropout", Dropout(0.4, rng=rng)),
        ("fc", Linear(c, classes(num_classes), rng=rng)),
    ]
    return Sequential(OrderedDict(layers))
