"""Weight initialisation: He ("Xavier/2") for ReLU networks, Xavier/Glorot for tanh and sigmoid.

Both fill an array **in place** (PyTorch's trailing-underscore convention) from
an ``rng`` (None, seed or Generator) and return it. Fans follow PyTorch:
for a (out, in) matrix ``fan_in = in``; for a (K, C, kh, kw) filter bank
``fan_in = C*kh*kw`` and ``fan_out = K*kh*kw``.

Why the factor 2: a ReLU zeroes half of its inputs, halving the variance that
Xavier's ``1/fan_in`` preserves; He et al. double it so that activations keep
their scale through deep ReLU stacks (the lecture's "Xavier/2":
``w = randn(fan_in, fan_out) / sqrt(fan_in / 2)``).

References
----------
.. [1] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep
   feedforward neural networks", AISTATS 2010.
.. [2] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers:
   surpassing human-level performance on ImageNet classification", ICCV 2015.
"""

from __future__ import annotations

import math

import numpy as np

from .._core.validate import check_choice, check_positive_float, check_rng
from ..errors import InputError

__all__ = ["calculate_fans", "kaiming_normal_", "he", "xavier_uniform_", "xavier", "zeros_", "ones_"]


def calculate_fans(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight array of ``shape`` (at least 2-D)."""
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise InputError(
            f"fans need a weight of at least 2 dimensions (out, in, ...), got shape {shape}", argument="shape"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def kaiming_normal_(array: np.ndarray, *, mode: str = "fan_in", gain: float = math.sqrt(2.0), rng=None) -> np.ndarray:
    """He initialisation: normal with ``std = gain / sqrt(fan)``, ``gain = sqrt(2)`` for ReLU.

    Parameters
    ----------
    array : ndarray, float
        Weight to fill in place, e.g. (K, C, kh, kw) or (F_out, F_in).
    mode : {"fan_in", "fan_out"}
        Preserve the variance of the forward activations (fan_in) or of the
        backward gradients (fan_out).
    gain : float
        ``sqrt(2)`` for ReLU; 1 gives LeCun's ``1/sqrt(fan_in)``.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    ndarray
        ``array`` itself.
    """
    check_choice(mode, "mode", ("fan_in", "fan_out"))
    gain = check_positive_float(gain, "gain")
    fan_in, fan_out = calculate_fans(array.shape)
    std = gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    array[...] = check_rng(rng).standard_normal(array.shape) * std
    return array


def xavier_uniform_(array: np.ndarray, *, gain: float = 1.0, rng=None) -> np.ndarray:
    """Glorot initialisation: uniform on ``[-a, a]`` with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    Keeps activation and gradient variances balanced for tanh and sigmoid
    networks (LeNet-style); returns ``array``, filled in place.
    """
    gain = check_positive_float(gain, "gain")
    fan_in, fan_out = calculate_fans(array.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    array[...] = check_rng(rng).uniform(-bound, bound, array.shape)
    return array


def zeros_(array: np.ndarray) -> np.ndarray:
    array[...] = 0
    return array


def ones_(array: np.ndarray) -> np.ndarray:
    array[...] = 1
    return array


he = kaiming_normal_
xavier = xavier_uniform_

INITS = {"he": kaiming_normal_, "xavier": xavier_uniform_}


def init_weight(array: np.ndarray, scheme: str, rng) -> np.ndarray:
    """Fill ``array`` with the named scheme ("he" or "xavier") — what the layers call."""
    check_choice(scheme, "init", tuple(INITS))
    return INITS[scheme](array, rng=rng)
