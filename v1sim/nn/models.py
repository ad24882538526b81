"""Model zoo: the lecture's ConvNets, from LeNet-5 to ResNet-152, built from :mod:`v1sim.nn` layers.

One call builds any of them::

    from v1sim.nn import models
    net = models.build("resnet20", rng=0)                 # weights drawn, ready to train
    big = models.build("vgg16", materialize=False)         # shape-only: no 550 MB of weights
    big.num_parameters(), big.macs((3, 224, 224))           # (138357544, 15470264320)

Every architecture is written once, as data where the paper gives a table
(VGG configurations, GoogLeNet's Inception table, ResNet depths), and the
same builder serves training and :mod:`v1sim.nn.summary`.

Shape-only models
-----------------
``materialize=False`` builds the real module tree, but every weight and bias
of a Conv2d, LocallyConnected2d or Linear is a read-only zero-stride view
(``np.broadcast_to``) of the right shape: shapes, ``output_shape``, ``macs``
and ``num_parameters`` are exact and nothing is allocated (BatchNorm's small
vectors excepted). Such a model is for counting, not for running: its forward
pass computes with zero weights and an optimiser step fails on the read-only
arrays. ``materialize=True`` (the default) refuses models whose float32
weights would pass 4 GiB (the lecture's 200x200 fully connected layer needs
6.4 GB) with a ValueError that points to ``materialize=False``.

Conventions: inputs are per-sample ``(C, H, W)``; every classifier returns
logits (softmax lives in :class:`v1sim.nn.CrossEntropyLoss` and
:func:`v1sim.nn.functional.softmax`); weighted layers have biases unless the
paper's design puts a BatchNorm after them (ResNets).

References
----------
.. [1] Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning
   applied to document recognition", Proc. IEEE 86(11), 1998.
.. [2] A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet classification with
   deep convolutional neural networks", NIPS 2012.
.. [3] K. Simonyan, A. Zisserman, "Very deep convolutional networks for
   large-scale image recognition", ICLR 2015 (arXiv 1409.1556).
.. [4] C. Szegedy et al., "Going deeper with convolutions", CVPR 2015
   (arXiv 1409.4842).
.. [5] K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image
   recognition", CVPR 2016 (arXiv 1512.03385).
.. [6] D. Silver et al., "Mastering the game of Go with deep neural networks
   and tree search", Nature 529, 2016 (policy network, Methods).
.. [7] M. Ranzato, "Deep learning for vision" tutorial, CVPR 2014 (the 200x200
   fully connected / locally connected / convolutional comparison).
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial

import numpy as np

from .._core.validate import check_choice, check_positive_int, check_rng
from ..errors import InputError
from ..backend import resolve_device
from . import _device
from .blocks import BasicBlock, Bottleneck, Inception
from .layers import AvgPool2d, Conv2d, shape_only, Flatten, GlobalAvgPool2d, Linear, LocallyConnected2d, MaxPool2d, ReLU, Tanh
from .module import Module, Parameter, Sequential
from .normalization import BatchNorm2d, Dropout, LocalResponseNorm

__all__ = [
    "MODELS", "ModelInfo", "build", "names", "default_input_shape", "PositionBias",
    "lenet5", "alexnet", "vgg", "VGG_CONFIGS", "googlenet", "GOOGLENET_INCEPTION", "resnet", "RESNET_DEPTHS",
    "cifar_resnet", "alphago_policy", "fc_vs_conv",
]  # fmt: skip

_MATERIALIZE_LIMIT_BYTES = 4 * 2**30


# --------------------------------------------------------------------------
# a layer the core lacks
# --------------------------------------------------------------------------


class PositionBias(Module):
    """Add a learned bias per channel and position: ``out = x + b``, b of shape (C, H, W).

    The "different bias for each position" of AlphaGo's final 1x1 layer [6]_
    (a shared 1x1 filter plus unshared biases; a LocallyConnected2d would
    unshare the filter too). Biases start at 0.

    Shape: (N, C, H, W) -> (N, C, H, W), (C, H, W) fixed by ``shape``.
    """

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(check_positive_int(s, "shape") for s in shape)
        if len(self.shape) != 3:
            raise InputError(f"shape must be (C, H, W), got {shape!r}", argument="shape")
        self.bias = Parameter(np.zeros(self.shape, np.float32))

    def forward(self, x):
        self._store(x.dtype)
        return _device.add_bias(x, self.bias.data)

    def backward(self, grad_out, *, input_grad=True):
        self._take_cache()
        if not _device.is_device(grad_out):
            grad_out = np.asarray(grad_out)
        self.bias.accumulate_grad(_device.sum_batch(grad_out))
        return grad_out

    def output_shape(self, input_shape):
        shape = self._check_ndim(input_shape, "CHW")
        if shape != self.shape:
            raise InputError(f"{self._name()} expects per-sample input of shape {self.shape}, got x with {shape}",
                             argument="x")  # fmt: skip
        return shape

    def extra_repr(self):
        return f"shape={self.shape}"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _lrn():
    """Krizhevsky et al.'s LRN (n=5, alpha=1e-4, beta=0.75, k=2); alpha x5 for the core's alpha/n convention."""
    return LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0)


def _classes(num_classes) -> int:
    """``num_classes`` checked under its own name (else the error would name the last Linear's ``out_features``)."""
    return check_positive_int(num_classes, "num_classes")


def _classifier(in_features, hidden, num_classes, p, rng, names=("fc6", "fc7", "fc8")):
    """Flatten, then (Linear, ReLU, Dropout) per hidden width, then the class scores."""
    layers, width = [("flatten", Flatten())], in_features
    for name, h in zip(names, hidden):
        i = name[2:]
        layers += [(name, Linear(width, h, rng=rng)), (f"relu{i}", ReLU()), (f"drop{i}", Dropout(p, rng=rng))]
        width = h
    return layers + [(names[len(hidden)], Linear(width, _classes(num_classes), rng=rng))]


# --------------------------------------------------------------------------
# LeNet-5 and AlexNet
# --------------------------------------------------------------------------


def lenet5(num_classes=10, in_channels=1, *, rng=None, device="auto") -> Sequential:
    """LeNet-5 [1]_ on 32x32 inputs: C1 6@5x5, S2, C3 16@5x5, S4, C5 120@5x5, F6 84, output.

    Shapes 32 -> 28 -> 14 -> 10 -> 5 -> 1; tanh after every convolution and
    F6, average pooling for subsampling, Xavier initialisation.

    Deviations from the paper (61,706 parameters here against its 60,840):
    C3 connects to all six S2 maps (the paper's partial table has 60 of the
    96 map pairs: 1,516 parameters, here 2,416); S2 and S4 average without the
    paper's trainable coefficient and bias per map (12 + 32 parameters) and
    are not followed by a squashing function; the paper's scaled tanh
    ``1.7159 tanh(2a/3)`` is plain tanh; and the output is a Linear layer of
    logits (850 parameters) instead of 84x10 Euclidean RBF units (840).
    """
    rng = check_rng(rng)
    conv = partial(Conv2d, init="xavier", device=device, rng=rng)
    return Sequential(OrderedDict(
        c1=conv(in_channels, 6, 5), tanh1=Tanh(), s2=AvgPool2d(2, device=device),
        c3=conv(6, 16, 5), tanh3=Tanh(), s4=AvgPool2d(2, device=device),
        c5=conv(16, 120, 5), tanh5=Tanh(), flatten=Flatten(),
        f6=Linear(120, 84, init="xavier", rng=rng), tanh6=Tanh(),
        output=Linear(84, _classes(num_classes), init="xavier", rng=rng),
    ))  # fmt: skip


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
        raise InputError(f"towers must be 1 (the lecture's table) or 2 (the paper's two GPUs), got {towers}",
                         argument="towers")  # fmt: skip
    rng = check_rng(rng)
    conv = partial(Conv2d, device=device, rng=rng)
    pool = partial(MaxPool2d, 3, 2, device=device)
    g = towers  # grouped where the paper keeps the towers apart
    conv1 = [("conv1", conv(in_channels, 96, 11, 4)), ("relu1", ReLU())]
    conv2 = [("conv2", conv(96, 256, 5, 1, 2, groups=g)), ("relu2", ReLU())]
    if towers == 1:
        stem = conv1 + [("pool1", pool()), ("norm1", _lrn())] + conv2 + [("pool2", pool()), ("norm2", _lrn())]
    else:
        stem = conv1 + [("norm1", _lrn()), ("pool1", pool())] + conv2 + [("norm2", _lrn()), ("pool2", pool())]
    layers = stem + [
        ("conv3", conv(256, 384, 3, 1, 1)), ("relu3", ReLU()),
        ("conv4", conv(384, 384, 3, 1, 1, groups=g)), ("relu4", ReLU()),
        ("conv5", conv(384, 256, 3, 1, 1, groups=g)), ("relu5", ReLU()),
        ("pool3", pool()),
    ] + _classifier(256 * 6 * 6, (4096, 4096), num_classes, 0.5, rng)  # fmt: skip
    return Sequential(OrderedDict(layers))


# --------------------------------------------------------------------------
# VGG
# --------------------------------------------------------------------------

#: The configurations of Simonyan & Zisserman's Table 1 [3]_: an int is a 3x3
#: convolution (stride 1, pad 1) with that many filters, ``(K, 1)`` a 1x1
#: convolution, "M" a 2x2/2 max pool, "LRN" local response normalisation.
VGG_CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "A-LRN": [64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [64, 64, "M", 128, 128, "M", 256, 256, (256, 1), "M", 512, 512, (512, 1), "M", 512, 512, (512, 1), "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def vgg(config="D", num_classes=1000, in_channels=3, *, rng=None, device="auto") -> Sequential:
    """VGG network [3]_ from a configuration of :data:`VGG_CONFIGS` ("A", "A-LRN", "B", "C", "D", "E").

    Layers are named as in the paper's Caffe models: ``conv{stage}_{i}``,
    ``relu{stage}_{i}``, ``pool{stage}``, then FC6/FC7 (4096, ReLU, dropout
    0.5) and FC8. On 224x224 inputs the last pool gives 7x7x512.
    """
    check_choice(config, "config", tuple(VGG_CONFIGS))
    rng = check_rng(rng)
    layers, c, stage, i = [], in_channels, 1, 1
    for item in VGG_CONFIGS[config]:
        if item == "M":
            layers.append((f"pool{stage}", MaxPool2d(2, 2, device=device)))
            stage, i = stage + 1, 1
        elif item == "LRN":
            layers.append((f"norm{stage}", _lrn()))
        else:
            k, size = (item, 3) if isinstance(item, int) else item
            layers.append((f"conv{stage}_{i}", Conv2d(c, k, size, 1, size // 2, device=device, rng=rng)))
            layers.append((f"relu{stage}_{i}", ReLU()))
            c, i = k, i + 1
    return Sequential(OrderedDict(layers + _classifier(c * 7 * 7, (4096, 4096), num_classes, 0.5, rng)))


# --------------------------------------------------------------------------
# GoogLeNet
# --------------------------------------------------------------------------

#: Szegedy et al.'s Table 1 [4]_ from the first Inception module on: module
#: name -> (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj), and "M"
#: for a 3x3/2 max pool.
GOOGLENET_INCEPTION = [
    ("inception3a", (64, 96, 128, 16, 32, 32)),
    ("inception3b", (128, 128, 192, 32, 96, 64)),
    ("pool3", "M"),
    ("inception4a", (192, 96, 208, 16, 48, 64)),
    ("inception4b", (160, 112, 224, 24, 64, 64)),
    ("inception4c", (128, 128, 256, 24, 64, 64)),
    ("inception4d", (112, 144, 288, 32, 64, 64)),
    ("inception4e", (256, 160, 320, 32, 128, 128)),
    ("pool4", "M"),
    ("inception5a", (256, 160, 320, 32, 128, 128)),
    ("inception5b", (384, 192, 384, 48, 128, 128)),
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
        ("conv1", conv(in_channels, 64, 7, 2, 3)), ("relu1", ReLU()), ("pool1", pool()), ("norm1", _lrn()),
        ("conv2_reduce", conv(64, 64, 1)), ("relu2_reduce", ReLU()),
        ("conv2", conv(64, 192, 3, 1, 1)), ("relu2", ReLU()), ("norm2", _lrn()), ("pool2", pool()),
    ]  # fmt: skip
    c = 192
    for name, spec in GOOGLENET_INCEPTION:
        if spec == "M":
            layers.append((name, pool()))
        else:
            layers.append((name, Inception(c, *spec, device=device, rng=rng)))
            c = spec[0] + spec[2] + spec[4] + spec[5]
    layers += [
        ("pool5", AvgPool2d(7, 1, device=device)), ("flatten", Flatten()), ("dropout", Dropout(0.4, rng=rng)),
        ("fc", Linear(c, _classes(num_classes), rng=rng)),
    ]  # fmt: skip
    return Sequential(OrderedDict(layers))


# --------------------------------------------------------------------------
# ResNets
# --------------------------------------------------------------------------

#: He et al.'s Table 1 [5]_: depth -> (block, blocks per stage conv2_x..conv5_x).
RESNET_DEPTHS = {
    18: ("basic", [2, 2, 2, 2]),
    34: ("basic", [3, 4, 6, 3]),
    50: ("bottleneck", [3, 4, 6, 3]),
    101: ("bottleneck", [3, 4, 23, 3]),
    152: ("bottleneck", [3, 8, 36, 3]),
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
    kind, counts = RESNET_DEPTHS[depth]
    rng = check_rng(rng)
    layers = [
        ("conv1", Conv2d(in_channels, 64, 7, 2, 3, bias=False, device=device, rng=rng)),
        ("bn1", BatchNorm2d(64)), ("relu", ReLU()), ("maxpool", MaxPool2d(3, 2, 1, device=device)),
    ]  # fmt: skip
    c = 64
    for stage, (width, n) in enumerate(zip((64, 128, 256, 512), counts)):
        blocks = []
        for i in range(n):
            stride = 2 if (i == 0 and stage > 0) else 1
            if kind == "basic":
                block = BasicBlock(c, width, stride, "B", device=device, rng=rng)
                c = width
            else:
                block = Bottleneck(c, width, stride, "B", device=device, rng=rng)
                if stride != 1 and not stride_on_3x3:
                    _stride_on_first_1x1(block, stride)
                c = width * Bottleneck.expansion
            blocks.append(block)
        layers.append((f"conv{stage + 2}_x", Sequential(*blocks)))
    layers += [("avgpool", GlobalAvgPool2d()), ("fc", Linear(c, _classes(num_classes), rng=rng))]
    return Sequential(OrderedDict(layers))


def _plain_block(c_in, c_out, stride, device, rng):
    conv = partial(Conv2d, bias=False, device=device, rng=rng)
    return Sequential(OrderedDict(
        conv1=conv(c_in, c_out, 3, stride, 1), bn1=BatchNorm2d(c_out), relu1=ReLU(),
        conv2=conv(c_out, c_out, 3, 1, 1), bn2=BatchNorm2d(c_out), relu2=ReLU(),
    ))  # fmt: skip


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
        ("bn1", BatchNorm2d(16)), ("relu", ReLU()),
    ]  # fmt: skip
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
    layers += [("avgpool", GlobalAvgPool2d()), ("fc", Linear(c, _classes(num_classes), rng=rng))]
    return Sequential(OrderedDict(layers))


# --------------------------------------------------------------------------
# AlphaGo's policy network and the 200x200 comparison
# --------------------------------------------------------------------------


def alphago_policy(in_channels=48, *, filters=192, board_size=19, rng=None, device="auto") -> Sequential:
    """AlphaGo's SL policy network [6]_: 13 convolutions on a 19x19x48 stack, one logit per point.

    conv1 k 5x5 pad 2 + ReLU, conv2..conv12 k 3x3 pad 1 + ReLU, conv13 one
    1x1 filter (no bias) + :class:`PositionBias` (the paper's "different bias
    for each position"), flattened to ``board_size**2`` logits; the paper's
    final softmax is the loss's (or :func:`v1sim.nn.functional.softmax`).
    The match version used k = 192 ``filters`` (also 128, 256, 384 in the paper).
    """
    filters = check_positive_int(filters, "filters")
    b = check_positive_int(board_size, "board_size")
    rng = check_rng(rng)
    conv = partial(Conv2d, device=device, rng=rng)
    layers = [("conv1", conv(in_channels, filters, 5, 1, 2)), ("relu1", ReLU())]
    for i in range(2, 13):
        layers += [(f"conv{i}", conv(filters, filters, 3, 1, 1)), (f"relu{i}", ReLU())]
    layers += [("conv13", conv(filters, 1, 1, bias=False)), ("bias", PositionBias((1, b, b))), ("flatten", Flatten())]
    return Sequential(OrderedDict(layers))


def fc_vs_conv(variant="conv", in_channels=1, *, rng=None, device="auto") -> Sequential:
    """The lecture's 200x200 example [7]_: 40,000 hidden units, three ways.

    ``"fc"``
        Fully connected: Linear(40,000 -> 40,000): 1.6e9 weights (the
        lecture's "~2B"). Only shape-only builds are possible (6.4 GB).
    ``"lc"``
        Locally connected, 10x10 filters: the image is tiled into 20x20
        patches of 10x10 (stride 10) and each patch has 100 units of its own,
        100 x 20 x 20 = 40,000 units with 100 weights each: 4.0e6 weights.
    ``"conv"``
        Convolutional: the same 100 filters of 10x10 shared by every patch:
        10,000 weights, the same 40,000 outputs.

    Each variant has biases (the lecture's counts are weights only): 40,000,
    40,000 and 100. The stride-10 tiling makes the three output the same
    40,000 units; one unit per pixel (stride 1, pad 5) gives 201x201 =
    40,401 units and 4.04e6 weights, the same lesson with rounder input.
    """
    check_choice(variant, "variant", ("fc", "lc", "conv"))
    rng = check_rng(rng)
    if variant == "fc":
        layers = [("flatten", Flatten()), ("fc", Linear(in_channels * 200 * 200, 40_000, rng=rng))]
    elif variant == "lc":
        layers = [("lc", LocallyConnected2d(in_channels, 100, 200, 10, 10, device=device, rng=rng))]
    else:
        layers = [("conv", Conv2d(in_channels, 100, 10, 10, device=device, rng=rng))]
    return Sequential(OrderedDict(layers))


# --------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelInfo:
    """A registered model: ``builder(**options) -> Module``, its per-sample input shape, one line on it."""

    builder: object
    input_shape: tuple
    description: str


def _register():
    he, m = "(He et al. 2015)", OrderedDict()
    m["lenet5"] = ModelInfo(lenet5, (1, 32, 32), "LeNet-5, tanh + average pooling (LeCun et al. 1998)")
    m["alexnet"] = ModelInfo(alexnet, (3, 227, 227), "AlexNet, the lecture's one-tower table (Krizhevsky 2012)")
    m["alexnet-2gpu"] = ModelInfo(
        partial(alexnet, towers=2), (3, 227, 227), "AlexNet, the paper's two towers (groups=2) (Krizhevsky 2012)"
    )
    for name, config, what in (
        ("vgg11", "A", "A, 11 weight layers"), ("vgg11-lrn", "A-LRN", "A-LRN, with LRN"),
        ("vgg13", "B", "B, 13 weight layers"), ("vgg16-c", "C", "C, 16 layers with 1x1 convs"),
        ("vgg16", "D", "D, 16 weight layers"), ("vgg19", "E", "E, 19 weight layers"),
    ):
        m[name] = ModelInfo(partial(vgg, config), (3, 224, 224), f"VGG config {what} (Simonyan & Zisserman 2014)")
    m["googlenet"] = ModelInfo(googlenet, (3, 224, 224), "GoogLeNet, no auxiliary heads (Szegedy et al. 2014)")
    for d in RESNET_DEPTHS:
        m[f"resnet{d}"] = ModelInfo(partial(resnet, d), (3, 224, 224), f"ResNet-{d}, ImageNet {he}")
    for d in (20, 32, 44, 56, 110):
        m[f"resnet{d}"] = ModelInfo(partial(cifar_resnet, d), (3, 32, 32), f"ResNet-{d}, CIFAR-10, 6n+2 layers {he}")
    for d in (20, 32, 44, 56, 110):
        plain = partial(cifar_resnet, d, shortcuts=False)
        m[f"plain{d}"] = ModelInfo(plain, (3, 32, 32), f"plain-{d}: ResNet-{d} without shortcuts, CIFAR-10 {he}")
    m["alphago-policy"] = ModelInfo(alphago_policy, (48, 19, 19), "AlphaGo's policy network (Silver et al. 2016)")
    m["fc-vs-conv"] = ModelInfo(
        fc_vs_conv, (1, 200, 200), "200x200 image to 40K units: variant=fc | lc | conv (Ranzato 2014, in the lecture)"
    )
    return m  # fmt: skip


#: name -> :class:`ModelInfo`, in the lecture's order.
MODELS = _register()


def names() -> list:
    """The registered model names."""
    return list(MODELS)


def _info(name) -> ModelInfo:
    if not isinstance(name, str) or name not in MODELS:
        raise InputError(f"unknown model {name!r}; name must be one of: {', '.join(MODELS)}", argument="name")
    return MODELS[name]


def default_input_shape(name, in_channels=None) -> tuple:
    """The per-sample input shape (C, H, W) of model ``name`` (C replaced by ``in_channels`` if given)."""
    shape = _info(name).input_shape
    return shape if in_channels is None else (check_positive_int(in_channels, "in_channels"),) + shape[1:]


def build(name, *, num_classes=None, in_channels=None, rng=None, device="auto", materialize=True, **options) -> Module:
    """Build model ``name`` of :data:`MODELS`.

    Parameters
    ----------
    name : str
        One of :func:`names` ("lenet5", "alexnet", "vgg16", "resnet50", ...).
    num_classes, in_channels : int, optional
        Override the model's defaults (models without a classifier, such as
        "alphago-policy" and "fc-vs-conv", take no ``num_classes``).
    rng : None, int or numpy.random.Generator
        Source of the initial weights (one generator threads through all layers).
    device : {"auto", "cpu", "parallel", "cuda"}
        Passed to every layer that takes one; "cuda" then moves the whole
        model (BatchNorm and Linear layers included) into GPU memory, where
        it trains (weights are drawn on the host first: the same on every
        device for one ``rng``).
    materialize : bool
        False builds a shape-only model (see the module docstring): exact
        shapes, sizes and MACs, no weight memory, cheap for VGG-19 or the
        1.6-billion-weight FC layer.
    **options
        Builder options, e.g. ``variant="fc"`` for "fc-vs-conv",
        ``filters=128`` for "alphago-policy", ``stride_on_3x3=True`` for the
        ImageNet ResNets.

    Returns
    -------
    Module
        A :class:`v1sim.nn.Sequential`; ``MODELS[name].input_shape`` is what it takes.

    Raises
    ------
    InputError
        For an unknown ``name`` or option, a ``num_classes`` or ``in_channels``
        below 1 (named as such), or when materialising would pass 4 GiB of
        float32 weights (``materialize``).
    InputTypeError
        For a non-integer ``num_classes`` or ``in_channels``.
    """
    info = _info(name)
    params = inspect.signature(info.builder).parameters
    for key, value in (("num_classes", num_classes), ("in_channels", in_channels)):
        if value is not None:  # checked here, so the error names the caller's argument, not a layer's
            options[key] = check_positive_int(value, key)
    unknown = [k for k in options if k not in params]
    if unknown:
        known = [k for k in params if k not in ("rng", "device")]
        raise InputError(f"model {name!r} takes no option {', '.join(unknown)}; its options: {', '.join(known)}",
                         argument=unknown[0])  # fmt: skip
    with shape_only():
        model = info.builder(rng=None, device=device, **options)
    if not materialize:
        return model
    size = 4 * model.num_parameters()
    if size > _MATERIALIZE_LIMIT_BYTES:
        raise InputError(
            f"model {name!r} has {size // 4:,} parameters ({size / 1e9:.1f} GB as float32), more than the "
            f"{_MATERIALIZE_LIMIT_BYTES / 2**30:.0f} GiB build() materialises; use materialize=False for its "
            "shapes and sizes",
            argument="materialize",
        )
    model = info.builder(rng=rng, device=device, **options)
    if resolve_device(device) == "cuda":
        model.to("cuda")
    return model
