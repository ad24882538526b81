"""Parameter: a trainable array, its gradient, and how the optimiser treats it (frozen, ``lr_mult``)."""

from __future__ import annotations

import math

import numpy as np

from .._core.validate import as_float_array, check_in_range
from . import device as _device

__all__ = ["Parameter"]


class Parameter:
    """A trainable array with its gradient and how the optimiser treats it.

    Parameters
    ----------
    data : array_like, float32 or float64
        Initial value (copied).
    requires_grad : bool
        False freezes the parameter: backward passes store no gradient for
        it and :class:`v1sim.nn.SGD` leaves it unchanged.
    lr_mult : float
        Per-parameter learning-rate multiplier (Caffe's ``lr_mult``): the
        optimiser uses ``lr * lr_mult``.

    Attributes
    ----------
    data : ndarray or numba device array
        The value; optimisers update it in place. A device array once the
        owning module is on ``"cuda"`` (:meth:`Module.to`).
    grad : ndarray, device array or None
        Accumulated gradient of the loss (same shape and dtype as ``data``,
        and stored where ``data`` lives), None until a backward pass (and
        after ``zero_grad``).
    """

    __slots__ = ("data", "grad", "requires_grad", "lr_mult")

    def __init__(self, data, *, requires_grad: bool = True, lr_mult: float = 1.0):
        arr = as_float_array(data, "data", allow_empty=True)
        self.data = np.array(arr, copy=True)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.lr_mult = check_in_range(lr_mult, "lr_mult", 0.0, math.inf)

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def accumulate_grad(self, grad: np.ndarray) -> None:
        """Add ``grad`` into ``self.grad`` (nothing happens while frozen)."""
        if not self.requires_grad:
            return
        if _device.is_device(self.data) or _device.is_device(grad):
            grad = _device.like(grad, self.data)  # a gradient lives where its parameter lives
            if _device.is_device(grad):
                # backward passes hand over fresh arrays: keep the first, add the others on the device
                self.grad = grad if self.grad is None else _device.add(self.grad, grad)
                return
        if self.grad is None:
            self.grad = np.array(grad, dtype=self.data.dtype, copy=True)
        else:
            self.grad += grad

    def __repr__(self) -> str:
        extra = "" if self.requires_grad else ", requires_grad=False"
        extra += "" if self.lr_mult == 1.0 else f", lr_mult={self.lr_mult:g}"
        return f"Parameter(shape={self.shape}, dtype={self.dtype}{extra})"
