"""ResNets (He et al. 2016 [5]_): the ImageNet depths of Table 1 as data; the CIFAR-10 6n+2 nets and plain twins.

References
----------
.. [5] K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image
   recognition", CVPR 2016 (arXiv 1512.03385).
"""

from __future__ import annotations

from collections import OrderedDict
from functools import partial
from typing import NamedTuple

from ..._core.validate import check_positive_int, check_rng
from ...errors import InputError
from ..activation import ReLU
from ..blocks import BasicBlock, Bottleneck
from ..container import Sequential
from ..layers import Conv2d, Linear
from ..normalization import BatchNorm2d
from ..pooling import GlobalAvgPool2d, MaxPool2d
from .common import classes

__all__ = ["RESNET_DEPTHS", "ResNetDepth", "cifar_resnet", "resnet"]


class ResNetDepth(NamedTuple):
    """One column of He et al.'s Table 1 [5]_: the block type and the blocks per stage conv2_x..conv5_x."""

    block: str  #: "basic" (two 3x3) or "bottleneck" (1x1, 3x3, 1x1)
    blocks: tuple  #: blocks in conv2_x, conv3_x, conv4_x, conv5_x


#: He et al.'s Table 1 [5]_: depth -> :class:`ResNetDepth`.
RESNET_DEPTHS = {
    18: ResNetDepth("basic", (2, 2, 2, 2)),
    34: ResNetDepth("basic", (3, 4, 6, 3)),
    50: ResNetDepth("bottleneck", (3, 4, 6, 3)),
    101: ResNetDepth("bottleneck", (3, 4, 23, 3)),
    152: ResNetDepth("bottleneck", (3, 8, 36, 3)),
}


def _stride_on_first_1x1(block: Bottleneck, stride: int) -> Bottleneck:
    """Move a Bottleneck's stride from its 3x3 to its first 1x1 convolution (He et al.'s original).

    :class:`v1sim.nn.Bottleneck` strides on the 3x3 convolution (torchvision's
    "v1.5", +7% multiply-adds for ResNet-50); the paper downsamples "by
    conv3_1, conv4_1, and conv5_1 with a stride of 2", its 1x1 reduce layer.
    Weight shapes do not depend on the stride, so moving it is safe.
    """
    block.body.conv1.stride = (stride, stride)
    block.body.conv2.stride = (1, 1)
    return block


def resnet(depth=50, num_classes=1000, in_channels=3, *, stride_on_3x3=False, rng=None, device="auto") -> Sequential:
    """ImageNet ResNet [5]_ of depth 18, 34, 50, 101 or 152 (:data:`RESNET_DEPTHS`).

    conv1 7x7/2 (64) + BN + ReLU -> 3x3/2 max pool -> conv2_x..conv5_x (64,
    128, 256, 512 wide; x4 out for bottlenecks) -> global average pool -> FC.
    Output sizes 112, 56, 28, 14, 7 on 224x224 inputs. Shortcuts are
    identities, and 1x1 projections + BN where the shape changes (option B).
    Bottlenecks stride on their first 1x1 convolution, as the paper;
    ``stride_on_3x3=True`` gives torchvision's "v1.5" placement instead.
    """
    if depth not in RESNET_DEPTHS:
        raise InputError(f"depth must be one of {', '.join(map(str, RESNET_DEPTHS))}, got {depth!r}", argument="depth")
    spec = RESNET_DEPTHS[depth]
    rng = check_rng(rng)
    layers = [
        ("conv1", Conv2d(in_channels, 64, 7, 2, 3, bias=False, device=device, rng=rng)),
        ("bn1", BatchNorm2d(64)),
        ("relu", ReLU()),
        ("maxpool", MaxPool2d(3, 2, 1, device=device)),
    ]
    c = 64
    for stage, (width, n) in enumerate(zip((64, 128, 256, 512), spec.blocks)):
        blocks = []
        for i in range(n):
            stride = 2 if (i == 0 and stage > 0) else 1
            if spec.block == "basic":
                block = BasicBlock(c, width, stride, "B", device=device, rng=rng)
                c = width
            else:
                block = Bottleneck(c, width, stride, "B", device=device, rng=rng)
                if stride != 1 and not stride_on_3x3:
                    _stride_on_first_1x1(block, stride)
                c = width * Bottleneck.expansion
            blocks.append(block)
        layers.append((f"conv{stage + 2}_x", Sequential(*blocks)))
    layers += [("avgpool", GlobalAvgPool2d()), ("fc", Linear(c, classes(num_classes), rng=rng))]
    return Sequential(OrderedDict(layers))


def _plain_block(c_in, c_out, stride, device, rng):
    conv = partial(Conv2d, bias=False, device=device, rng=rng)
    return Sequential(
        OrderedDict(
            conv1=conv(c_in, c_out, 3, stride, 1),
            bn1=BatchNorm2d(c_out),
            relu1=ReLU(),
            conv2=conv(c_out, c_out, 3, 1, 1),
            bn2=BatchNorm2d(c_out),
            relu2=ReLU(),
        )
    )


def cifar_resnet(depth=20, num_classes=10, in_channels=3, *, shortcuts=True, rng=None, device="auto") -> Sequential:
    """The CIFAR-10 networks of He et al. [5]_ (section 4.2): 6n+2 layers on 32x32 inputs.

    conv 3x3 (16) + BN + ReLU -> three stages of n two-layer blocks with 16,
    32, 64 filters on 32x32, 16x16, 8x8 maps (the first block of stages 2 and
    3 strides 2) -> global average pool -> FC. ``shortcuts=True`` gives the
    ResNet (BasicBlock, parameter-free zero-padding shortcuts: option A, as the
    paper's CIFAR experiments), ``False`` the "plain" net of the same layers,
    hence the same parameter count.
    """
    depth = check_positive_int(depth, "depth")
    if (depth - 2) % 6 or depth < 8:
        raise InputError(f"depth must be 6n+2 (20, 32, 44, 56, 110, ...), got {depth}", argument="depth")
    n, rng = (depth - 2) // 6, check_rng(rng)
    layers = [
        ("conv1", Conv2d(in_channels, 16, 3, 1, 1, bias=False, device=device, rng=rng)),
        ("bn1", BatchNorm2d(16)),
        ("relu", ReLU()),
    ]
    c = 16
    for stage, width in enumerate((16, 32, 64)):
        blocks = []
        for i in range(n):
            stride = 2 if (i == 0 and stage > 0) else 1
            if shortcuts:
                blocks.append(BasicBlock(c, width, stride, "A", device=device, rng=rng))
            else:
                blocks.append(_plain_block(c, width, stride, device, rng))
            c = width
        layers.append((f"stage{stage + 1}", Sequential(*blocks)))
    layers += [("avgpool", GlobalAvgPool2d()), ("fc", Linear(c, classes(num_classes), rng=rng))]
    return Sequential(OrderedDict(layers))
