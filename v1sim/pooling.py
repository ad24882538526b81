"""Pooling: what complex cells and C-layers do to simple-cell maps.

Max pooling is the Neocognitron's C-cell and HMAX's C1 (position tolerance
by taking the strongest response in a neighbourhood); L2 (energy) pooling is
the energy model of complex cells; average pooling is LeNet's subsampling.
One function, :func:`pool2d`, does all three on (N, C, H, W) batches.

Output size per spatial axis: ``(H + 2P - F) // S + 1`` (floor, as PyTorch).
"""

from __future__ import annotations

import numpy as np

from ._core.validate import (
    as_float_array,
    check_allocation,
    check_choice,
    check_positive_int,
)
from .backend import resolve_device
from .errors import InputError, InputTypeError
from .kernels.ops import pool, pool_backward, pool_geometry

__all__ = ["pool2d", "pool2d_backward", "POOL_KINDS"]

POOL_KINDS = ("max", "avg", "l2")


def _promote(x, name):
    """(H, W) -> (1, 1, H, W) and (C, H, W) -> (1, C, H, W); returns array and original ndim."""
    arr = as_float_array(x, name, ndim=(2, 3, 4))
    ndim = arr.ndim
    while arr.ndim < 4:
        arr = arr[None]
    return arr, ndim


def pool2d(x, size, stride=None, padding=0, *, kind="max", return_indices=False, device="auto"):
    """Pool each map of a batch over windows of ``size`` at ``stride``.

    Parameters
    ----------
    x : (N, C, H, W), (C, H, W) or (H, W) array_like
        Maps to pool; lower-dimensional inputs are promoted and the result
        has the input's number of dimensions.
    size : int or (int, int)
        Window size F.
    stride : int or (int, int), optional
        Step S between windows; defaults to ``size`` (non-overlapping).
    padding : int or (int, int)
        Implicit padding P on each side, at most ``size // 2``: ``-inf`` for
        max pooling, zeros for average and L2 pooling (the average always
        divides by the full window area, as PyTorch's default).
    kind : {"max", "avg", "l2"}
        Maximum, mean, or square root of the sum of squares (energy).
    return_indices : bool
        Also return, for max pooling, the flat in-map index ``y * W + x`` of
        each maximum (int32), which :func:`pool2d_backward` consumes.
    device : {"auto", "cpu", "parallel", "cuda"}
        Backend.

    Returns
    -------
    out : ndarray
        Pooled maps, shape (..., (H + 2P - F)//S + 1, (W + 2P - F)//S + 1).
    indices : ndarray of int32
        Only with ``return_indices=True`` (max pooling).

    Raises
    ------
    InputError
        For an empty or wrongly shaped ``x``, a window larger than the padded
        input, padding over half the window, or an unknown ``kind``.
    InputTypeError
        For non-real ``x`` or non-integer ``size``/``stride``/``padding``.
    NonFiniteError
        For NaN or infinity in ``x``.

    See Also
    --------
    pool2d_backward : the gradient with respect to ``x``.
    skimage.measure.block_reduce : non-overlapping pooling on the CPU.
    """
    arr, ndim = _promote(x, "x")
    check_choice(kind, "kind", POOL_KINDS)
    if return_indices and kind != "max":
        raise InputError(
            f"return_indices is only meaningful for kind='max', got kind={kind!r}", argument="return_indices"
        )
    size, stride, padding, (ho, wo) = pool_geometry(arr.shape, size, stride, padding)
    out, idx = pool(arr, size, stride, padding, (ho, wo), kind, return_indices, resolve_device(device))
    shape = out.shape[4 - ndim :]
    if return_indices:
        return out.reshape(shape), idx.reshape(shape)
    return out.reshape(shape)


def pool2d_backward(grad_out, x_shape, size, stride=None, padding=0, *, kind="max", indices=None, device="auto"):
    """Gradient of :func:`pool2d` with respect to its input.

    Parameters
    ----------
    grad_out : (N, C, Ho, Wo) array_like
        Gradient of the loss with respect to the pooled maps.
    x_shape : tuple of int
        Shape (N, C, H, W) of the pooled input.
    size, stride, padding : int or (int, int)
        As given to :func:`pool2d`.
    kind : {"max", "avg"}
        Pooling kind (L2 pooling's gradient needs the input; not provided).
    indices : (N, C, Ho, Wo) int32 array, optional
        The argmax from ``pool2d(..., return_indices=True)``; required for max.
    device : {"auto", "cpu", "parallel", "cuda"}
        Backend.

    Returns
    -------
    (N, C, H, W) ndarray
        Max pooling routes each gradient to its argmax (ties: the first
        maximum); average pooling spreads it evenly over the window.

    Raises
    ------
    InputError
        For a ``grad_out`` or ``indices`` that does not match ``x_shape``,
        out-of-range ``indices``, or an ``x_shape`` beyond memory.
    InputTypeError
        For a non-integer ``x_shape`` or ``indices``.
    """
    g = as_float_array(grad_out, "grad_out", ndim=4)
    check_choice(kind, "kind", ("max", "avg"))
    try:
        shape = tuple(check_positive_int(s, "x_shape") for s in x_shape)
    except TypeError:
        raise InputTypeError(
            f"x_shape must be a tuple of 4 positive integers (N, C, H, W), got {x_shape!r}", argument="x_shape"
        ) from None
    if len(shape) != 4:
        raise InputError(f"x_shape must have 4 entries (N, C, H, W), got {x_shape!r}", argument="x_shape")
    x_shape = shape
    size, stride, padding, (ho, wo) = pool_geometry(x_shape, size, stride, padding)
    if g.shape != (x_shape[0], x_shape[1], ho, wo):
        raise InputError(
            f"grad_out must have shape {(x_shape[0], x_shape[1], ho, wo)}, got {g.shape}", argument="grad_out"
        )
    # a huge stride maps a small grad_out to an input of any size: bound the gradient it allocates
    check_allocation(x_shape, g.dtype, "x_shape", what=f"a gradient of shape {x_shape}")
    device = resolve_device(device)
    if kind == "max":
        if indices is None:
            raise InputError(
                "indices are required for kind='max' (pool2d(..., return_indices=True))", argument="indices"
            )
        idx = np.asarray(indices)
        if idx.dtype.kind not in "iu":
            raise InputTypeError(
                f"indices must be an integer array (from pool2d(..., return_indices=True)), got dtype {idx.dtype}",
                argument="indices",
            )
        if idx.shape != g.shape:
            raise InputError(f"indices must have shape {g.shape}, got {idx.shape}", argument="indices")
        # the kernel writes grad_in[a // W, a % W] unchecked: an out-of-range index would write out of bounds
        n_pix = x_shape[2] * x_shape[3]
        if idx.size and (idx.min() < 0 or idx.max() >= n_pix):
            raise InputError(
                f"indices must be flat in-map positions y*W + x in [0, {n_pix}), "
                f"got values in [{idx.min()}, {idx.max()}]",
                argument="indices",
            )
        indices = np.ascontiguousarray(idx, dtype=np.int32)
    return pool_backward(g, x_shape, size, stride, padding, kind, indices, device)
