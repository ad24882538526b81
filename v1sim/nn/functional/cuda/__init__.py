"""CUDA twins of :mod:`v1sim.nn.functional`: the same file and function names, device arrays in and out.

``conv.py:conv2d_forward`` here is the twin of
``v1sim/nn/functional/conv.py:conv2d_forward``; the CPU function runs it (see
:mod:`v1sim.nn.functional.dispatch`) when its inputs live on the GPU. Same
arguments, results, gradients and cache types as the CPU pairs, but outputs,
caches and gradients are numba device arrays; host inputs are copied to the
device once. Importing this package imports ``numba.cuda``.
"""

from __future__ import annotations

from .activation import (
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from .conv import (
    conv2d_backward,
    conv2d_forward,
    locally_connected2d_backward,
    locally_connected2d_forward,
)
from .dropout import dropout_backward, dropout_forward
from .linear import linear_backward, linear_forward
from .loss import cross_entropy_backward, cross_entropy_forward
from .normalization import (
    batch_norm_backward,
    batch_norm_forward,
    local_response_norm_backward,
    local_response_norm_forward,
)
from .pooling import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    global_avg_pool2d_backward,
    global_avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from .shortcut import zero_pad_shortcut, zero_pad_shortcut_backward

__all__ = [
    "conv2d_forward",
    "conv2d_backward",
    "locally_connected2d_forward",
    "locally_connected2d_backward",
    "linear_forward",
    "linear_backward",
    "relu_forward",
    "relu_backward",
    "tanh_forward",
    "tanh_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
    "global_avg_pool2d_forward",
    "global_avg_pool2d_backward",
    "local_response_norm_forward",
    "local_response_norm_backward",
    "batch_norm_forward",
    "batch_norm_backward",
    "dropout_forward",
    "dropout_backward",
    "cross_entropy_forward",
    "cross_entropy_backward",
    "zero_pad_shortcut",
    "zero_pad_shortcut_backward",
]
