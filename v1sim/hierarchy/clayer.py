"""C-layers: Fukushima's complex-cell planes, a pooling of the S-cell maps (public via :mod:`v1sim.hierarchy`).

The S-layers are in :mod:`v1sim.hierarchy.layers`; the equations in :mod:`v1sim.hierarchy`'s docstring.
"""

from __future__ import annotations

import numpy as np

from .. import pooling
from .._core.validate import as_float_array, check_choice, check_int_pair, check_positive_float, check_positive_int
from ..backend import resolve_device
from ..kernels.ops import out_len

__all__ = ["CLayer"]

C_KINDS = ("avg", "max", "l2")


class CLayer:
    """A layer of C-cells (complex cells): pooling over position (and scale), then saturation.

    ``u_C = psi[pool_{nu in window} u_S(n + nu, k)]`` with
    ``psi[x] = phi[x] / (alpha + phi[x])`` (Fukushima 1988) when
    ``saturation=alpha`` is given, identity otherwise (HMAX). Blur ("avg":
    uniform weights ``d(nu)``), max (HMAX C1/C2, Riesenhuber & Poggio 1999)
    or L2 pooling, with subsampling by ``stride``; one :func:`v1sim.pool2d`.

    Parameters
    ----------
    size : int or (int, int) or None
        Pooling window; None pools each whole map (a global C-cell, HMAX C2).
    stride : int or (int, int), optional
        Subsampling step; default ``size``.
    padding : int or (int, int)
        Implicit padding (at most ``size // 2``), zeros for "avg"/"l2".
    kind : {"avg", "max", "l2"}
        Pooling.
    saturation : float, optional
        ``alpha > 0`` of the saturating output; None for a linear output.
    n_scales, scale_pool : int
        Channels are ``n_scales`` consecutive blocks (scale-major, as
        :func:`v1sim.filters.gabor_bank`); each group of ``scale_pool``
        adjacent scales is max-pooled into one band first (HMAX C1).
    device : {"auto", "cpu", "parallel", "cuda"}
    name : str

    Notes
    -----
    Shape: (N, C, H, W) -> (N, C // scale_pool, H2, W2) with
    ``H2 = (H + 2P - F) // S + 1`` (1 for a global layer).
    """

    def __init__(
        self,
        size=None,
        stride=None,
        padding=0,
        *,
        kind="avg",
        saturation=None,
        n_scales=1,
        scale_pool=1,
        device="auto",
        name="C",
    ):
        self.name = str(name)
        self.kind = check_choice(kind, "kind", C_KINDS)
        self.size = None if size is None else _pair(size, "size", 1)
        self.stride = None if stride is None else _pair(stride, "stride", 1)
        self.padding = _pair(padding, "padding", 0)
        if self.size is None and any(self.padding):
            raise ValueError("padding must be 0 for a global C-layer (size=None)")
        if self.size is not None:
            for p, f in zip(self.padding, self.size):
                if p > f // 2:
                    raise ValueError(f"padding of {self.name} must be at most half the window ({f} // 2), got {p}")
        self.saturation = None if saturation is None else check_positive_float(saturation, "saturation")
        self.n_scales = check_positive_int(n_scales, "n_scales")
        self.scale_pool = check_positive_int(scale_pool, "scale_pool")
        if self.n_scales % self.scale_pool:
            raise ValueError(f"n_scales ({self.n_scales}) must be a multiple of scale_pool ({self.scale_pool})")
        self.device = resolve_device(device)

    def _geometry(self, h, w):
        size = (h, w) if self.size is None else self.size
        stride = size if self.stride is None else self.stride
        return size, stride

    def output_shape(self, shape) -> tuple[int, int, int]:
        """(C2, H2, W2) for an input of per-image shape (C, H, W); raises if the window does not fit."""
        ch, h, w = shape
        if ch % self.n_scales:
            raise ValueError(f"{self.name}: {ch} input planes are not {self.n_scales} equal scale blocks")
        size, stride = self._geometry(h, w)
        out = []
        for n, f, s, p, what in zip((h, w), size, stride, self.padding, ("height", "width")):
            if f > n + 2 * p:
                raise ValueError(
                    f"{self.name}: size {f} (pooling window {what}) is larger than its input {what} {n}"
                    + (f" + 2*{p}" if p else "")
                )
            out.append(out_len(n, f, s, p))
        return ch // self.scale_pool, out[0], out[1]

    def __call__(self, x) -> np.ndarray:
        """C-cell responses (N, C2, H2, W2) to S-cell maps x (N, C, H, W)."""
        x = as_float_array(x, "x", ndim=4)
        self.output_shape(x.shape[1:])
        if self.scale_pool > 1:
            n, ch, h, w = x.shape
            per = ch // self.n_scales
            x = x.reshape(n, self.n_scales // self.scale_pool, self.scale_pool, per, h, w).max(axis=2)
            x = np.ascontiguousarray(x.reshape(n, -1, h, w))
        size, stride = self._geometry(*x.shape[2:])
        out = pooling.pool2d(x, size, stride, self.padding, kind=self.kind, device=self.device)
        if self.saturation is not None:
            out = np.maximum(out, 0.0)
            out /= self.saturation + out
        return out

    forward = __call__

    def __repr__(self) -> str:
        size = "global" if self.size is None else f"{self.size[0]}x{self.size[1]}"
        return f"CLayer({self.name}: {self.kind} {size}, stride {self.stride}, saturation {self.saturation})"


def _pair(value, name, minimum):
    return check_int_pair(value, name, minimum=minimum)
