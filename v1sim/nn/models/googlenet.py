"""GoogLeNet (Szegedy et al. 2015 [4]_), row by row from the paper's Table 1.

References
----------
.. [4] C. Szegedy et al., "Going deeper with convolutions", CVPR 2015
   (arXiv 1409.4842).
.. [9] S. Ioffe, C. Szegedy, "Batch normalization: accelerating deep network
   training by reducing internal covariate shift", ICML 2015 (the BatchNorm
   after every convolution of torchvision's ``googlenet``).
"""

from __future__ import annotations

from collections import OrderedDict
from functools import partial
from typing import NamedTuple

import numpy as np

from ..._core.validate import check_rng, describe
from ...errors import InputTypeError
from ..activation import ReLU
from ..blocks import Concat, Inception
from ..container import Sequential
from ..layers import Conv2d, Linear
from ..module import Module
from ..normalization import BatchNorm2d, Dropout
from ..pooling import AvgPool2d, Flatten, GlobalAvgPool2d, MaxPool2d
from .common import classes, lrn

__all__ = ["GOOGLENET_INCEPTION", "InceptionSpec", "googlenet", "googlenet_torchvision"]


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


class _CeilMaxPool2d(MaxPool2d):
    """Max pooling with PyTorch's ``ceil_mode=True`` and no padding: a last, partial window where the map ends.

    The map is padded with -inf at the bottom and right just enough for
    ``ceil((H - F) / S) + 1`` windows (each still starts inside the map, so
    every window holds a real value). Host arrays only.
    """

    def _extra(self, size, f, s):
        return (-(-(size - f) // s)) * s + f - size

    def forward(self, x):
        (kh, kw), (sy, sx) = self.kernel_size, self.stride
        pad_h, pad_w = self._extra(x.shape[2], kh, sy), self._extra(x.shape[3], kw, sx)
        self._crop = x.shape[2:]
        if pad_h or pad_w:
            x = np.pad(x, ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), constant_values=-np.inf)
        return super().forward(x)

    def backward(self, grad_out, *, input_grad=True):
        h, w = self._crop
        return np.ascontiguousarray(super().backward(grad_out)[:, :, :h, :w])

    def output_shape(self, input_shape):
        c, h, w = self._check_ndim(input_shape, "CHW")
        (kh, kw), (sy, sx) = self.kernel_size, self.stride
        return super().output_shape((c, h + self._extra(h, kh, sy), w + self._extra(w, kw, sx)))

    def extra_repr(self):
        return super().extra_repr() + ", ceil_mode=True"


class _TransformInput(Module):
    """torchvision's GoogLeNet ``transform_input``: ImageNet-normalised RGB -> the (x - 0.5) / 0.5 scaling.

    Channel c becomes ``x_c * std_c / 0.5 + (mean_c - 0.5) / 0.5``: the input
    the original (Caffe-trained) weights expect, from ImageNet's mean and std.
    """

    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

    def _scale_shift(self, dtype):
        scale = np.asarray(self.std, dtype)[:, None, None] / 0.5
        return scale, (np.asarray(self.mean, dtype)[:, None, None] - 0.5) / 0.5

    def forward(self, x):
        self._check_channels(x.shape[1], 3, tuple(x.shape[1:]))
        scale, shift = self._scale_shift(x.dtype)
        return x * scale + shift

    def backward(self, grad_out, *, input_grad=True):
        return grad_out * self._scale_shift(grad_out.dtype)[0]

    def output_shape(self, input_shape):
        shape = self._check_ndim(input_shape, "CHW")
        self._check_channels(shape[0], 3, shape)
        return shape


def _basic_conv(c_in, c_out, size, stride, device, rng):
    """torchvision's ``BasicConv2d``: convolution without bias, BatchNorm (eps 0.001), ReLU."""
    conv = Conv2d(c_in, c_out, size, stride, size // 2, bias=False, device=device, rng=rng)
    return Sequential(OrderedDict(conv=conv, bn=BatchNorm2d(c_out, eps=1e-3), relu=ReLU()))


def _torchvision_inception(c, spec: InceptionSpec, device, rng) -> Concat:
    basic = partial(_basic_conv, stride=1, device=device, rng=rng)
    return Concat(
        OrderedDict(
            branch1=basic(c, spec.ch1x1, 1),
            branch2=Sequential(basic(c, spec.ch3x3red, 1), basic(spec.ch3x3red, spec.ch3x3, 3)),
            # torchvision's "5x5" branch convolves 3x3 (kept, so that its weights load)
            branch3=Sequential(basic(c, spec.ch5x5red, 1), basic(spec.ch5x5red, spec.ch5x5, 3)),
            branch4=Sequential(MaxPool2d(3, 1, 1, device=device), basic(c, spec.pool_proj, 1)),
        )
    )


def googlenet_torchvision(num_classes=1000, in_channels=3, *, transform_input=True, rng=None, device="auto"):
    """torchvision's ``googlenet``: GoogLeNet [4]_ with a BatchNorm after every convolution [9]_, on 224x224 inputs.

    Table 1's Inception rows (:data:`GOOGLENET_INCEPTION`) with torchvision's
    differences: every convolution is conv (no bias) + BatchNorm (eps 0.001)
    + ReLU, the "5x5" branch convolves 3x3, no LRN, max pools 3x3/2 (the
    last 2x2/2) in ``ceil_mode``, global average pool, dropout 0.2. Modules
    carry torchvision's names (``conv1.conv``, ``inception3a.branch2.0.bn``,
    ...), so that its ImageNet weights load as they are. The auxiliary
    classifiers (used only in training) are left out.

    ``transform_input=True`` (torchvision's setting for its ImageNet
    weights) first maps ImageNet-normalised RGB to the (x - 0.5) / 0.5
    scaling those weights were trained on; it needs ``in_channels=3``.
    """
    if not isinstance(transform_input, bool):
        raise InputTypeError(
            f"transform_input must be True or False, got {describe(transform_input)}", argument="transform_input"
        )
    rng = check_rng(rng)
    basic = partial(_basic_conv, device=device, rng=rng)
    layers = [("transform_input", _TransformInput())] if transform_input else []
    layers += [
        ("conv1", basic(in_channels, 64, 7, 2)),
        ("maxpool1", _CeilMaxPool2d(3, 2, device=device)),
        ("conv2", basic(64, 64, 1, 1)),
        ("conv3", basic(64, 192, 3, 1)),
        ("maxpool2", _CeilMaxPool2d(3, 2, device=device)),
    ]
    c = 192
    for name, spec in GOOGLENET_INCEPTION:
        if spec == "M":
            size = 2 if name == "pool4" else 3
            layers.append((f"max{name}", _CeilMaxPool2d(size, 2, device=device)))
        else:
            spec = InceptionSpec(*spec)
            layers.append((name, _torchvision_inception(c, spec, device, rng)))
            c = spec.out_channels
    layers += [
        ("avgpool", GlobalAvgPool2d()),
        ("dropout", Dropout(0.2, rng=rng)),
        ("fc", Linear(c, classes(num_classes), rng=rng)),
    ]
    return Sequential(OrderedDict(layers))
