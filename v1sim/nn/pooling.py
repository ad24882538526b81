"""Pooling layers, and Flatten: the parameter-free layers that shrink feature maps.

MaxPool2d is the C-cell of the Neocognitron and HMAX's C1; AvgPool2d is
LeNet's subsampling [1]_; GlobalAvgPool2d ends Network-in-Network, GoogLeNet
and ResNet; Flatten turns maps into the vector a Linear classifier takes.
Shapes are per batch, NCHW; ``output_shape`` takes per-sample ``(C, H, W)``.

References
----------
.. [1] Y. LeCun et al., "Gradient-based learning applied to document
   recognition", Proc. IEEE, 1998 (convolution, subsampling, LeNet-5).
"""

from __future__ import annotations

import math

from .._core.validate import check_int_pair
from ..backend import resolve_device
from ..errors import InputError
from . import device as _device
from . import functional as F
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "GlobalAvgPool2d", "Flatten"]


class _Pool2d(Module):
    _kind = ""

    def __init__(self, kernel_size, stride=None, padding=0, *, device="auto"):
        super().__init__()
        self.kernel_size = check_int_pair(kernel_size, "kernel_size", minimum=1)
        self.stride = self.kernel_size if stride is None else check_int_pair(stride, "stride", minimum=1)
        self.padding = check_int_pair(padding, "padding", minimum=0)
        if any(p > f // 2 for p, f in zip(self.padding, self.kernel_size)):
            raise InputError(
                f"padding must be at most half of kernel_size, got padding={self.padding} for "
                f"kernel_size={self.kernel_size}",
                argument="padding",
            )
        self.device = resolve_device(device)

    def forward(self, x):
        fwd = F.max_pool2d_forward if self._kind == "max" else F.avg_pool2d_forward
        out, cache = fwd(x, self.kernel_size, self.stride, self.padding, device=self.device)
        self._store(cache)
        return out

    def backward(self, grad_out, *, input_grad=True):
        bwd = F.max_pool2d_backward if self._kind == "max" else F.avg_pool2d_backward
        return bwd(grad_out, self._take_cache())

    def output_shape(self, input_shape):
        c, h, w = self._check_ndim(input_shape, "CHW")
        (kh, kw), (sy, sx), (py, px) = self.kernel_size, self.stride, self.padding
        return c, self._out_len(h, kh, sy, py, "height"), self._out_len(w, kw, sx, px, "width")

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max pooling over F x F windows at stride S (default F); padding acts as -inf.

    The C-cells of the Neocognitron and HMAX's C1. Gradients go to each
    window's (first) maximum.

    Shape
    -----
    - Input: (N, C, H, W)
    - Output: (N, C, H2, W2), ``H2 = (H + 2P - F) // S + 1``
    """

    _kind = "max"


class AvgPool2d(_Pool2d):
    """Average pooling (LeNet's subsampling [1]_, without its trainable coefficient).

    Zero padding counts in the divisor F*F. Shape as :class:`MaxPool2d`.
    """

    _kind = "avg"


class GlobalAvgPool2d(Module):
    """Average each whole feature map: (N, C, H, W) -> (N, C), ready for a Linear classifier.

    As Network-in-Network, GoogLeNet and ResNet end (no Flatten needed).
    """

    def forward(self, x):
        out, cache = F.global_avg_pool2d_forward(x)
        self._store(cache)
        return out

    def backward(self, grad_out, *, input_grad=True):
        return F.global_avg_pool2d_backward(grad_out, self._take_cache())

    def output_shape(self, input_shape):
        return (self._check_ndim(input_shape, "CHW")[0],)


class Flatten(Module):
    """Flatten every sample to a vector: (N, *) -> (N, prod(*))."""

    def forward(self, x):
        self._store(tuple(x.shape))
        # the explicit width, not -1: numpy cannot infer -1 for an empty batch (N = 0)
        return _device.reshape(x, (x.shape[0], math.prod(x.shape[1:])))

    def backward(self, grad_out, *, input_grad=True):
        return _device.reshape(grad_out, self._take_cache())

    def output_shape(self, input_shape):
        return (math.prod(int(s) for s in input_shape),)
