"""Unchecked drivers over the kernels: each shape formula once.

Everything here takes arguments already checked at a public edge (or built
by another layer of the engine) and does the shape arithmetic, padding and
allocation that the Numba kernels leave to Python. The science modules and
the ConvNet engine both call these; nothing here validates user input beyond
the one refusal every caller shares (a window that does not fit its input).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["out_len", "pad", "pad_zero"]


def out_len(n: int, f: int, stride: int = 1, padding: int = 0, *, argument: str = "f", axis: str = "size",
            owner: str = "") -> int:  # fmt: skip
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
        raise InputError(f"{prefix}the window {axis} {f} does not fit the input {axis} {n} with padding {padding} "
                         f"on each side", argument=argument)  # fmt: skip
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
