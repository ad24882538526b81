"""Normalisation and dropout: the layers that look across channels or the batch, or behave differently in training.

:class:`LocalResponseNorm` (AlexNet's divisive normalisation across
channels), :class:`BatchNorm2d`/:class:`BatchNorm1d` (batch statistics while
training, running statistics in evaluation; the running statistics are
buffers saved by ``state_dict``) and :class:`Dropout` (inverted; the identity
in evaluation).

References
----------
.. [2] A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet classification with
   deep convolutional neural networks", NIPS 2012 (LRN, dropout).
.. [3] S. Ioffe, C. Szegedy, "Batch normalization: accelerating deep network
   training by reducing internal covariate shift", ICML 2015.
"""

from __future__ import annotations

import math

import numpy as np

from .._core.validate import check_allocation, check_in_range, check_positive_float, check_positive_int, check_rng
from . import functional as F
from .module import Module
from .parameter import Parameter

__all__ = ["LocalResponseNorm", "BatchNorm2d", "BatchNorm1d", "Dropout"]


class LocalResponseNorm(Module):
    """Local response normalisation across ``size`` neighbouring channels (AlexNet [2]_).

    ``b_c = a_c / (k + alpha/size * sum_{c'} a_{c'}^2)^beta``; the ``alpha/size``
    scaling is PyTorch's (see :func:`v1sim.nn.functional.local_response_norm_forward`).
    A divisive normalisation, as cortical gain control.

    Shape: (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(self, size=5, alpha=1e-4, beta=0.75, k=2.0):
        super().__init__()
        self.size = check_positive_int(size, "size")
        self.alpha = check_positive_float(alpha, "alpha")
        self.beta = check_positive_float(beta, "beta")
        self.k = check_positive_float(k, "k")

    def forward(self, x):
        out, cache = F.local_response_norm_forward(x, self.size, self.alpha, self.beta, self.k)
        self._store(cache)
        return out

    def backward(self, grad_out, *, input_grad=True):
        return F.local_response_norm_backward(grad_out, self._take_cache())

    def output_shape(self, input_shape):
        return self._check_ndim(input_shape, "CHW")

    def extra_repr(self):
        return f"size={self.size}, alpha={self.alpha:g}, beta={self.beta:g}, k={self.k:g}"


class _BatchNorm(Module):
    _axes = "CHW"

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.num_features = check_positive_int(num_features, "num_features")
        self.eps = check_positive_float(eps, "eps")
        self.momentum = check_in_range(momentum, "momentum", 0.0, 1.0)
        # weight, bias, their gradients and momenta, and the two running statistics
        check_allocation(
            self.num_features,
            np.float32,
            "num_features",
            copies=8,
            what=f"{type(self).__name__} with {self.num_features} features",
        )
        self.weight = Parameter(np.ones(self.num_features, np.float32))
        self.bias = Parameter(np.zeros(self.num_features, np.float32))
        self.register_buffer("running_mean", np.zeros(self.num_features, np.float32))
        self.register_buffer("running_var", np.ones(self.num_features, np.float32))

    def forward(self, x):
        return self._normalise(F.batch_norm_forward, x)

    def forward_relu(self, x):
        """``max(self.forward(x), 0)`` in one pass over the output, bit for bit the layer and a ReLU after it.

        :class:`~v1sim.nn.container.Sequential` calls it for a batch norm followed by a
        :class:`~v1sim.nn.activation.ReLU` (host arrays, neither layer watched by :mod:`v1sim.nn.capture`);
        :meth:`backward` then takes the gradient of the rectified output and applies the ReLU's mask itself
        (:func:`v1sim.nn.functional.batch_norm_relu_forward`).
        """
        return self._normalise(F.batch_norm_relu_forward, x)

    def _normalise(self, pair_forward, x):
        out, cache = pair_forward(
            x,
            self.weight.data,
            self.bias.data,
            self.running_mean,
            self.running_var,
            training=self.training,
            momentum=self.momentum,
            eps=self.eps,
        )
        self._store(cache)
        return out

    def backward(self, grad_out, *, input_grad=True):
        cache = self._take_cache()
        fused = isinstance(cache, F.BatchNormReluCache)  # after forward_relu: grad_out is the ReLU output's gradient
        dx, dgamma, dbeta = (F.batch_norm_relu_backward if fused else F.batch_norm_backward)(grad_out, cache)
        self.weight.accumulate_grad(dgamma)
        self.bias.accumulate_grad(dbeta)
        return dx

    def output_shape(self, input_shape):
        shape = self._check_ndim(input_shape, self._axes)
        self._check_channels(shape[0], self.num_features, shape, "channels" if len(shape) == 3 else "features")
        return shape

    def macs(self, input_shape):
        return math.prod(self.output_shape(input_shape))  # one multiply-add per value (scale and shift)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum:g}"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation per channel (Ioffe & Szegedy [3]_).

    Training mode normalises with the batch's statistics over (N, H, W) and
    updates ``running_mean``/``running_var`` (buffers, saved in the state
    dict) with ``momentum``; evaluation mode uses the running statistics.
    ``weight`` (gamma, init 1) and ``bias`` (beta, init 0) are learned.

    Shape: (N, C, H, W) -> (N, C, H, W).
    """


class BatchNorm1d(_BatchNorm):
    """Batch normalisation per feature of (N, F) (after Linear layers); as :class:`BatchNorm2d`."""

    _axes = "F"


class Dropout(Module):
    """Inverted dropout (Krizhevsky et al. [2]_): zero units with probability ``p`` while training.

    Survivors are scaled by ``1/(1-p)``, so evaluation mode is the identity.

    Parameters
    ----------
    p : float in [0, 1)
    rng : None, int or numpy.random.Generator
        Source of the masks.

    Shape: any, unchanged.
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        self.p = check_in_range(p, "p", 0.0, 1.0, inclusive=(True, False))
        self.rng = check_rng(rng)

    def forward(self, x):
        out, mask = F.dropout_forward(x, self.p, training=self.training, rng=self.rng)
        self._store((mask,))  # mask is None in evaluation mode
        return out

    def backward(self, grad_out, *, input_grad=True):
        (mask,) = self._take_cache()
        return F.dropout_backward(grad_out, mask)

    def output_shape(self, input_shape):
        return tuple(int(s) for s in input_shape)

    def extra_repr(self):
        return f"p={self.p:g}"
