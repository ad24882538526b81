"""VGG (Simonyan & Zisserman 2015 [3]_): the configurations of the paper's Table 1, as data.

References
----------
.. [3] K. Simonyan, A. Zisserman, "Very deep convolutional networks for
   large-scale image recognition", ICLR 2015 (arXiv 1409.1556).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

from ..._core.validate import check_choice, check_rng, describe
from ...errors import InputTypeError
from ..activation import ReLU
from ..container import Sequential
from ..layers import Conv2d
from ..normalization import BatchNorm2d
from ..pooling import MaxPool2d
from .common import classifier, lrn

__all__ = ["VGG_CONFIGS", "VGGConv", "vgg"]


class VGGConv(NamedTuple):
    """A convolution of a VGG configuration other than the default 3x3 (stride 1, "same" padding)."""

    filters: int  #: output channels
    size: int = 3  #: kernel size (configuration C's 1x1 convolutions)


#: The configurations of Simonyan & Zisserman's Table 1 [3]_: an int is a 3x3
#: convolution (stride 1, pad 1) with that many filters, ``VGGConv(K, 1)`` a 1x1
#: convolution, "M" a 2x2/2 max pool, "LRN" local response normalisation.
VGG_CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "A-LRN": [64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        VGGConv(256, 1),
        "M",
        512,
        512,
        VGGConv(512, 1),
        "M",
        512,
        512,
        VGGConv(512, 1),
        "M",
    ],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def vgg(config="D", num_classes=1000, in_channels=3, *, batch_norm=False, rng=None, device="auto") -> Sequential:
    """VGG network [3]_ from a configuration of :data:`VGG_CONFIGS` ("A", "A-LRN", "B", "C", "D", "E").

    Layers are named as in the paper's Caffe models: ``conv{stage}_{i}``,
    ``relu{stage}_{i}``, ``pool{stage}``, then FC6/FC7 (4096, ReLU, dropout
    0.5) and FC8. On 224x224 inputs the last pool gives 7x7x512.
    ``batch_norm=True`` puts a BatchNorm ``bn{stage}_{i}`` between each
    convolution and its ReLU (torchvision's ``vgg16_bn`` and kin, a later
    variant than the paper's; the convolutions keep their biases, as there).
    """
    check_choice(config, "config", tuple(VGG_CONFIGS))
    if not isinstance(batch_norm, bool):
        raise InputTypeError(f"batch_norm must be True or False, got {describe(batch_norm)}", argument="batch_norm")
    rng = check_rng(rng)
    layers, c, stage, i = [], in_channels, 1, 1
    for item in VGG_CONFIGS[config]:
        if item == "M":
            layers.append((f"pool{stage}", MaxPool2d(2, 2, device=device)))
            stage, i = stage + 1, 1
        elif item == "LRN":
            layers.append((f"norm{stage}", lrn()))
        else:
            spec = VGGConv(item) if isinstance(item, int) else VGGConv(*item)
            k, size = spec.filters, spec.size
            layers.append((f"conv{stage}_{i}", Conv2d(c, k, size, 1, size // 2, device=device, rng=rng)))
            if batch_norm:
                layers.append((f"bn{stage}_{i}", BatchNorm2d(k)))
            layers.append((f"relu{stage}_{i}", ReLU()))
            c, i = k, i + 1
    return Sequential(OrderedDict(layers + classifier(c * 7 * 7, (4096, 4096), num_classes, 0.5, rng)))
