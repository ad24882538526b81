"""Weighted layers: Conv2d, LocallyConnected2d and Linear, with PyTorch's names and arguments.

Each layer wraps a forward/backward pair of :mod:`v1sim.nn.functional`,
keeps the cache between the two, and adds its parameter gradients into
``Parameter.grad``. Weighted layers start from He initialisation ("Xavier/2",
right for ReLU networks; pass ``init="xavier"`` for tanh/sigmoid networks such
as LeNet) with zero biases, drawn from ``rng``. :func:`shape_only` builds them
without their weights.

The parameter-free layers live in :mod:`v1sim.nn.activation` (ReLU, Tanh,
Sigmoid) and :mod:`v1sim.nn.pooling` (MaxPool2d, AvgPool2d, GlobalAvgPool2d,
Flatten), and are importable from here too; normalisation and dropout live in
:mod:`v1sim.nn.normalization`. Shapes in
the docstrings are per batch, NCHW; ``output_shape`` and ``macs``
take per-sample shapes ``(C, H, W)`` or ``(F,)``.

References
----------
.. [1] Y. LeCun et al., "Gradient-based learning applied to document
   recognition", Proc. IEEE, 1998 (convolution, subsampling, LeNet-5).
.. [2] A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet classification with
   deep convolutional neural networks", NIPS 2012 (ReLU, grouped convolutions).
.. [4] Y. Taigman et al., "DeepFace", CVPR 2014 (locally connected layers).
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager

import numpy as np

from .._core.validate import (
    check_allocation,
    check_choice,
    check_int_pair,
    check_positive_int,
    check_rng,
)
from ..backend import resolve_device
from ..errors import InputError
from . import functional as F
from .activation import ReLU, Sigmoid, Tanh  # v1sim.nn.layers.ReLU etc. keep working
from .functional.conv import conv2d_forward_planned
from .init import INITS, init_weight
from .module import Module
from .parameter import Parameter
from .pooling import AvgPool2d, Flatten, GlobalAvgPool2d, MaxPool2d

__all__ = [
    "shape_only",
    "Conv2d",
    "LocallyConnected2d",
    "Linear",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "MaxPool2d",
    "AvgPool2d",
    "GlobalAvgPool2d",
    "Flatten",
]


_build = threading.local()


@contextmanager
def shape_only():
    """Build models without their weights: for summaries of networks too big to allocate.

    Inside the block (in this thread), weighted layers get read-only
    zero-stride placeholder parameters of the right shapes (4 bytes each), so
    ``output_shape``, ``macs`` and parameter counts work and VGG-16 costs no
    550 MB. Such a model cannot be trained or run.

    >>> with shape_only():
    ...     fc = Linear(25088, 4096)
    >>> fc.weight.data.shape, fc.weight.data.strides
    ((4096, 25088), (0, 0))
    """
    before = getattr(_build, "shape_only", False)
    _build.shape_only = True
    try:
        yield
    finally:
        _build.shape_only = before


def _placeholder(shape) -> Parameter:
    p = Parameter(np.zeros(1, np.float32))
    p.data = np.broadcast_to(np.float32(0), tuple(int(s) for s in shape))  # read-only, 4 bytes
    return p


class _Weighted(Module):
    """Shared plumbing of layers with a weight and an optional bias."""

    def _init_params(self, shape, bias_shape, init, rng, blocks=None, names=()):
        """Draw the weight (and zero the bias); ``names`` are the arguments behind each axis of ``shape``."""
        if getattr(_build, "shape_only", False):
            check_choice(init, "init", tuple(INITS))
            self.weight = _placeholder(shape)
            self.bias = None if bias_shape is None else _placeholder(bias_shape)
            return
        rng = check_rng(rng)
        # a weight, its gradient and the optimiser's momentum: blame the argument behind the largest axis
        name = names[int(np.argmax(shape))] if names else "weight"
        check_allocation(
            shape, np.float32, name, copies=3, what=f"{type(self).__name__} with a weight of shape {tuple(shape)}"
        )
        w = np.empty(shape, dtype=np.float32)
        for block in [w] if blocks is None else w.reshape(blocks):  # one fan per filter bank
            init_weight(block, init, rng)
        self.weight = Parameter(w)
        self.bias = Parameter(np.zeros(bias_shape, np.float32)) if bias_shape is not None else None
        if getattr(self, "device", None) == "cuda":  # drawn on the host (same weights as on the CPU), then moved
            self.to("cuda")

    def _bias_data(self):
        return None if self.bias is None else self.bias.data

    def _store_grads(self, dw, db):
        self.weight.accumulate_grad(dw)
        if self.bias is not None:
            self.bias.accumulate_grad(db)


class Conv2d(_Weighted):
    """2-D convolution (cross-correlation, as PyTorch) with stride, zero padding and groups.

    Parameters
    ----------
    in_channels, out_channels : int
        C and K.
    kernel_size : int or (int, int)
        F (or (kh, kw)).
    stride, padding : int or (int, int)
        S and P.
    groups : int
        Split channels into independent towers (AlexNet's two GPUs [2]_);
        must divide ``in_channels`` and ``out_channels``.
    bias : bool
    init : {"he", "xavier"}
        Weight initialisation (:mod:`v1sim.nn.init`); biases start at 0.
    device : {"auto", "cpu", "parallel", "cuda"}
        "cuda" keeps the parameters in GPU memory and runs the forward and
        backward passes there (so does a device-array input).
    rng : None, int or numpy.random.Generator

    Shape
    -----
    - Input: (N, C, H, W)
    - Output: (N, K, H2, W2), ``H2 = (H - kh + 2P) // S + 1``, ``W2`` likewise.

    Attributes
    ----------
    weight : Parameter (K, C/groups, kh, kw)
    bias : Parameter (K,) or None

    Examples
    --------
    The lecture's CONV layer: 10 filters of 5x5x3 with stride 1 and padding 2
    keep a 32x32x3 input at 32x32 and have (5*5*3 + 1) * 10 = 760 parameters.

    >>> from v1sim import nn
    >>> conv = nn.Conv2d(3, 10, 5, padding=2, rng=0)
    >>> conv.output_shape((3, 32, 32)), conv.num_parameters()
    ((10, 32, 32), 760)
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        groups=1,
        bias=True,
        *,
        init="he",
        device="auto",
        rng=None,
    ):
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.kernel_size = check_int_pair(kernel_size, "kernel_size", minimum=1)
        self.stride = check_int_pair(stride, "stride", minimum=1)
        self.padding = check_int_pair(padding, "padding", minimum=0)
        self.groups = check_positive_int(groups, "groups")
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise InputError(
                f"groups must divide in_channels and out_channels, got groups={self.groups} "
                f"for in_channels={self.in_channels}, out_channels={self.out_channels}",
                argument="groups",
            )
        self.device = resolve_device(device)
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self._init_params(
            shape,
            (self.out_channels,) if bias else None,
            init,
            rng,
            names=("out_channels", "in_channels", "kernel_size", "kernel_size"),
        )

    def forward(self, x):
        w, b = self.weight.data, self._bias_data()
        key = (x.shape, x.dtype, w.shape, w.dtype, b is None, self.stride, self.padding, self.groups, self.device)
        planned = getattr(self, "_planned", None)  # (key, plan) of a batch conv2d_forward checked before
        if planned is not None and planned[0] == key and type(x) is np.ndarray and x.flags.c_contiguous:
            # the same convolution as last step: its checks and plan stand (about 50 us a call)
            out, cache = conv2d_forward_planned(x, w, b, planned[1], self.device)
        else:
            out, cache = F.conv2d_forward(x, w, b, self.stride, self.padding, self.groups, device=self.device)
            same = x.dtype == w.dtype and (b is None or b.dtype == w.dtype)  # nothing cast
            if cache.blocks is not None and same and w.flags.c_contiguous:
                object.__setattr__(self, "_planned", (key, cache.blocks))
        self._store(cache)
        return out

    def backward(self, grad_out, *, input_grad=True):
        dx, dw, db = F.conv2d_backward(grad_out, self._take_cache(), input_grad=input_grad)
        self._store_grads(dw, db)
        return dx

    def output_shape(self, input_shape):
        c, h, w = self._check_ndim(input_shape, "CHW")
        self._check_channels(c, self.in_channels, (c, h, w))
        (kh, kw), (sy, sx), (py, px) = self.kernel_size, self.stride, self.padding
        return self.out_channels, self._out_len(h, kh, sy, py, "height"), self._out_len(w, kw, sx, px, "width")

    def macs(self, input_shape):
        k, ho, wo = self.output_shape(input_shape)
        return k * ho * wo * (self.in_channels // self.groups) * math.prod(self.kernel_size)

    def _size_argument(self, input_shape):
        h, w = input_shape[-2:]
        (py, px) = self.padding
        return "padding" if (h + 2 * py) * (w + 2 * px) > 2 * h * w else "x"

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        s += f", padding={self.padding}" if any(self.padding) else ""
        s += f", groups={self.groups}" if self.groups > 1 else ""
        return s + ("" if self.bias is not None else ", bias=False")


class LocallyConnected2d(_Weighted):
    """A convolution without weight sharing: every output position has its own filters.

    ``out[n, k, i, j] = bias[k, i, j] + sum_{c,u,v} weight[i, j, k, c, u, v] x[n, c, i*S+u, j*S+v]``
    (cross-correlation after zero padding). DeepFace's L4-L6 layers [4]_;
    the unshared S-cells of a retinotopic model.

    Parameters
    ----------
    in_channels, out_channels : int
    input_size : int or (int, int)
        (H, W) of the input, fixed because the weights are per position.
    kernel_size, stride, padding : int or (int, int)
    bias : bool
        Unshared biases, one per output unit (K, H2, W2).
    init : {"he", "xavier"}
    device : {"auto", "cpu", "parallel", "cuda"}
        As for :class:`Conv2d`.
    rng : None, int or numpy.random.Generator

    Shape
    -----
    - Input: (N, C, H, W) with (H, W) = ``input_size``
    - Output: (N, K, H2, W2) as for :class:`Conv2d`

    Attributes
    ----------
    weight : Parameter (H2, W2, K, C, kh, kw)
    bias : Parameter (K, H2, W2) or None
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        input_size,
        kernel_size,
        stride=1,
        padding=0,
        bias=True,
        *,
        init="he",
        device="auto",
        rng=None,
    ):
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.input_size = check_int_pair(input_size, "input_size", minimum=1)
        self.kernel_size = check_int_pair(kernel_size, "kernel_size", minimum=1)
        self.stride = check_int_pair(stride, "stride", minimum=1)
        self.padding = check_int_pair(padding, "padding", minimum=0)
        self.device = resolve_device(device)
        (h, w), (kh, kw), (sy, sx), (py, px) = self.input_size, self.kernel_size, self.stride, self.padding
        ho, wo = self._out_len(h, kh, sy, py, "height"), self._out_len(w, kw, sx, px, "width")
        shape = (ho, wo, self.out_channels, self.in_channels, kh, kw)
        blocks = (ho * wo, self.out_channels, self.in_channels, kh, kw)
        self._init_params(
            shape,
            (self.out_channels, ho, wo) if bias else None,
            init,
            rng,
            blocks,
            names=("input_size", "input_size", "out_channels", "in_channels", "kernel_size", "kernel_size"),
        )

    def forward(self, x):
        out, cache = F.locally_connected2d_forward(
            x, self.weight.data, self._bias_data(), self.stride, self.padding, device=self.device
        )
        self._store(cache)
        return out

    def backward(self, grad_out, *, input_grad=True):
        dx, dw, db = F.locally_connected2d_backward(grad_out, self._take_cache(), input_grad=input_grad)
        self._store_grads(dw, db)
        return dx

    def output_shape(self, input_shape):
        c, h, w = self._check_ndim(input_shape, "CHW")
        self._check_channels(c, self.in_channels, (c, h, w))
        if (h, w) != self.input_size:
            raise InputError(
                f"{self._name()} expects input maps of size {self.input_size}, got {(h, w)} in x", argument="x"
            )
        return (self.out_channels,) + self.weight.shape[:2]

    def macs(self, input_shape):
        k, ho, wo = self.output_shape(input_shape)
        return k * ho * wo * self.in_channels * math.prod(self.kernel_size)

    def extra_repr(self):
        return (
            f"{self.in_channels}, {self.out_channels}, input_size={self.input_size}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        )


class Linear(_Weighted):
    """Fully connected layer ``y = x Wᵀ + b``.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
    init : {"he", "xavier"}
    device : {"auto", "cpu", "parallel", "cuda"}
        "cuda" keeps the parameters in GPU memory and computes there (so
        does a device-array input).
    rng : None, int or numpy.random.Generator

    Shape
    -----
    - Input: (N, in_features) (put a :class:`Flatten` after conv layers)
    - Output: (N, out_features)
    """

    def __init__(self, in_features, out_features, bias=True, *, init="he", device="auto", rng=None):
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features")
        self.out_features = check_positive_int(out_features, "out_features")
        self.device = resolve_device(device)
        self._init_params(
            (self.out_features, self.in_features),
            (self.out_features,) if bias else None,
            init,
            rng,
            names=("out_features", "in_features"),
        )

    def forward(self, x):
        out, cache = F.linear_forward(x, self.weight.data, self._bias_data())
        self._store(cache)
        return out

    def backward(self, grad_out, *, input_grad=True):
        dx, dw, db = F.linear_backward(grad_out, self._take_cache(), input_grad=input_grad)
        self._store_grads(dw, db)
        return dx

    def output_shape(self, input_shape):
        shape = tuple(int(s) for s in input_shape)
        if len(shape) != 1:
            raise InputError(
                f"{self._name()} expects per-sample input of shape ({self.in_features},) (batches (N, F)), "
                f"got x with per-sample shape {shape}; put a Flatten before it",
                argument="x",
            )
        self._check_channels(shape[0], self.in_features, shape, "input features")
        return (self.out_features,)

    def macs(self, input_shape):
        self.output_shape(input_shape)
        return self.in_features * self.out_features

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}" + (
            "" if self.bias is not None else ", bias=False"
        )
