"""Forward/backward pairs on numpy arrays: the engine's arithmetic, one layer at a time.

Modules by topic: :mod:`~v1sim.nn.functional.conv` (convolution, locally
connected), :mod:`~v1sim.nn.functional.linear`,
:mod:`~v1sim.nn.functional.activation`, :mod:`~v1sim.nn.functional.pooling`,
:mod:`~v1sim.nn.functional.normalization`, :mod:`~v1sim.nn.functional.dropout`
and :mod:`~v1sim.nn.functional.loss`; every name is re-exported here.

Every layer is a pair, CS231n style::

    out, cache = conv2d_forward(x, w, b, stride=1, padding=1)
    dx, dw, db = conv2d_backward(grad_out, cache)

``forward`` returns the output and a cache (a named dataclass) of what ``backward`` needs;
``backward`` takes the gradient of the loss with respect to the output and
returns the gradients with respect to the inputs, in the order of the forward
arguments. Arrays are NCHW, float32 by default; float64 is kept throughout (the
gradient checks use it). Inputs are never modified (except the running
statistics that :func:`batch_norm_forward` updates in place, as PyTorch does).

Where the time goes: convolutions (:mod:`v1sim.kernels.conv_blocks` picks a
path per layer) run as one BLAS product per kernel tap over windows of the
channel-major padded input (:mod:`v1sim.kernels.conv_shifted`: most layers
of a deep net), by Winograd's F(2x2, 3x3) for 3x3 layers with many channels on
large maps (:mod:`v1sim.kernels.conv_winograd`: VGG's, ImageNet ResNets' first
stages), as direct sums along output rows for filters of a few weights
(:mod:`v1sim.kernels.conv_rows`), or as im2col of a few images into a
workspace that stays in cache and one BLAS product per block; the blocks are
spread over worker threads, and a layer holds its (padded) input for backward,
never patch columns. A batch norm followed by a ReLU runs as one pass each way
(:func:`batch_norm_relu_forward`); pooling runs on the pooling kernels of
:mod:`v1sim.kernels.ops`; everything else is a few vectorised passes.

Devices: ``"cpu"`` and ``"parallel"`` select the serial or parallel Numba
kernels. ``"cuda"`` (or any numba device array among the inputs) runs the
pair's CUDA twin (:mod:`v1sim.nn.functional.cuda`, the same file and
function names, the same im2col + GEMM scheme on numba-cuda kernels; one
dispatch point, :mod:`v1sim.nn.functional.dispatch`, picks it): outputs, caches and gradients are then device arrays,
and host inputs are copied to the device once. Backward passes run where
their forward pass ran (the cache says which).

Checks: every argument is validated by name (shapes, dtypes, hyper-parameters
such as ``eps``, ``k``, ``beta``, ``p``, ``momentum`` and ``axis``, and caches:
a backward pass refuses anything but its own forward pass's cache with an
:class:`~v1sim.errors.InputTypeError` naming ``cache``), except one thing:
float arrays are not scanned for NaN or infinity on every call, which would
cost a full pass over every activation. NaN and infinity in an input float
array propagate IEEE-style into the output, as in PyTorch; the training loop
checks the loss and the activations instead. Inputs that are not float arrays
(lists, integer arrays) are converted and checked, and
:func:`cross_entropy_forward` checks its logits, as the loss.

References
----------
.. [1] Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning
   applied to document recognition", Proc. IEEE 86(11), 1998.
.. [2] A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet classification with
   deep convolutional neural networks", NIPS 2012 (LRN, grouped convolutions,
   dropout).
.. [3] S. Ioffe, C. Szegedy, "Batch normalization", ICML 2015.
"""

from __future__ import annotations

from .activation import (
    TanhCache,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from .conv import (
    ConvCache,
    LocallyConnectedCache,
    conv2d_backward,
    conv2d_forward,
    locally_connected2d_backward,
    locally_connected2d_forward,
)
from .dropout import dropout_backward, dropout_forward
from .linear import LinearCache, linear_backward, linear_forward
from .loss import (
    CrossEntropyCache,
    cross_entropy_backward,
    cross_entropy_forward,
    log_softmax,
    softmax,
)
from .normalization import (
    BatchNormCache,
    BatchNormReluCache,
    LocalResponseNormCache,
    batch_norm_backward,
    batch_norm_forward,
    batch_norm_relu_backward,
    batch_norm_relu_forward,
    local_response_norm_backward,
    local_response_norm_forward,
)
from .pooling import (
    GlobalAvgPoolCache,
    PoolCache,
    avg_pool2d_backward,
    avg_pool2d_forward,
    global_avg_pool2d_backward,
    global_avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)

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
    "batch_norm_relu_forward",
    "batch_norm_relu_backward",
    "dropout_forward",
    "dropout_backward",
    "softmax",
    "log_softmax",
    "cross_entropy_forward",
    "cross_entropy_backward",
    "ConvCache",
    "LocallyConnectedCache",
    "LinearCache",
    "TanhCache",
    "PoolCache",
    "GlobalAvgPoolCache",
    "LocalResponseNormCache",
    "BatchNormCache",
    "BatchNormReluCache",
    "CrossEntropyCache",
]
