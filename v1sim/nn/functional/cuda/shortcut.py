"""CUDA twin of the ResNet option-A shortcut's CPU body in :class:`v1sim.nn.blocks.ZeroPadShortcut`.

It has no functional pair on the CPU: the block computes the shortcut itself.
"""

from __future__ import annotations

from ....kernels import cuda as kc
from .common import dev

__all__ = ["zero_pad_shortcut", "zero_pad_shortcut_backward"]


def zero_pad_shortcut(x, out_channels, stride, before):
    """ResNet option-A shortcut on the device: subsample and zero-pad channels."""
    x = dev(x, "x", 4)
    n, _, h, w = x.shape
    out = kc.empty((n, out_channels, -(-h // stride[0]), -(-w // stride[1])), x.dtype)
    return kc.layout.zero_pad_shortcut(x, stride[0], stride[1], before, out)


def zero_pad_shortcut_backward(grad_out, x_shape, stride, before):
    g = dev(grad_out, "grad_out", 4)
    return kc.layout.zero_pad_shortcut_backward(g, stride[0], stride[1], before, kc.empty(x_shape, g.dtype))
