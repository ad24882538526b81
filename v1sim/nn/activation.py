"""Activation layers: ReLU, Tanh and Sigmoid, each an elementwise forward/backward pair of :mod:`v1sim.nn.functional`.

References
----------
.. [1] Y. LeCun et al., "Gradient-based learning applied to document
   recognition", Proc. IEEE, 1998 (tanh squashing).
.. [2] A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet classification with
   deep convolutional neural networks", NIPS 2012 (ReLU).
"""

from __future__ import annotations

from . import functional as F
from .module import Module

__all__ = ["ReLU", "Tanh", "Sigmoid"]


class _Elementwise(Module):
    """A parameter-free layer applying a functional pair elementwise; any input shape."""

    _forward = _backward = None  # the pair of v1sim.nn.functional (staticmethods)

    def forward(self, x):
        out, cache = self._forward(x)
        self._store(cache)
        return out

    def backward(self, grad_out, *, input_grad=True):
        return self._backward(grad_out, self._take_cache())

    def output_shape(self, input_shape):
        return tuple(int(s) for s in input_shape)


class ReLU(_Elementwise):
    """Rectified linear unit ``max(x, 0)`` (Krizhevsky et al. [2]_). Shape: any, unchanged."""

    _forward, _backward = staticmethod(F.relu_forward), staticmethod(F.relu_backward)


class Tanh(_Elementwise):
    """Hyperbolic tangent (LeNet's squashing function [1]_). Shape: any, unchanged."""

    _forward, _backward = staticmethod(F.tanh_forward), staticmethod(F.tanh_backward)


class Sigmoid(_Elementwise):
    """Logistic sigmoid ``1 / (1 + exp(-x))``. Shape: any, unchanged."""

    _forward, _backward = staticmethod(F.sigmoid_forward), staticmethod(F.sigmoid_backward)
