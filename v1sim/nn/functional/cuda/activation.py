"""CUDA twins of :mod:`v1sim.nn.functional.activation`: one element-wise kernel per pass.

As on the CPU, ReLU's and the sigmoid's cache is their output array (here a
device array); tanh's is a :class:`~v1sim.nn.functional.activation.TanhCache`.
"""

from __future__ import annotations

from ...._core.validate import describe
from ....errors import InputTypeError
from ....kernels import cuda as kc
from ..activation import TanhCache
from ..common import check_cache
from ..dispatch import is_device
from .common import checked_grad, dev

__all__ = ["relu_backward", "relu_forward", "sigmoid_backward", "sigmoid_forward", "tanh_backward", "tanh_forward"]


def _output_cache(cache, forward):
    if not is_device(cache):
        raise InputTypeError(
            f"cache must be the cache returned by {forward} (its output array), got {describe(cache)}", argument="cache"
        )
    return cache


def _forward(kernel, x):
    x = dev(x, "x", range(1, 7))
    return kernel(x, kc.empty(x.shape, x.dtype))


def _backward(kernel, grad_out, y):
    g = checked_grad(grad_out, y.shape, y.dtype)
    return kernel(g, y, kc.empty(y.shape, y.dtype))


def relu_forward(x):
    """CUDA twin of :func:`v1sim.nn.functional.activation.relu_forward`."""
    out = _forward(kc.elementwise.relu, x)
    return out, out


def relu_backward(grad_out, cache):
    return _backward(kc.elementwise.relu_backward, grad_out, _output_cache(cache, "relu_forward"))


def tanh_forward(x, *, device="cuda"):
    """CUDA twin of :func:`v1sim.nn.functional.activation.tanh_forward`."""
    out = _forward(kc.elementwise.tanh, x)
    return out, TanhCache(out, "cuda")


def tanh_backward(grad_out, cache):
    return _backward(kc.elementwise.tanh_backward, grad_out, check_cache(cache, TanhCache, "tanh_forward").out)


def sigmoid_forward(x):
    """CUDA twin of :func:`v1sim.nn.functional.activation.sigmoid_forward`."""
    out = _forward(kc.elementwise.sigmoid, x)
    return out, out


def sigmoid_backward(grad_out, cache):
    return _backward(kc.elementwise.sigmoid_backward, grad_out, _output_cache(cache, "sigmoid_forward"))
