"""Unchecked drivers over the kernels: each shape formula once.

Everything here takes arguments already checked at a public edge (or built
by another layer of the engine) and does the shape arithmetic, padding and
allocation that the Numba kernels leave to Python. The science modules and
the ConvNet engine both call these; nothing here validates user input beyond
the one refusal every caller shares (a window that does not fit its input).
"""

from __future__ import annotations

import numpy as np

from .._core.validate import check_int_pair
from ..errors import InputError
from . import get

__all__ = ["out_len", "pad", "pad_zero", "pool_geometry", "pool", "pool_backward"]


def out_len(
    n: int, f: int, stride: int = 1, padding: int = 0, *, argument: str = "f", axis: str = "size", owner: str = ""
) -> int:
    """Output length of a window sliding over an axis: ``(n - f + 2p) // s + 1``.

    The one home of the formula ``W2 = (W1 - F + 2P)/S + 1`` (rounded down:
    the last partial window is dropped, as in PyTorch).

    Parameters
    ----------
    n, f : int
        Input and window (filter) length, positive.
    stride, padding : int
        Stride S (positive) and padding P on each side (non-negative).
    argument : str
        The argument an :class:`~v1sim.errors.InputError` blames when the
        window does not fit (``"f"``, ``"weight"``, ``"x"``, ``"size"`` ...).
    axis : str
        The axis' name in the message (``"height"``, ``"width"``).
    owner : str
        Prefix of the message (a layer's name), if any.

    Returns
    -------
    int

    Raises
    ------
    InputError
        If the window does not fit the padded input (``f > n + 2p``).
    """
    if f > n + 2 * padding:
        prefix = f"{owner}: " if owner else ""
        raise InputError(
            f"{prefix}the window {axis} {f} ({argument}) does not fit the input {axis} {n} with "
            f"padding {padding} on each side",
            argument=argument,
        )
    return (n - f + 2 * padding) // stride + 1


def pad(x: np.ndarray, pads: tuple[int, int, int, int], mode: str = "constant", cval: float = 0.0) -> np.ndarray:
    """Pad the last two axes by ``(top, bottom, left, right)`` with a numpy pad mode.

    Returns ``x`` itself when nothing is padded. ``"constant"`` is one fill and
    one copy (np.pad's generality costs ~0.1 ms per call).
    """
    if not any(pads):
        return x
    if mode == "constant":
        top, bottom, left, right = pads
        out = np.full(x.shape[:-2] + (x.shape[-2] + top + bottom, x.shape[-1] + left + right), cval, dtype=x.dtype)
        out[..., top : top + x.shape[-2], left : left + x.shape[-1]] = x
        return out
    width = [(0, 0)] * (x.ndim - 2) + [(pads[0], pads[1]), (pads[2], pads[3])]
    return np.pad(x, width, mode=mode)


def pad_zero(x: np.ndarray, py: int, px: int) -> np.ndarray:
    """Zero-pad the last two axes symmetrically: ``py`` rows above and below, ``px`` columns left and right."""
    return pad(x, (py, py, px, px))


def pool_geometry(shape, size, stride, padding):
    """Checked pooling geometry of an (N, C, H, W) ``shape``: ``(size, stride, padding, (H2, W2))`` as int pairs.

    ``stride`` None means ``size`` (non-overlapping windows); padding is at
    most half the window; the window must fit the padded input.

    Raises
    ------
    InputError
        For padding over half the window (``padding``) or a window larger than the padded input (``size``).
    InputTypeError
        For non-integer ``size``, ``stride`` or ``padding``.
    """
    size = check_int_pair(size, "size", minimum=1)
    stride = size if stride is None else check_int_pair(stride, "stride", minimum=1)
    padding = check_int_pair(padding, "padding", minimum=0)
    for axis, name in ((0, "height"), (1, "width")):
        if padding[axis] > size[axis] // 2:
            raise InputError(
                f"padding must be at most half the window size, got padding {padding[axis]} for a window "
                f"{name} of {size[axis]}",
                argument="padding",
            )
    ho = out_len(shape[2], size[0], stride[0], padding[0], argument="size", axis="height")
    wo = out_len(shape[3], size[1], stride[1], padding[1], argument="size", axis="width")
    return size, stride, padding, (ho, wo)


def pool(arr, size, stride, padding, out_hw, kind, return_indices, device):
    """Pool C-contiguous float (N, C, H, W) on checked geometry (pairs) and a resolved CPU device.

    The ConvNet layers call this directly: their inputs come from other
    layers, so the public edge's checks (a finiteness pass over the whole
    batch) would only add memory traffic to the training step. Returns
    ``(out, idx)``, ``idx`` the int32 argmax of max pooling (None for the
    2x2 fast path without ``return_indices``, and for other kinds).
    """
    n, c = arr.shape[:2]
    out = np.empty((n, c) + tuple(out_hw), dtype=arr.dtype)
    idx = None
    if kind == "max":
        if not return_indices and device != "cuda" and size == (2, 2) and stride == (2, 2) and padding == (0, 0):
            get("max_pool_2x2", device, arr.size)(arr, out)
        else:
            idx = np.empty(out.shape, dtype=np.int32)
            get("max_pool", device, arr.size)(arr, *size, *stride, *padding, out, idx)
    else:
        get(f"{kind}_pool", device, arr.size)(arr, *size, *stride, *padding, out)
    return out, idx


def pool_backward(g, x_shape, size, stride, padding, kind, indices, device):
    """Gradient of :func:`pool` on checked arguments (int32 ``indices`` known to be in range)."""
    if kind == "avg" and tuple(size) == tuple(stride) == (2, 2) and not any(padding) and device != "cuda":
        grad_in = np.empty(x_shape, dtype=g.dtype)  # the 2x2 kernel writes every element: no zeroing pass
        get("avg_pool_2x2_backward", device, grad_in.size)(g, grad_in)
        return grad_in
    grad_in = np.zeros(x_shape, dtype=g.dtype)
    if kind == "max":
        get("max_pool_backward", device, grad_in.size)(g, indices, grad_in)
    else:
        get("avg_pool_backward", device, grad_in.size)(g, *size, *stride, *padding, grad_in)
    return grad_in
