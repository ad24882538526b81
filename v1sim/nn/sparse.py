"""Layers of a sparse autoencoder: unit-norm convolution, its tied transpose, and an L1 activity penalty.

Together they make the sparse-coding network of :func:`v1sim.nn.models.sparse_conv`::

    a = ReLU(conv(x, w / |w|) + b)          UnitNormConv2d + ReLU     (the code: one ISTA step)
    penalty = lam * mean_n sum |a|           L1Penalty                 (sparseness, Olshausen & Field)
    x_hat = conv_transpose(a, w / |w|)       TiedConvTranspose2d       (the dictionary: the same filters)

With unit-norm filters the encoder ``ReLU(D^T x + b)`` is the first step of
the iterative shrinkage-thresholding algorithm (ISTA) for non-negative sparse
coding with dictionary ``D`` started from zero (threshold ``-b``), the idea
behind Gregor & LeCun's learned ISTA; the unit norm removes the degeneracy
of sparse coding in which codes shrink while the dictionary grows
(Olshausen & Field normalise their basis for the same reason). The norm is a
reparametrisation (weight normalisation with gain 1, Salimans & Kingma
2016): the parameter ``weight`` is free and every use divides it by its
norm, so any optimiser keeps the constraint without a projection step.

Arrays are host NCHW float32 or float64; these layers run on the CPU
(``device`` "cpu" or "parallel"; "auto" picks the CPU).

References
----------
.. [1] B. A. Olshausen, D. J. Field, "Emergence of simple-cell receptive
   field properties by learning a sparse code for natural images", Nature
   381 (1996) 607-609.
.. [2] K. Gregor, Y. LeCun, "Learning fast approximations of sparse coding",
   ICML 2010 (LISTA: the encoder as unrolled ISTA steps).
.. [3] T. Salimans, D. P. Kingma, "Weight normalization", NIPS 2016.
.. [4] K. Kavukcuoglu, P. Sermanet, Y.-L. Boureau, K. Gregor, M. Mathieu,
   Y. LeCun, "Learning convolutional feature hierarchies for visual
   recognition", NIPS 2010 (convolutional sparse coding).
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from .._core.validate import check_in_range
from ..backend import matmul, resolve_device
from ..errors import InputError
from . import functional as F
from .layers import Conv2d
from .module import Module

__all__ = ["L1Penalty", "TiedConvTranspose2d", "UnitNormConv2d"]

_EPS = 1e-12  # floor of a filter norm (a zero filter stays zero instead of dividing by 0)


def _host_device(device) -> str:
    resolved = resolve_device(device)
    if resolved == "cuda":
        raise InputError("the sparse-autoencoder layers run on the CPU only; use device='cpu' or 'parallel'", "device")
    return resolved


class UnitNormConv2d(Conv2d):
    """Conv2d whose filters are used at unit L2 norm: ``conv(x, w_k / |w_k|) + b_k``.

    Same arguments, shapes and output size as :class:`~v1sim.nn.Conv2d`
    (cross-correlation; ``H2 = (H - kh + 2P) // S + 1``), on the CPU. The
    stored ``weight`` is free; :meth:`unit_weight` is what the layer
    computes with, and the gradient reaching ``weight`` is that of
    ``unit_weight`` projected onto the sphere: ``(g - u (u . g)) / |w|``
    per filter (weight normalisation with gain 1 [3]_).
    """

    def __init__(
        self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, *, device="auto", rng=None
    ):
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, 1, bias, device=_host_device(device), rng=rng
        )
        if self.weight.data.flags.writeable:  # start on the sphere (not a shape-only placeholder)
            self.weight.data /= self._norms()[:, None, None, None]

    def _norms(self) -> np.ndarray:
        w = self.weight.data
        return np.maximum(np.sqrt(np.sum(w.astype(np.float64) ** 2, axis=(1, 2, 3))), _EPS).astype(w.dtype)

    def unit_weight(self) -> np.ndarray:
        """The filters the layer computes with, ``weight / |weight|`` per output channel, (K, C, kh, kw)."""
        return self.weight.data / self._norms()[:, None, None, None]

    def accumulate_unit_grad(self, grad_unit) -> None:
        """Add the gradient with respect to :meth:`unit_weight` (K, C, kh, kw) into ``weight.grad``."""
        u, norms = self.unit_weight(), self._norms()[:, None, None, None]
        radial = np.sum(u * grad_unit, axis=(1, 2, 3), keepdims=True)
        self.weight.accumulate_grad((grad_unit - u * radial) / norms)

    def forward(self, x):
        out, cache = F.conv2d_forward(
            x, self.unit_weight(), self._bias_data(), self.stride, self.padding, device=self.device
        )
        self._store(cache)
        return out

    def backward(self, grad_out, *, input_grad=True):
        dx, dw, db = F.conv2d_backward(grad_out, self._take_cache(), input_grad=input_grad)
        self.accumulate_unit_grad(dw)
        if self.bias is not None:
            self.bias.accumulate_grad(db)
        return dx


class TiedConvTranspose2d(Module):
    """The transpose of a :class:`UnitNormConv2d` with the same (tied) unit-norm filters: its decoder.

    ``out[n, c] = sum_k full_convolution(a[n, k], u[k, c])`` with ``u`` the
    encoder's :meth:`~UnitNormConv2d.unit_weight`: the adjoint of the
    encoder's correlation, i.e. the engine's convolution input gradient
    (``W^T`` times the codes, then col2im), so each code unit paints its own
    filter into the reconstruction. Stride 1 and no padding: ``H = H2 + kh - 1``.

    It owns no parameters: its weight gradient goes into the encoder's
    ``weight`` (the encoder is referenced, not registered as a child, so the
    state dict holds the filters once).

    Parameters
    ----------
    encoder : UnitNormConv2d
        With stride 1 and no padding.

    Shape
    -----
    - Input: (N, K, H2, W2) codes
    - Output: (N, C, H2 + kh - 1, W2 + kw - 1)
    """

    def __init__(self, encoder):
        super().__init__()
        if not isinstance(encoder, UnitNormConv2d):
            raise InputError(f"encoder must be a UnitNormConv2d, got {type(encoder).__name__}", argument="encoder")
        if encoder.stride != (1, 1) or encoder.padding != (0, 0):
            raise InputError("encoder must have stride 1 and no padding", argument="encoder")
        object.__setattr__(self, "encoder", encoder)  # not a child: the filters belong to the encoder

    def forward(self, a):
        u = self.encoder.unit_weight()
        k, c, kh, kw = u.shape
        a = np.asarray(a)
        dtype = np.result_type(a.dtype, u.dtype)
        n, _, ho, wo = a.shape
        codes = np.ascontiguousarray(a.astype(dtype, copy=False).transpose(1, 0, 2, 3)).reshape(k, n * ho * wo)
        cols = np.empty((c * kh * kw, n * ho * wo), dtype=dtype)
        matmul(np.ascontiguousarray(u.reshape(k, -1).T, dtype=dtype), codes, out=cols)
        out = np.zeros((n, c, ho + kh - 1, wo + kw - 1), dtype=dtype)
        backend = self.encoder.device if self.encoder.device != "cuda" else "parallel"
        kernels.get("col2im", backend)(cols.reshape(c * kh * kw, n, ho * wo), kh, kw, 1, 1, out)
        self._store((a.astype(dtype, copy=False), u.astype(dtype, copy=False)))
        return out

    def backward(self, grad_out, *, input_grad=True):
        a, u = self._take_cache()
        grad_codes, cache = F.conv2d_forward(grad_out, u, None, device=self.encoder.device)
        # sum_n,l codes[k, n, l] * patches of grad_out: the weight gradient of that correlation, with the codes as its
        # output gradient
        _, grad_unit, _ = F.conv2d_backward(a, cache, input_grad=False)
        self.encoder.accumulate_unit_grad(grad_unit)
        return grad_codes

    def output_shape(self, input_shape):
        k, h, w = self._check_ndim(input_shape, "CHW")
        self._check_channels(k, self.encoder.out_channels, (k, h, w), "code channels")
        kh, kw = self.encoder.kernel_size
        return self.encoder.in_channels, h + kh - 1, w + kw - 1

    def macs(self, input_shape):
        k, h, w = self._check_ndim(input_shape, "CHW")
        kh, kw = self.encoder.kernel_size
        return k * h * w * self.encoder.in_channels * kh * kw

    def num_parameters(self, trainable_only: bool = False) -> int:
        return 0

    def extra_repr(self):
        return f"tied to {self.encoder.out_channels} filters of {self.encoder.kernel_size}"


class L1Penalty(Module):
    """An L1 penalty on activities, ``strength * mean_n sum |a_n|``: identity forward, the penalty's gradient backward.

    The layer passes its input through unchanged and records the penalty of
    the batch in :attr:`penalty`; its backward adds ``strength * sign(a) / N``
    to the incoming gradient, so the gradient a network receives is that of
    (its loss + penalty). :class:`v1sim.nn.ReconstructionLoss` adds the
    recorded penalties to the loss it reports. Olshausen & Field's sparseness
    cost with ``S(a) = |a|`` [1]_.

    Parameters
    ----------
    strength : float
        lambda, >= 0.

    Shape: any, unchanged.
    """

    def __init__(self, strength):
        super().__init__()
        self.strength = check_in_range(strength, "strength", 0.0, np.inf)
        self.penalty = 0.0

    def forward(self, x):
        x = np.asarray(x)
        self.penalty = float(self.strength * np.sum(np.abs(x), dtype=np.float64) / max(len(x), 1))
        self._store(x)
        return x

    def backward(self, grad_out, *, input_grad=True):
        x = self._take_cache()
        return grad_out + (self.strength / max(len(x), 1)) * np.sign(x).astype(x.dtype)

    def output_shape(self, input_shape):
        return tuple(int(s) for s in input_shape)

    def extra_repr(self):
        return f"strength={self.strength:g}"
