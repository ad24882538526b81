"""Convolution (cross-correlation) and locally connected layers as forward/backward pairs.

The CUDA twins live in :mod:`v1sim.nn.functional.cuda.conv` (same names and
caches); :func:`~v1sim.nn.functional.dispatch.twin` picks them for device
arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import kernels
from ..._core.validate import (
    check_allocation,
    check_int_pair,
    check_positive_int,
    float_dtype,
)
from ...backend import matmul
from ...errors import InputError, InputTypeError
from ...kernels.conv_blocks import ConvBlocks
from ...kernels.conv_blocks import backward as blocks_backward
from ...kernels.conv_blocks import forward as blocks_forward
from ...kernels.conv_blocks import plan as plan_blocks
from ...kernels.ops import out_len, pad_zero
from .common import check_cache, checked_bias, checked_grad, float_array, host_backend
from .dispatch import twin

__all__ = [
    "ConvCache",
    "LocallyConnectedCache",
    "conv2d_backward",
    "conv2d_forward",
    "conv2d_forward_planned",
    "conv_geometry",
    "locally_connected2d_backward",
    "locally_connected2d_forward",
    "locally_connected_geometry",
]


@dataclass(frozen=True, slots=True)
class ConvCache:
    """What :func:`conv2d_backward` needs from :func:`conv2d_forward` (on either device)."""

    x_shape: tuple  # (N, C, H, W) of the unpadded input
    cols: np.ndarray | None  # the GPU's (C*kh*kw, N, Ho*Wo) channel-major patches; None on the CPU
    w: np.ndarray  # (K, C/groups, kh, kw), in the arithmetic's dtype
    stride: tuple
    padding: tuple
    groups: int
    device: str  # the resolved backend the forward pass ran on
    has_bias: bool
    xp: np.ndarray | None = None  # the CPU's zero-padded input (patches are recomputed from it, block by block)
    blocks: ConvBlocks | None = None  # how the CPU cut the batch


@dataclass(frozen=True, slots=True)
class LocallyConnectedCache:
    """What :func:`locally_connected2d_backward` needs from its forward pass (on either device)."""

    x_shape: tuple
    cols_t: np.ndarray  # (Ho*Wo, C*kh*kw, N) patches per output position
    w: np.ndarray  # (H2, W2, K, C, kh, kw)
    stride: tuple
    padding: tuple
    device: str
    has_bias: bool


# --------------------------------------------------------------------------
# geometry shared with the CUDA twins
# --------------------------------------------------------------------------


def conv_geometry(x, w, stride, padding, groups):
    """Checked ``(stride, padding, groups, ho, wo)`` of a grouped convolution of x (N, C, H, W), w (K, C/G, kh, kw)."""
    sy, sx = stride = check_int_pair(stride, "stride", minimum=1)
    py, px = padding = check_int_pair(padding, "padding", minimum=0)
    groups = check_positive_int(groups, "groups")
    n, c, h, wd = x.shape
    k, cg, kh, kw = w.shape
    if c % groups or k % groups:
        raise InputError(
            f"groups={groups} must divide both the input channels ({c}) and the filters ({k})", argument="groups"
        )
    if cg * groups != c:
        raise InputError(
            f"weight of shape {tuple(w.shape)} with groups={groups} expects {cg * groups} input channels, "
            f"x has {c} (shape {tuple(x.shape)})",
            argument="weight",
        )
    ho = out_len(h, kh, sy, py, argument="weight", axis="height")
    wo = out_len(wd, kw, sx, px, argument="weight", axis="width")
    return stride, padding, groups, ho, wo


def locally_connected_geometry(x, w, stride, padding):
    """Checked ``(stride, padding)`` of a locally connected layer: w's (H2, W2) must be x's output size."""
    sy, sx = stride = check_int_pair(stride, "stride", minimum=1)
    py, px = padding = check_int_pair(padding, "padding", minimum=0)
    n, c, h, wd = x.shape
    ho, wo, k, cw, kh, kw = w.shape
    if cw != c:
        raise InputError(
            f"weight of shape {tuple(w.shape)} expects {cw} input channels, x has {c} (shape {tuple(x.shape)})",
            argument="weight",
        )
    want = (
        out_len(h, kh, sy, py, argument="weight", axis="height"),
        out_len(wd, kw, sx, px, argument="weight", axis="width"),
    )
    if want != (ho, wo):
        raise InputError(
            f"weight of shape {tuple(w.shape)} holds filters for a {ho}x{wo} output, but x of shape "
            f"{tuple(x.shape)} gives {want[0]}x{want[1]}",
            argument="weight",
        )
    return stride, padding


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _check_conv_memory(x_shape, padding, cols_rows, ho, wo, k, dtype) -> None:
    """Refuse a convolution whose padded input, im2col matrix (``cols_rows`` > 0) and output would not fit in memory.

    Blames ``padding`` when it is what inflates the input, else ``x`` (the batch: use fewer images).
    """
    n, c, h, w = x_shape
    hp, wp = h + 2 * padding[0], w + 2 * padding[1]
    count = (n * c * hp * wp if any(padding) else 0) + cols_rows * n * ho * wo + 2 * n * k * ho * wo
    name = "padding" if hp * wp > 2 * h * w else "x"
    cols = f"an im2col matrix of {cols_rows} x {n * ho * wo} and " if cols_rows else ""
    check_allocation(
        count,
        dtype,
        name,
        what=f"x of shape {tuple(x_shape)} with padding {tuple(padding)} gives a padded input, {cols}an output of "
        f"{(n, k, ho, wo)}",
    )


def _padded_shape(x_shape, padding) -> tuple:
    n, c, h, w = x_shape
    return n, c, h + 2 * padding[0], w + 2 * padding[1]


def _crop_hw(xp, py, px, shape) -> np.ndarray:
    if not (py or px):
        return xp
    return np.ascontiguousarray(xp[:, :, py : py + shape[2], px : px + shape[3]])


def _swap01(a, device, bias=None) -> np.ndarray:
    """``a`` (I, J, L) -> (J, I, L), adding ``bias[i]`` on the way (one Numba pass)."""
    out = np.empty((a.shape[1], a.shape[0]) + a.shape[2:], dtype=a.dtype)
    b = np.empty(0, a.dtype) if bias is None else bias
    kernels.get("swap01", host_backend(device))(np.ascontiguousarray(a), b, out)
    return out


def _im2col(xp, kh, kw, stride, ho, wo, device) -> np.ndarray:
    """(C*kh*kw, N, Ho*Wo) channel-major patches of padded ``xp`` (a transpose for 1x1 kernels at stride 1)."""
    n, c = xp.shape[:2]
    if kh == kw == 1 and stride == (1, 1):
        return _swap01(xp.reshape(n, c, ho * wo), device)
    cols = np.empty((c * kh * kw, n, ho * wo), dtype=xp.dtype)
    kernels.get("im2col", host_backend(device))(xp, kh, kw, stride[0], stride[1], cols)
    return cols


def _col2im(dcols, xp_shape, kh, kw, stride, device) -> np.ndarray:
    """Adjoint of :func:`_im2col`: scatter-add (C*kh*kw, N, Ho*Wo) patches into a zero (N, C, Hp, Wp) array."""
    if kh == kw == 1 and stride == (1, 1):
        return _swap01(dcols, device).reshape(xp_shape)
    dxp = np.zeros(xp_shape, dtype=dcols.dtype)
    kernels.get("col2im", host_backend(device))(np.ascontiguousarray(dcols), kh, kw, stride[0], stride[1], dxp)
    return dxp


# --------------------------------------------------------------------------
# the pairs
# --------------------------------------------------------------------------


@twin
def conv2d_forward(x, weight, bias=None, stride=1, padding=0, groups=1, *, device="auto"):
    """2-D convolution layer: cross-correlation with zero padding, stride and groups.

    ``out[n, k] = bias[k] + sum_{c in group(k)} correlate(xpad[n, c], weight[k, c])``,
    with no kernel flip (as PyTorch). Computed block by block
    (:mod:`~v1sim.kernels.conv_blocks`): im2col of a few images or
    rows into a workspace that stays in cache, then one GEMM per group,
    ``out_block = W (K/G, C/G*kh*kw) @ cols_block (C/G*kh*kw, L)``. The
    cache holds the input x (not a copy: do not modify x before the
    backward pass; padded if ``padding``), never the columns.

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
        For :func:`conv2d_backward` (a dataclass, shared with the CUDA twin).

    See Also
    --------
    v1sim.nn.functional.cuda.conv.conv2d_forward : the CUDA twin.
    v1sim.correlate_batch : the same forward pass, choosing among direct, GEMM and FFT.
    """
    x, w = float_array(x, "x", 4), float_array(weight, "weight", 4)
    stride, padding, groups, ho, wo = conv_geometry(x, w, stride, padding, groups)
    k = w.shape[0]
    dtype = float_dtype(x, w)
    _check_conv_memory(x.shape, padding, 0, ho, wo, k, dtype)  # no column matrix: blocks of it, in cache
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    b = checked_bias(bias, k, dtype)
    blocks = plan_blocks(x.shape, w.shape, stride, padding, groups, ho, wo, dtype.itemsize)
    return conv2d_forward_planned(x, w, b, blocks, device)


def conv2d_forward_planned(x, weight, bias, blocks: ConvBlocks, device):
    """:func:`conv2d_forward` on the CPU for arguments it has already checked, with the plan it made
    (``cache.blocks``): no checks, no planning. For a layer that runs the same convolution step after step
    (:class:`v1sim.nn.Conv2d`); x, weight and bias C-contiguous arrays of one float dtype, ``device`` resolved."""
    out, xp = blocks_forward(x, weight, bias, blocks, device)
    geometry = (blocks.stride, blocks.padding, blocks.groups, device, bias is not None)
    return out, ConvCache(x.shape, None, weight, *geometry, xp=xp, blocks=blocks)


@twin
def conv2d_backward(grad_out, cache, *, input_grad=True):
    """Gradients of :func:`conv2d_forward`.

    With ``G`` the output gradient of one block as a (K, L) matrix and its
    patches ``cols`` recomputed from the cached input: ``dW = sum G @ colsᵀ``
    (over blocks, in a fixed order), ``db = sum G`` and
    ``dx = col2im(Wᵀ @ G)`` (entries in the padding dropped).

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
    cache = check_cache(cache, ConvCache, "conv2d_forward")
    w, blocks = cache.w, cache.blocks
    if blocks is None or cache.xp is None:
        raise InputTypeError("cache must be a CPU cache of conv2d_forward (it holds no input)", argument="cache")
    g = checked_grad(grad_out, (blocks.x_shape[0], w.shape[0], blocks.ho, blocks.wo), w.dtype)
    dx, dw = blocks_backward(g, cache.xp, w, blocks, input_grad, cache.device)
    return dx, dw, (_bias_grad(g, cache.device) if cache.has_bias else None)


def _bias_grad(g, device) -> np.ndarray:
    """``g (N, K, H, W)`` summed over all but K (:func:`~v1sim.kernels.cpu.norm.channel_sums`, float64 sums)."""
    n, k, h, w = g.shape
    out = np.empty(k, g.dtype)
    kernels.get("channel_sums", host_backend(device), g.size)(g.reshape(n, k, h * w), out)
    return out


@twin
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
    x, w = float_array(x, "x", 4), float_array(weight, "weight", 6)
    stride, padding = locally_connected_geometry(x, w, stride, padding)
    n, c = x.shape[:2]
    ho, wo, k, _, kh, kw = w.shape
    dtype = float_dtype(x, w)
    _check_conv_memory(x.shape, padding, c * kh * kw, ho, wo, k, dtype)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    b = checked_bias(bias, (k, ho, wo), dtype, "(K, H2, W2)")
    xp = pad_zero(x, *padding)
    cols_t = np.ascontiguousarray(_im2col(xp, kh, kw, stride, ho, wo, device).transpose(2, 0, 1))  # (L, R, N)
    out_t = matmul(w.reshape(ho * wo, k, -1), cols_t)  # (L, K, N)
    out = np.ascontiguousarray(out_t.transpose(2, 1, 0)).reshape(n, k, ho, wo)
    if b is not None:
        out += b
    return out, LocallyConnectedCache(x.shape, cols_t, w, stride, padding, device, b is not None)


@twin
def locally_connected2d_backward(grad_out, cache, *, input_grad=True):
    """Gradients of :func:`locally_connected2d_forward`: ``(dx, dw, db)``.

    ``db`` is None without bias, ``dx`` None unless ``input_grad``.
    """
    cache = check_cache(cache, LocallyConnectedCache, "locally_connected2d_forward")
    x_shape, cols_t, w, stride, padding = cache.x_shape, cache.cols_t, cache.w, cache.stride, cache.padding
    ho, wo, k, _, kh, kw = w.shape
    n = x_shape[0]
    g = checked_grad(grad_out, (n, k, ho, wo), w.dtype)
    go_t = np.ascontiguousarray(g.reshape(n, k, ho * wo).transpose(2, 1, 0))  # (L, K, N)
    dw = matmul(go_t, cols_t.swapaxes(1, 2)).reshape(w.shape)
    dx = None
    if input_grad:
        dcols_t = matmul(w.reshape(ho * wo, k, -1).swapaxes(1, 2), go_t)  # (L, R, N)
        dxp = _col2im(dcols_t.transpose(1, 2, 0), _padded_shape(x_shape, padding), kh, kw, stride, cache.device)
        dx = _crop_hw(dxp, padding[0], padding[1], x_shape)
    return dx, dw, (g.sum(axis=0) if cache.has_bias else None)
