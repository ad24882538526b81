"""Composite blocks: residual blocks (ResNet) and the Inception module (GoogLeNet).

Two generic containers carry the plumbing, so that each block only lists its
layers:

:class:`Residual`
    ``relu(body(x) + shortcut(x))``: the gradient splits into both paths
    and the input gradients add.
:class:`Concat`
    Run branches side by side on the same input and stack their outputs
    along channels; the gradient splits by channels and the input gradients
    add.

References
----------
.. [1] K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image
   recognition", CVPR 2016 (shortcut options A, B, C; bottleneck blocks).
.. [2] C. Szegedy et al., "Going deeper with convolutions", CVPR 2015
   (arXiv 2014) (the Inception module).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import kernels
from .._core.validate import check_choice, check_int_pair, check_positive_int, check_rng
from ..backend import resolve_device
from ..errors import InputError, InputTypeError
from . import device as _device
from . import functional as F
from .activation import ReLU
from .capture import is_captured
from .container import Identity, Sequential
from .functional.common import host_backend
from .layers import Conv2d
from .module import Module
from .normalization import BatchNorm2d
from .pooling import MaxPool2d

__all__ = ["Residual", "Concat", "ZeroPadShortcut", "BasicBlock", "Bottleneck", "Inception"]


class Residual(Module):
    """``out = relu(body(x) + shortcut(x))`` (He et al. [1]_).

    Parameters
    ----------
    body : Module
        The residual function F(x).
    shortcut : Module, optional
        Identity by default; a projection or :class:`ZeroPadShortcut` when
        the body changes the shape.

    Shape: whatever ``body`` maps to; ``shortcut`` must map to the same.
    """

    def __init__(self, body: Module, shortcut: Module | None = None):
        super().__init__()
        self.body = body
        self.shortcut = Identity() if shortcut is None else shortcut
        self.relu = ReLU()

    def forward(self, x):
        main, short = self.body(x), self.shortcut(x)
        # the ReLU layer runs itself while its output is being read (nn.capture)
        fused = None if is_captured(self.relu) else _add_relu(main, short)
        if fused is None:  # device arrays, mixed dtypes or strided views: add, then the ReLU layer
            self._store(None)
            return self.relu(_device.add(main, short))
        self._store(fused)  # relu_backward's cache is the rectified output
        return fused

    def backward(self, grad_out, *, input_grad=True):
        fused = self._take_cache() if self._cache is not None else None
        g = self.relu.backward(grad_out) if fused is None else F.relu_backward(grad_out, fused)
        return _add_gradients(self.body.backward(g), self.shortcut.backward(g))

    def output_shape(self, input_shape):
        main = self.body.output_shape(input_shape)
        short = self.shortcut.output_shape(input_shape)
        if main != short:
            raise InputError(
                f"{type(self).__name__}: the residual body gives per-sample shape {main} but the shortcut gives "
                f"{short}",
                argument="shortcut",
            )
        return main

    def macs(self, input_shape):
        return self.body.macs(input_shape) + self.shortcut.macs(input_shape)


def _host_pair(a, b) -> bool:
    """Whether ``a`` and ``b`` are host float arrays of one shape, dtype and C layout: what the one-pass CPU
    kernels of a residual block take."""
    return (
        isinstance(a, np.ndarray)
        and isinstance(b, np.ndarray)
        and a.shape == b.shape
        and a.dtype == b.dtype
        and a.dtype in (np.float32, np.float64)
        and a.flags.c_contiguous
        and b.flags.c_contiguous
    )


def _add_gradients(a, b):
    """``a + b``, written into ``a`` when it is a host array of its own (a gradient the body's backward pass
    just allocated, not a view or ``b`` itself) paired with ``b`` (:func:`_host_pair`); else a new array."""
    if not (_host_pair(a, b) and a is not b and a.base is None and a.flags.writeable):
        return _device.add(a, b)
    flat = a.reshape(-1)
    kernels.get("add", host_backend(resolve_device("auto")), a.size)(flat, b.reshape(-1), flat)
    return a


def _add_relu(a, b):
    """``max(a + b, 0)`` in one pass over host arrays of one shape, dtype and C layout (bit for bit the add and the
    ReLU it replaces: one array and one pass fewer), else None."""
    if not _host_pair(a, b):
        return None
    out = np.empty_like(a)
    kernels.get("add_relu", host_backend(resolve_device("auto")), out.size)(
        a.reshape(-1), b.reshape(-1), out.reshape(-1)
    )
    return out


class Concat(Module):
    """Run ``branches`` on the same input and concatenate their outputs along channels.

    Shape: (N, C, H, W) -> (N, sum of branch channels, H2, W2); every branch
    must give the same H2, W2.
    """

    def __init__(self, branches):
        super().__init__()
        if isinstance(branches, dict):
            items = branches.items()
        else:
            items = ((f"branch{i + 1}", b) for i, b in enumerate(branches))
        for name, b in items:
            if not isinstance(b, Module):
                raise InputTypeError(
                    f"{type(self).__name__} branches must be Modules, got {type(b).__name__} for {name!r}",
                    argument="branches",
                )
            setattr(self, name, b)

    def forward(self, x):
        outs = [b(x) for b in self.children()]
        self._store([o.shape[1] for o in outs])
        return _device.concat_channels(outs)

    def backward(self, grad_out, *, input_grad=True):
        parts = _device.split_channels(grad_out, self._take_cache())
        grads = [b.backward(g) for b, g in zip(self.children(), parts)]
        total = grads[0]
        for g in grads[1:]:
            total = _device.add(total, g)
        return total

    def output_shape(self, input_shape):
        shapes = [b.output_shape(input_shape) for b in self.children()]
        if len({s[1:] for s in shapes}) != 1:
            raise InputError(
                f"{type(self).__name__}: branches give maps of different sizes {[s[1:] for s in shapes]}",
                argument="branches",
            )
        return (sum(s[0] for s in shapes),) + shapes[0][1:]

    def macs(self, input_shape):
        return sum(b.macs(input_shape) for b in self.children())


class ZeroPadShortcut(Module):
    """Parameter-free shortcut, option A of He et al. [1]_ (CIFAR ResNets).

    Subsample by ``stride`` (take every S-th pixel) and pad the new channels
    with zeros, split between both ends.

    Shape: (N, C_in, H, W) -> (N, C_out, ceil(H/S), ceil(W/S)).
    """

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        if self.out_channels < self.in_channels:
            raise InputError(
                f"out_channels ({self.out_channels}) must be at least in_channels ({self.in_channels})",
                argument="out_channels",
            )
        self.stride = check_int_pair(stride, "stride", minimum=1)
        self.before = (self.out_channels - self.in_channels) // 2

    def forward(self, x):
        self._store(tuple(x.shape))
        if _device.is_device(x):
            return _device.fn().zero_pad_shortcut(x, self.out_channels, self.stride, self.before)
        (sy, sx), n = self.stride, x.shape[0]
        sub = x[:, :, ::sy, ::sx]
        out = np.zeros((n, self.out_channels) + sub.shape[2:], dtype=x.dtype)
        out[:, self.before : self.before + self.in_channels] = sub
        return out

    def backward(self, grad_out, *, input_grad=True):
        shape = self._take_cache()
        if _device.is_device(grad_out):
            return _device.fn().zero_pad_shortcut_backward(grad_out, shape, self.stride, self.before)
        dx = np.zeros(shape, dtype=grad_out.dtype)
        dx[:, :, :: self.stride[0], :: self.stride[1]] = grad_out[:, self.before : self.before + self.in_channels]
        return dx

    def output_shape(self, input_shape):
        c, h, w = self._check_ndim(input_shape, "CHW")
        if c != self.in_channels:
            raise InputError(f"{self._name()} expects {self.in_channels} input channels, got {c} in x", argument="x")
        return self.out_channels, -(-h // self.stride[0]), -(-w // self.stride[1])

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


def _place(block, device):
    """Move a block built for ``device="cuda"`` to the GPU whole (its BatchNorms have no device argument)."""
    if resolve_device(device) == "cuda":
        block.to("cuda")


def _shortcut(kind, in_channels, out_channels, stride, device, rng):
    """Identity when the shape is kept (options A, B), else zero-pad (A) or 1x1 projection + BN (B, C)."""
    if kind == "C" or (kind == "B" and (stride != 1 or in_channels != out_channels)):
        conv = Conv2d(in_channels, out_channels, 1, stride, bias=False, device=device, rng=rng)
        return Sequential(OrderedDict(conv=conv, bn=BatchNorm2d(out_channels)))
    if stride != 1 or in_channels != out_channels:
        return ZeroPadShortcut(in_channels, out_channels, stride)
    return Identity()


class BasicBlock(Residual):
    """Two 3x3 conv-BN layers with a shortcut: ResNet-18/34 and the CIFAR ResNets [1]_.

    ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``, the stride on conv1.

    Parameters
    ----------
    in_channels, out_channels : int
    stride : int
        Spatial downsampling of the block (1 or 2).
    shortcut : {"A", "B", "C"}
        When the shape changes: zero-padding (A, parameter-free) or a 1x1
        convolution + BN projection (B); C projects always.
    device : {"auto", "cpu", "parallel", "cuda"}
    rng : None, int or numpy.random.Generator

    Shape: (N, C_in, H, W) -> (N, C_out, ceil(H/S), ceil(W/S)).
    """

    expansion = 1

    def __init__(self, in_channels, out_channels, stride=1, shortcut="B", *, device="auto", rng=None):
        check_choice(shortcut, "shortcut", ("A", "B", "C"))
        stride = check_positive_int(stride, "stride")
        rng = check_rng(rng)
        body = Sequential(
            OrderedDict(
                conv1=Conv2d(in_channels, out_channels, 3, stride, 1, bias=False, device=device, rng=rng),
                bn1=BatchNorm2d(out_channels),
                relu1=ReLU(),
                conv2=Conv2d(out_channels, out_channels, 3, 1, 1, bias=False, device=device, rng=rng),
                bn2=BatchNorm2d(out_channels),
            )
        )
        super().__init__(body, _shortcut(shortcut, in_channels, out_channels, stride, device, rng))
        _place(self, device)


class Bottleneck(Residual):
    """1x1 reduce, 3x3, 1x1 expand (x4) with a shortcut: ResNet-50/101/152 [1]_.

    ``relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x))``
    with ``planes`` channels inside and ``planes * 4`` out; the stride sits on
    the 3x3 convolution (as torchvision's "ResNet v1.5").

    Parameters
    ----------
    in_channels : int
    planes : int
        Width of the bottleneck; the block outputs ``planes * expansion``.
    stride : int
    shortcut : {"A", "B", "C"}
        As in :class:`BasicBlock`.
    device, rng
        As in :class:`BasicBlock`.

    Shape: (N, C_in, H, W) -> (N, 4 * planes, ceil(H/S), ceil(W/S)).
    """

    expansion = 4

    def __init__(self, in_channels, planes, stride=1, shortcut="B", *, device="auto", rng=None):
        check_choice(shortcut, "shortcut", ("A", "B", "C"))
        stride = check_positive_int(stride, "stride")
        planes = check_positive_int(planes, "planes")
        rng = check_rng(rng)
        out_channels = planes * self.expansion
        body = Sequential(
            OrderedDict(
                conv1=Conv2d(in_channels, planes, 1, bias=False, device=device, rng=rng),
                bn1=BatchNorm2d(planes),
                relu1=ReLU(),
                conv2=Conv2d(planes, planes, 3, stride, 1, bias=False, device=device, rng=rng),
                bn2=BatchNorm2d(planes),
                relu2=ReLU(),
                conv3=Conv2d(planes, out_channels, 1, bias=False, device=device, rng=rng),
                bn3=BatchNorm2d(out_channels),
            )
        )
        super().__init__(body, _shortcut(shortcut, in_channels, out_channels, stride, device, rng))
        _place(self, device)


class Inception(Concat):
    """The Inception module of GoogLeNet [2]_: four branches concatenated along channels.

    1x1 conv | 1x1 reduce -> 3x3 conv | 1x1 reduce -> 5x5 conv | 3x3 max pool
    (stride 1) -> 1x1 projection; every convolution is followed by a ReLU and
    padded to keep the map size (5x5 as in the paper, not torchvision's 3x3).

    Parameters
    ----------
    in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj : int
        Channel counts, named as in the paper's Table 1.
    device : {"auto", "cpu", "parallel", "cuda"}
    rng : None, int or numpy.random.Generator

    Shape: (N, in_channels, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W).
    """

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, *, device="auto", rng=None):
        rng = check_rng(rng)

        def conv(c_in, c_out, size):
            return [Conv2d(c_in, c_out, size, padding=size // 2, device=device, rng=rng), ReLU()]

        super().__init__(
            [
                Sequential(*conv(in_channels, ch1x1, 1)),
                Sequential(*conv(in_channels, ch3x3red, 1), *conv(ch3x3red, ch3x3, 3)),
                Sequential(*conv(in_channels, ch5x5red, 1), *conv(ch5x5red, ch5x5, 5)),
                Sequential(MaxPool2d(3, 1, 1, device=device), *conv(in_channels, pool_proj, 1)),
            ]
        )
        _place(self, device)
