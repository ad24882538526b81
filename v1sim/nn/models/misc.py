"""AlphaGo's policy network and the lecture's 200x200 fully connected / locally connected / convolutional comparison.

References
----------
.. [6] D. Silver et al., "Mastering the game of Go with deep neural networks
   and tree search", Nature 529, 2016 (policy network, Methods).
.. [7] M. Ranzato, "Deep learning for vision" tutorial, CVPR 2014 (the 200x200
   fully connected / locally connected / convolutional comparison).
"""

from __future__ import annotations

from collections import OrderedDict
from functools import partial

import numpy as np

from ..._core.validate import check_choice, check_positive_int, check_rng
from ...errors import InputError
from .. import device as _device
from ..activation import ReLU
from ..container import Sequential
from ..layers import Conv2d, Linear, LocallyConnected2d
from ..module import Module
from ..parameter import Parameter
from ..pooling import Flatten

__all__ = ["PositionBias", "alphago_policy", "fc_vs_conv"]


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
            raise InputError(
                f"{self._name()} expects per-sample input of shape {self.shape}, got x with {shape}", argument="x"
            )
        return shape

    def extra_repr(self):
        return f"shape={self.shape}"


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
