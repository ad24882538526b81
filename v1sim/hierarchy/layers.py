"""S- and C-layers: Fukushima's cell planes on v1sim's kernel layer (public via :mod:`v1sim.hierarchy`).

An :class:`SLayer` is a bank of cell planes sharing weights across positions:
its excitatory input is one :func:`v1sim.correlate_batch` of the layer below
with the planes' weights, and its inhibitory V-cell input one more
correlation, of the summed squared input with the connection kernel ``c``.
A :class:`CLayer` is a :func:`v1sim.pool2d` (blur = average, or max, or L2)
with subsampling and an optional saturating output. The equations are in
:mod:`v1sim.hierarchy`'s docstring.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import kernels, pooling, signal
from .._core.validate import (
    as_float_array,
    check_choice,
    check_in_range,
    check_int_pair,
    check_nonnegative_int,
    check_positive_float,
    check_positive_int,
)
from ..backend import resolve_device
from ..kernels.ops import out_len, pad
from .connections import vcell_unchecked

__all__ = ["CLayer", "SLayer"]

TUNINGS = ("shunting", "linear", "ndp", "rbf")
METHODS = ("auto", "fused", *signal.METHODS[1:])
_FUSED_MODES = {"shunting": 0, "ndp": 1}  # tunings the fused kernel computes
_SIMD_FLOATS = 16  # float32 lanes of a 512-bit vector (a multiple of 4 and 8: right for narrower ones too)
_FUSED_MAX_WEIGHTS = 512  # "auto" fuses while a layer has at most this many weights K*C*kh*kw (see SLayer)
C_KINDS = ("avg", "max", "l2")
_TINY = 1e-12


def _padding(padding, kh: int, kw: int) -> tuple[int, int]:
    if padding == "same":
        return kh // 2, kw // 2
    if padding == "valid":
        return 0, 0
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        p = check_nonnegative_int(padding, "padding")
        return p, p
    raise ValueError(f"padding must be 'same', 'valid' or a non-negative integer, got {padding!r}")


class SLayer:
    """A layer of S-cells (simple cells): weight-shared templates with divisive inhibition.

    Parameters
    ----------
    templates : (K, C, kh, kw) array_like
        One template ``X_k`` per cell plane (the pattern the plane is tuned
        to, in units of the input); K >= 1; odd ``kh``, ``kw`` for
        ``padding="same"``. Learned planes pass the sum of the patches they
        learned (its scale cancels for the normalised tunings).
    tuning : {"shunting", "linear", "ndp", "rbf"}
        The cell's response to its excitation ``e`` and V-cell input ``v``
        (``b_k = ||X_k||_c`` for "linear"/"rbf", 1 for the normalised ones):

        ``"shunting"``
            Fukushima's S-cell, ``u = r phi[(1 + e) / (1 + theta b v) - 1]``
            with ``theta = r / (1 + r)``, ``a = c X / ||X||_c`` and
            ``b = sqrt(sum a^2 / c) = 1``; fires iff the c-weighted cosine
            ``e / (b v)`` between input patch and template exceeds ``theta``.
        ``"linear"``
            Half-wave rectified correlation ``u = phi[e]``, ``a = c X`` (the
            contrast-extracting layer UG).
        ``"ndp"``
            Normalised dot product ``u = |e| / v``, ``a = c X / ||X||_c``
            (HMAX S1, Serre et al. 2007).
        ``"rbf"``
            Gaussian tuning ``u = exp(-||x - X||_c^2 / (2 sigma^2 ||X||_c^2))``
            with ``||x - X||_c^2 = v^2 - 2 e + b^2`` and ``a = c X`` (HMAX S2).
    r : float, optional
        Selectivity of "shunting" cells, in (0, inf); required for them.
    c : (kh, kw) array_like, optional
        Connection weights ``c(nu) > 0`` of the V-cell (and the taper of the
        excitatory weights); default uniform. See :func:`connection_kernel`.
    sigma : float
        Relative tuning width of "rbf" cells, > 0.
    padding : {"same", "valid"} or int
        Zero padding of the input; "same" keeps the map size (stride 1).
    method : {"auto", "fused", "gemm", "direct", "fft"}
        How the layer computes. ``"fused"``: one Numba kernel computes the
        excitation, the V-cell and the output row by row, without
        intermediate maps (shunting and "ndp" tunings, CPU). Otherwise the
        named :func:`v1sim.correlate_batch` method computes ``e`` and ``v``
        and numpy the output. ``"auto"`` (default) fuses small banks (at
        most 512 weights K*C*kh*kw) and uses "gemm" for the rest. On 16
        digits with 2 cores, fused against gemm: Neocognitron US1 (2 -> 8
        planes, 5x5: 400 weights) 0.8 against 1.5 ms, US2 (8 -> 24, 3x3:
        1,728) 3.6 against 3.7 ms, US3 (24 -> 48, 3x3 at 14x14) 10.1
        against 3.1 ms; HMAX S1 (16 Gabors, 9x9: 1,296) 4.1 against 2.6 ms.
    device : {"auto", "cpu", "parallel", "cuda"}
        Backend.
    name : str
        Stage name (``"US2"``), used in messages.

    Notes
    -----
    Shape: input (N, C, H, W) -> output (N, K, H2, W2),
    ``H2 = H - kh + 2 P + 1`` (stride 1). Cross-correlation, no kernel flip;
    float32 unless the input is float64. ``e`` is one
    :func:`v1sim.correlate_batch` with ``a``; ``v`` is :func:`vcell`.

    See Also
    --------
    CLayer : the C-cells that pool these maps.
    v1sim.nn.Conv2d : the same correlation as a trainable ConvNet layer.

    References
    ----------
    .. [1] Fukushima K (1988). Neocognitron: a hierarchical neural network
       capable of visual pattern recognition. Neural Networks 1(2):119-130.
    .. [2] Fukushima K (2003). Neocognitron for handwritten digit recognition.
       Neurocomputing 51:161-180.
    .. [3] Serre T, Wolf L, Bileschi S, Riesenhuber M, Poggio T (2007). Robust
       object recognition with cortex-like mechanisms. IEEE TPAMI 29(3):411-426.
    """

    def __init__(
        self,
        templates,
        *,
        tuning="shunting",
        r=None,
        c=None,
        sigma=0.5,
        padding="same",
        method="auto",
        device="auto",
        name="S",
    ):
        self.name = str(name)
        t = as_float_array(templates, "templates", ndim=4, allow_empty=True)
        if t.shape[0] < 1:
            raise ValueError(
                f"templates of {self.name} must hold at least one cell plane (K >= 1), got shape {t.shape}"
            )
        if t.size == 0:
            raise ValueError(f"templates of {self.name} must not be empty, got shape {t.shape}")
        k, ch, kh, kw = t.shape
        if padding == "same" and (kh % 2 == 0 or kw % 2 == 0):
            raise ValueError(
                f"templates of {self.name} need odd connection areas (kh, kw) for padding='same', got {(kh, kw)}"
            )
        self.tuning = check_choice(tuning, "tuning", TUNINGS)
        self.r = None
        if self.tuning == "shunting":
            if r is None:
                raise ValueError(f"r (selectivity of {self.name}) is required for tuning='shunting'")
            self.r = check_in_range(r, "r", 0.0, math.inf, inclusive=(False, False))
        self.sigma = check_positive_float(sigma, "sigma")
        if c is None:
            c = np.ones((kh, kw), dtype=t.dtype)
        c = as_float_array(c, "c", ndim=2).astype(t.dtype, copy=False)
        if c.shape != (kh, kw):
            raise ValueError(f"c must have the templates' connection area {(kh, kw)}, got shape {c.shape}")
        if (c <= 0).any():
            raise ValueError("c must be positive everywhere in the connection area")
        self.padding = _padding(padding, kh, kw)
        self.method = check_choice(method, "method", METHODS)
        self.device = resolve_device(device)
        if method == "fused" and (self.tuning not in _FUSED_MODES or self.device == "cuda"):
            raise ValueError(
                f"method='fused' of {self.name} computes the 'shunting' and 'ndp' tunings on the CPU; "
                f"got tuning={self.tuning!r}, device={self.device!r}"
            )
        self._fused = method == "fused" or (
            method == "auto" and self.tuning in _FUSED_MODES and self.device != "cuda" and t.size <= _FUSED_MAX_WEIGHTS
        )
        self._corr_method = "gemm" if method in ("auto", "fused") else method  # for e and v computed apart
        self.templates = t
        self.c = c
        norms = np.sqrt(np.einsum("kchw,hw->k", t * t, c, dtype=np.float64))
        if self.tuning in ("shunting", "ndp"):
            if (norms <= _TINY).any():
                bad = np.flatnonzero(norms <= _TINY).tolist()
                raise ValueError(f"templates of {self.name}: plane(s) {bad} are all zero (nothing to normalise)")
            self.a = (t * c / norms[:, None, None, None].astype(t.dtype)).astype(t.dtype)
            self.b = np.ones(k, dtype=t.dtype)
        else:
            self.a = (t * c).astype(t.dtype)
            self.b = norms.astype(t.dtype)
        self.a.setflags(write=False)

    @property
    def n_planes(self) -> int:
        """Number of cell planes K."""
        return self.templates.shape[0]

    @property
    def theta(self) -> float | None:
        """Threshold of the shunting S-cell, ``r / (1 + r)`` (Fukushima 2003's theta)."""
        return None if self.r is None else self.r / (1.0 + self.r)

    def output_shape(self, shape) -> tuple[int, int, int]:
        """(K, H2, W2) for an input of per-image shape (C, H, W); raises if it does not fit."""
        ch, h, w = shape
        _, c_t, kh, kw = self.templates.shape
        if ch != c_t:
            raise ValueError(f"{self.name} expects {c_t} input planes, its input has {ch}")
        (py, px) = self.padding
        for n, f, p, what in ((h, kh, py, "height"), (w, kw, px, "width")):
            if f > n + 2 * p:
                raise ValueError(
                    f"{self.name}: connection area {what} {f} is larger than its (padded) input {n} + 2*{p}"
                )
        return self.n_planes, out_len(h, kh, 1, py), out_len(w, kw, 1, px)

    def _check_input(self, x):
        x = as_float_array(x, "x", ndim=4)
        self.output_shape(x.shape[1:])
        return x

    def excitation(self, x) -> np.ndarray:
        """Excitatory sums ``e[n, k, i, j] = sum_{kappa, nu} a[k, kappa, nu] x[n, kappa, (i, j) + nu]``.

        One :func:`v1sim.correlate_batch` of x (N, C, H, W) with the weights ``a``.
        """
        x = self._check_input(x)
        return signal.correlate_batch(x, self.a, padding=self.padding, method=self._corr_method, device=self.device)

    def inhibition(self, x) -> np.ndarray:
        """V-cell input ``v = sqrt(sum_{kappa, nu} c[nu] x[kappa, (i, j) + nu]^2)``, shape (N, 1, H2, W2)."""
        x = self._check_input(x)
        return self._vcell(x)

    def _vcell(self, x):
        return vcell_unchecked(x, self.c, self.padding, method=self._corr_method, device=self.device)

    def respond(self, e, v, r=None) -> np.ndarray:
        """The S-cell output from excitation ``e`` (N, K, ...) and V-cell input ``v`` (N, 1, ...).

        ``r`` overrides the layer's selectivity (the learning phase uses a
        higher one than recognition, Fukushima 2003).
        """
        if self.tuning == "shunting":  # normalised weights: b_k = 1
            r = self.r if r is None else check_in_range(r, "r", 0.0, math.inf, inclusive=(False, False))
            theta = r / (1.0 + r)
            # r * phi[(1 + e) / (1 + theta b v) - 1] == r * phi[e - theta b v] / (1 + theta b v), in place
            h = (theta * v).astype(e.dtype, copy=False)
            u = np.subtract(e, h)
            np.maximum(u, 0.0, out=u)
            u *= (r / (1.0 + h)).astype(e.dtype, copy=False)
            return u
        if self.tuning == "linear":
            return np.maximum(e, 0.0)
        if self.tuning == "ndp":
            return (np.abs(e) / np.maximum(v, _TINY)).astype(e.dtype, copy=False)
        b = self.b[None, :, None, None]
        d2 = np.maximum(v * v - 2.0 * e + b * b, 0.0)
        return np.exp(-d2 / (2.0 * self.sigma**2 * np.maximum(b * b, _TINY))).astype(e.dtype, copy=False)

    def __call__(self, x, r=None) -> np.ndarray:
        """Responses (N, K, H2, W2) of every cell plane to x (N, C, H, W)."""
        x = self._check_input(x)
        if self._fused:
            return self._fused_response(x, r)
        e = signal.correlate_batch(x, self.a, padding=self.padding, method=self._corr_method, device=self.device)
        v = self._vcell(x) if self.tuning != "linear" else None
        return self.respond(e, v, r)

    def _fused_response(self, x, r):
        r = self.r if r is None else check_in_range(r, "r", 0.0, math.inf, inclusive=(False, False))
        (py, px), dtype = self.padding, self.a.dtype if x.dtype == self.a.dtype else np.float64
        k, kh, kw = self.a.shape[0], self.a.shape[2], self.a.shape[3]
        ho, wo = out_len(x.shape[2], kh, 1, py), out_len(x.shape[3], kw, 1, px)
        extra = -wo % _SIMD_FLOATS  # right-hand zeros: rows a whole number of vectors wide (see s_cells)
        xp = pad(np.ascontiguousarray(x, dtype=dtype), (py, py, px, px + extra))
        out = np.empty((x.shape[0], k, ho, wo), dtype=dtype)
        theta = 0.0 if r is None else r / (1.0 + r)
        a, c = self.a.astype(dtype, copy=False), self.c.astype(dtype, copy=False)
        kernels.get("s_cells", self.device)(xp, a, c, _FUSED_MODES[self.tuning], r or 0.0, theta, out)
        return out

    forward = __call__

    def __repr__(self) -> str:
        k, ch, kh, kw = self.templates.shape
        extra = f", r={self.r:g}" if self.r is not None else ""
        return f"SLayer({self.name}: {ch} -> {k} planes, {kh}x{kw}, tuning={self.tuning!r}{extra})"


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
