"""Forward/backward pairs on numpy arrays: the engine's arithmetic, one layer at a time.

Every layer is a pair, CS231n style::

    out, cache = conv2d_forward(x, w, b, stride=1, padding=1)
    dx, dw, db = conv2d_backward(grad_out, cache)

``forward`` returns the output and a cache of what ``backward`` needs;
``backward`` takes the gradient of the loss with respect to the output and
returns the gradients with respect to the inputs, in the order of the forward
arguments. Arrays are NCHW, float32 by default; float64 is kept throughout (the
gradient checks use it). Inputs are never modified (except the running
statistics that :func:`batch_norm_forward` updates in place, as PyTorch does).

Where the time goes: convolutions are im2col (a Numba kernel) into a
channel-major (C*kh*kw, N*Ho*Wo) matrix followed by one BLAS matrix product
for the whole batch (one large GEMM runs near BLAS peak where N small ones
per image do not), and their gradients are two more products and a col2im
scatter (Numba); pooling runs on the pooling kernels of
:mod:`v1sim.pooling`; everything else is a few vectorised numpy passes.

Devices: ``"cpu"`` and ``"parallel"`` select the serial or parallel Numba
kernels. ``"cuda"`` (or any numba device array among the inputs) runs the
pair on the GPU (:mod:`v1sim.nn._fn_cuda`, the same im2col + GEMM scheme on
numba-cuda kernels): outputs, caches and gradients are then device arrays,
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

import numpy as np

from .. import kernels
from .._core.validate import check_allocation, check_int_pair, check_positive_int, float_dtype
from ..errors import InputError
from ..backend import matmul, resolve_device
from . import _device as _dev
from ._device import DeviceCache
from ._fn_act_pool import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    global_avg_pool2d_backward,
    global_avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from ._fn_common import ConvCache, LinearCache, LocallyConnectedCache, _array, _check_cache, _grad, _host
from ._fn_norm_loss import (
    batch_norm_backward,
    batch_norm_forward,
    cross_entropy_backward,
    cross_entropy_forward,
    dropout_backward,
    dropout_forward,
    local_response_norm_backward,
    local_response_norm_forward,
    log_softmax,
    softmax,
)

__all__ = [
    "conv2d_forward", "conv2d_backward",
    "locally_connected2d_forward", "locally_connected2d_backward",
    "linear_forward", "linear_backward",
    "relu_forward", "relu_backward", "tanh_forward", "tanh_backward", "sigmoid_forward", "sigmoid_backward",
    "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
    "global_avg_pool2d_forward", "global_avg_pool2d_backward",
    "local_response_norm_forward", "local_response_norm_backward",
    "batch_norm_forward", "batch_norm_backward",
    "dropout_forward", "dropout_backward",
    "softmax", "log_softmax", "cross_entropy_forward", "cross_entropy_backward",
]  # fmt: skip

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _out_len(n, f, s, p, axis) -> int:
    """``(n - f + 2p) // s + 1``, or an InputError naming ``weight`` if the filter does not fit the padded input."""
    if f > n + 2 * p:
        raise InputError(f"weight's kernel {axis} {f} is larger than the padded input {axis} {n} + 2*{p}",
                         argument="weight")  # fmt: skip
    return (n - f + 2 * p) // s + 1


def _check_conv_memory(x_shape, padding, cols_rows, ho, wo, k, dtype) -> None:
    """Refuse a convolution whose padded input, im2col matrix and output would not fit in memory.

    Blames ``padding`` when it is what inflates the input, else ``x`` (the batch: use fewer images).
    """
    n, c, h, w = x_shape
    hp, wp = h + 2 * padding[0], w + 2 * padding[1]
    count = (n * c * hp * wp if any(padding) else 0) + cols_rows * n * ho * wo + 2 * n * k * ho * wo
    name = "padding" if hp * wp > 2 * h * w else "x"
    check_allocation(count, dtype, name, what=f"x of shape {tuple(x_shape)} with padding {tuple(padding)} gives a "
                     f"padded input, an im2col matrix of {cols_rows} x {n * ho * wo} and an output of "
                     f"{(n, k, ho, wo)}")  # fmt: skip


def _pad_hw(x, py, px) -> np.ndarray:
    """Zero-pad the two spatial axes of (N, C, H, W) (cheaper than np.pad)."""
    if not (py or px):
        return x
    n, c, h, w = x.shape
    out = np.zeros((n, c, h + 2 * py, w + 2 * px), dtype=x.dtype)
    out[:, :, py : py + h, px : px + w] = x
    return out


def _crop_hw(xp, py, px, shape) -> np.ndarray:
    if not (py or px):
        return xp
    return np.ascontiguousarray(xp[:, :, py : py + shape[2], px : px + shape[3]])


def _swap01(a, device, bias=None) -> np.ndarray:
    """``a`` (I, J, L) -> (J, I, L), adding ``bias[i]`` on the way (one Numba pass)."""
    out = np.empty((a.shape[1], a.shape[0]) + a.shape[2:], dtype=a.dtype)
    b = np.empty(0, a.dtype) if bias is None else bias
    kernels.get("swap01", _host(device))(np.ascontiguousarray(a), b, out)
    return out


def _im2col(xp, kh, kw, stride, ho, wo, device) -> np.ndarray:
    """(C*kh*kw, N, Ho*Wo) channel-major patches of padded ``xp`` (a transpose for 1x1 kernels at stride 1)."""
    n, c = xp.shape[:2]
    if kh == kw == 1 and stride == (1, 1):
        return _swap01(xp.reshape(n, c, ho * wo), device)
    cols = np.empty((c * kh * kw, n, ho * wo), dtype=xp.dtype)
    kernels.get("im2col", _host(device))(xp, kh, kw, stride[0], stride[1], cols)
    return cols


def _col2im(dcols, xp_shape, kh, kw, stride, device) -> np.ndarray:
    """Adjoint of :func:`_im2col`: scatter-add (C*kh*kw, N, Ho*Wo) patches into a zero (N, C, Hp, Wp) array."""
    if kh == kw == 1 and stride == (1, 1):
        return _swap01(dcols, device).reshape(xp_shape)
    dxp = np.zeros(xp_shape, dtype=dcols.dtype)
    kernels.get("col2im", _host(device))(np.ascontiguousarray(dcols), kh, kw, stride[0], stride[1], dxp)
    return dxp


def _check_bias_shape(b, want, shape_name):
    """The shape check of :func:`_bias` for arrays already on the device (or None)."""
    if b is not None and tuple(b.shape) != tuple(want):
        raise InputError(f"bias must have shape {tuple(want)} {shape_name}, got {tuple(b.shape)}", argument="bias")


def _bias(bias, n_out, dtype, shape_name="(K,)"):
    if bias is None:
        return None
    b = _array(bias, "bias", 1 if isinstance(n_out, int) else len(n_out))
    want = (n_out,) if isinstance(n_out, int) else tuple(n_out)
    if b.shape != want:
        raise InputError(f"bias must have shape {want} {shape_name}, got {b.shape}", argument="bias")
    return b.astype(dtype, copy=False)


# --------------------------------------------------------------------------
# convolution (cross-correlation), locally connected, linear
# --------------------------------------------------------------------------


def conv2d_forward(x, weight, bias=None, stride=1, padding=0, groups=1, *, device="auto"):
    """2-D convolution layer: cross-correlation with zero padding, stride and groups.

    ``out[n, k] = bias[k] + sum_{c in group(k)} correlate(xpad[n, c], weight[k, c])``,
    with no kernel flip (as PyTorch). Computed as im2col followed by one
    GEMM per group for the whole batch:
    ``out = W (K/G, C/G*kh*kw) @ cols (C/G*kh*kw, N*Ho*Wo)``.

    Parameters
    ----------
    x : (N, C, H, W) ndarray
    weight : (K, C/groups, kh, kw) ndarray
    bias : (K,) ndarray, optional
    stride, padding : int or (int, int)
        S and P; ``H2 = (H - kh + 2P) // S + 1`` and likewise for W.
    groups : int
        Channels are split into ``groups`` towers that do not see each
        other (AlexNet's two GPUs [2]_); C and K must both be divisible.
    device : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    out : (N, K, H2, W2) ndarray
        float64 if x or weight is float64, else float32.
    cache : ConvCache
        For :func:`conv2d_backward` (a named tuple; a ``DeviceCache`` on the GPU).

    See Also
    --------
    v1sim.correlate_batch : the same forward pass, choosing among direct, GEMM and FFT.
    """
    device = resolve_device(device)
    on_cuda = device == "cuda" or _dev.any_device(x, weight, bias)
    x, w = (_dev.fn().dev if on_cuda else _array)(x, "x", 4), (_dev.fn().dev if on_cuda else _array)(weight, "weight", 4)
    sy, sx = stride = check_int_pair(stride, "stride", minimum=1)
    py, px = padding = check_int_pair(padding, "padding", minimum=0)
    groups = check_positive_int(groups, "groups")
    n, c, h, wd = x.shape
    k, cg, kh, kw = w.shape
    if c % groups or k % groups:
        raise InputError(f"groups={groups} must divide both the input channels ({c}) and the filters ({k})",
                         argument="groups")  # fmt: skip
    if cg * groups != c:
        raise InputError(
            f"weight of shape {tuple(w.shape)} with groups={groups} expects {cg * groups} input channels, "
            f"x has {c} (shape {tuple(x.shape)})",
            argument="weight",
        )
    ho, wo = _out_len(h, kh, sy, py, "height"), _out_len(wd, kw, sx, px, "width")
    if on_cuda:
        b = _bias(bias, k, x.dtype) if bias is not None and not _dev.is_device(bias) else bias
        _check_bias_shape(b, (k,), "(K,)")
        return _dev.fn().conv2d_forward(x, w, b, stride, padding, groups, ho, wo)
    dtype = float_dtype(x, w)
    _check_conv_memory(x.shape, padding, c * kh * kw, ho, wo, k, dtype)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    b = _bias(bias, k, dtype)
    xp = _pad_hw(x, py, px)
    kg = k // groups
    cols = _im2col(xp, kh, kw, stride, ho, wo, device)  # (R, N, L), R = C*kh*kw
    rg, cols_m, w_m = cols.shape[0] // groups, cols.reshape(cols.shape[0], -1), w.reshape(k, -1)
    out_t = np.empty((k, n * ho * wo), dtype=dtype)
    for g in range(groups):
        matmul(w_m[g * kg : (g + 1) * kg], cols_m[g * rg : (g + 1) * rg], out=out_t[g * kg : (g + 1) * kg])
    out = _swap01(out_t.reshape(k, n, ho * wo), device, b).reshape(n, k, ho, wo)
    return out, ConvCache(x.shape, xp.shape, cols, w, stride, padding, groups, device, b is not None)


def conv2d_backward(grad_out, cache, *, input_grad=True):
    """Gradients of :func:`conv2d_forward`.

    With ``G`` the output gradient as a channel-major (K, N*Ho*Wo) matrix:
    ``dW = G @ colsᵀ`` (the batch sum is inside the product), ``db = sum G``
    and ``dx = col2im(Wᵀ @ G)`` (cropped to undo the padding).

    Parameters
    ----------
    grad_out : (N, K, H2, W2) ndarray
    cache : ConvCache
        What :func:`conv2d_forward` returned.
    input_grad : bool
        False skips ``dx`` (a network's first layer): one GEMM and the
        col2im scatter less.

    Returns
    -------
    dx : (N, C, H, W) ndarray, or None if not ``input_grad``
    dw : (K, C/groups, kh, kw) ndarray
    db : (K,) ndarray or None (no bias)

    Raises
    ------
    InputTypeError
        If ``cache`` is not a cache from :func:`conv2d_forward`.
    InputError
        If ``grad_out`` does not have the forward output's shape.
    """
    if type(cache) is DeviceCache:
        return _dev.fn().conv2d_backward(grad_out, cache, input_grad)
    x_shape, xp_shape, cols, w, stride, padding, groups, device, has_bias = _check_cache(
        cache, ConvCache, "conv2d_forward")
    n, k, kh, kw = x_shape[0], w.shape[0], w.shape[2], w.shape[3]
    ho = (xp_shape[2] - kh) // stride[0] + 1
    wo = (xp_shape[3] - kw) // stride[1] + 1
    g = _grad(grad_out, (n, k, ho, wo), w.dtype)
    go = _swap01(g.reshape(n, k, ho * wo), device).reshape(k, n * ho * wo)  # channel-major
    r, kg = cols.shape[0], k // groups
    rg, cols_m, w_m = r // groups, cols.reshape(r, -1), w.reshape(k, -1)
    dw, dcols = np.empty_like(w_m), (np.empty((r, n * ho * wo), dtype=w.dtype) if input_grad else None)
    for i in range(groups):
        gk, gr = slice(i * kg, (i + 1) * kg), slice(i * rg, (i + 1) * rg)
        matmul(go[gk], cols_m[gr].T, out=dw[gk])
        if input_grad:
            matmul(w_m[gk].T, go[gk], out=dcols[gr])
    dx = None
    if input_grad:
        dxp = _col2im(dcols.reshape(r, n, ho * wo), xp_shape, kh, kw, stride, device)
        dx = _crop_hw(dxp, padding[0], padding[1], x_shape)
    db = go.sum(axis=1) if has_bias else None
    return dx, dw.reshape(w.shape), db


def locally_connected2d_forward(x, weight, bias=None, stride=1, padding=0, *, device="auto"):
    """Locally connected layer: a convolution whose filters differ at every output position.

    ``out[n, k, i, j] = bias[k, i, j] + sum_{c,u,v} weight[i, j, k, c, u, v] xpad[n, c, i*S+u, j*S+v]``
    (cross-correlation, unshared weights, as in DeepFace and the
    unshared-weight S-layers of the Neocognitron). Computed as im2col and
    one GEMM per output position, batched.

    Parameters
    ----------
    x : (N, C, H, W) ndarray
    weight : (H2, W2, K, C, kh, kw) ndarray
        One (K, C, kh, kw) bank per output position.
    bias : (K, H2, W2) ndarray, optional
    stride, padding : int or (int, int)
    device : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    out : (N, K, H2, W2) ndarray
    cache : LocallyConnectedCache
    """
    device = resolve_device(device)
    on_cuda = device == "cuda" or _dev.any_device(x, weight, bias)
    x, w = (_dev.fn().dev if on_cuda else _array)(x, "x", 4), (_dev.fn().dev if on_cuda else _array)(weight, "weight", 6)
    sy, sx = stride = check_int_pair(stride, "stride", minimum=1)
    py, px = padding = check_int_pair(padding, "padding", minimum=0)
    n, c, h, wd = x.shape
    ho, wo, k, cw, kh, kw = w.shape
    if cw != c:
        raise InputError(
            f"weight of shape {tuple(w.shape)} expects {cw} input channels, x has {c} (shape {tuple(x.shape)})",
            argument="weight",
        )
    want = (_out_len(h, kh, sy, py, "height"), _out_len(wd, kw, sx, px, "width"))
    if want != (ho, wo):
        raise InputError(
            f"weight of shape {tuple(w.shape)} holds filters for a {ho}x{wo} output, but x of shape "
            f"{tuple(x.shape)} gives {want[0]}x{want[1]}",
            argument="weight",
        )
    if on_cuda:
        b = _bias(bias, (k, ho, wo), x.dtype, "(K, H2, W2)") if bias is not None and not _dev.is_device(bias) else bias
        _check_bias_shape(b, (k, ho, wo), "(K, H2, W2)")
        return _dev.fn().locally_connected2d_forward(x, w, b, stride, padding)
    dtype = float_dtype(x, w)
    _check_conv_memory(x.shape, padding, c * kh * kw, ho, wo, k, dtype)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    b = _bias(bias, (k, ho, wo), dtype, "(K, H2, W2)")
    xp = _pad_hw(x, py, px)
    cols_t = np.ascontiguousarray(_im2col(xp, kh, kw, stride, ho, wo, device).transpose(2, 0, 1))  # (L, R, N)
    out_t = matmul(w.reshape(ho * wo, k, -1), cols_t)  # (L, K, N)
    out = np.ascontiguousarray(out_t.transpose(2, 1, 0)).reshape(n, k, ho, wo)
    if b is not None:
        out += b
    return out, LocallyConnectedCache(x.shape, xp.shape, cols_t, w, stride, padding, device, b is not None)


def locally_connected2d_backward(grad_out, cache, *, input_grad=True):
    """Gradients of :func:`locally_connected2d_forward`: ``(dx, dw, db)``, db None without bias, dx None if not ``input_grad``."""
    if type(cache) is DeviceCache:
        return _dev.fn().locally_connected2d_backward(grad_out, cache, input_grad)
    x_shape, xp_shape, cols_t, w, stride, padding, device, has_bias = _check_cache(
        cache, LocallyConnectedCache, "locally_connected2d_forward")
    ho, wo, k, _, kh, kw = w.shape
    n = x_shape[0]
    g = _grad(grad_out, (n, k, ho, wo), w.dtype)
    go_t = np.ascontiguousarray(g.reshape(n, k, ho * wo).transpose(2, 1, 0))  # (L, K, N)
    dw = matmul(go_t, cols_t.swapaxes(1, 2)).reshape(w.shape)
    dx = None
    if input_grad:
        dcols_t = matmul(w.reshape(ho * wo, k, -1).swapaxes(1, 2), go_t)  # (L, R, N)
        dxp = _col2im(dcols_t.transpose(1, 2, 0), xp_shape, kh, kw, stride, device)
        dx = _crop_hw(dxp, padding[0], padding[1], x_shape)
    return dx, dw, (g.sum(axis=0) if has_bias else None)


def linear_forward(x, weight, bias=None):
    """Fully connected layer ``out = x @ weight.T + bias``.

    Shape: x (N, F_in), weight (F_out, F_in), bias (F_out,) -> out (N, F_out).
    Runs on the GPU when x or weight is a device array.
    """
    if _dev.any_device(x, weight, bias):
        return _dev.fn().linear_forward(x, weight, bias)
    x, w = _array(x, "x", 2), _array(weight, "weight", 2)
    if x.shape[1] != w.shape[1]:
        raise InputError(
            f"weight of shape {w.shape} expects {w.shape[1]} input features, x has {x.shape[1]} (shape {x.shape})",
            argument="weight",
        )
    dtype = float_dtype(x, w)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    b = _bias(bias, w.shape[0], dtype, "(F_out,)")
    out = matmul(x, w.T)
    if b is not None:
        out += b
    return out, LinearCache(x, w, b is not None)


def linear_backward(grad_out, cache, *, input_grad=True):
    """Gradients of :func:`linear_forward`: ``dx = g W`` (None if not ``input_grad``), ``dW = gᵀ x``, ``db = sum g``."""
    if type(cache) is DeviceCache:
        return _dev.fn().linear_backward(grad_out, cache, input_grad)
    x, w, has_bias = _check_cache(cache, LinearCache, "linear_forward")
    g = _grad(grad_out, (x.shape[0], w.shape[0]), w.dtype)
    return (matmul(g, w) if input_grad else None), matmul(g.T, x), (g.sum(axis=0) if has_bias else None)
