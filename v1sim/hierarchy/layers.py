"""S- and C-layers: Fukushima's cell planes on v1sim's kernel layer (public via :mod:`v1sim.hierarchy`).

An :class:`SLayer` is a bank of cell planes sharing weights across positions:
its excitatory input is one :func:`v1sim.correlate_batch` of the layer below
with the planes' weights, and its inhibitory V-cell input one more
correlation, of the summed squared input with the connection kernel ``c``.
The C-layers that pool them are in :mod:`v1sim.hierarchy.clayer`: a
:class:`CLayer` is a :func:`v1sim.pool2d` (blur = average, or max, or L2)
with subsampling and an optional saturating output. The equations are in
:mod:`v1sim.hierarchy`'s docstring.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import kernels, signal
from .._core.validate import (
    as_float_array,
    check_choice,
    check_in_range,
    check_nonnegative_int,
    check_positive_float,
)
from ..backend import resolve_device
from ..errors import InputTypeError
from ..kernels.ops import out_len, pad
from .clayer import CLayer
from .connections import vcell_unchecked

__all__ = ["CLayer", "SLayer"]  # CLayer lives in .clayer; imported here, where the S/C pair was defined

TUNINGS = ("shunting", "linear", "ndp", "rbf")
METHODS = ("auto", "fused", *signal.METHODS[1:])
_FUSED_MODES = {"shunting": 0, "ndp": 1}  # tunings the fused kernel computes
_SIMD_FLOATS = 16  # float32 lanes of a 512-bit vector (a multiple of 4 and 8: right for narrower ones too)
_FUSED_MAX_WEIGHTS = 512  # "auto" fuses while a layer has at most this many weights K*C*kh*kw (see SLayer)
_NORM_PLANES = 4096  # planes whose norms are computed together (bounds the temporary squares)
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
    keep_weights : bool
        Keep the weights ``a`` beside the templates (default). False holds
        the planes once: ``a`` is computed from the templates when it is
        read, and :meth:`weights` gives it a block of planes at a time, with
        the same values (the Neocognitron's S4: 41,500 prototypes of 2,352
        values on full MNIST, 0.39 GB each way).

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
        keep_weights=True,
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
        # ||X_k||_c per plane, _NORM_PLANES planes at a time (t * t is a copy of the templates)
        norms = np.concatenate(
            [
                np.sqrt(np.einsum("kchw,hw->k", block * block, c, dtype=np.float64))
                for block in (t[i : i + _NORM_PLANES] for i in range(0, k, _NORM_PLANES))
            ]
        )
        self._normalised = self.tuning in ("shunting", "ndp")
        if self._normalised:
            if (norms <= _TINY).any():
                bad = np.flatnonzero(norms <= _TINY).tolist()
                raise ValueError(f"templates of {self.name}: plane(s) {bad} are all zero (nothing to normalise)")
            self._norms = norms.astype(t.dtype)
            self.b = np.ones(k, dtype=t.dtype)
        else:
            self.b = norms.astype(t.dtype)
        if not isinstance(keep_weights, bool):
            raise InputTypeError(f"keep_weights must be True or False, got {keep_weights!r}", argument="keep_weights")
        self._a = None
        if keep_weights:
            self._a = self.weights()
            self._a.setflags(write=False)

    @property
    def a(self) -> np.ndarray:
        """The weights (K, C, kh, kw): ``c X / ||X||_c`` (normalised tunings) or ``c X``; read-only when kept."""
        return self._a if self._a is not None else self.weights()

    def weights(self, planes=slice(None)) -> np.ndarray:
        """The weights ``a`` of some planes (a slice or index array), computed from their templates.

        Equal, bit for bit, to the same planes of :attr:`a`: a large bank's correlations can go a block of
        planes at a time without a second copy of the whole bank (``keep_weights=False``).
        """
        if self._a is not None:
            return self._a[planes]
        t = self.templates[planes]
        if self._normalised:
            return (t * self.c / self._norms[planes, None, None, None]).astype(t.dtype)
        return (t * self.c).astype(t.dtype)

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
        # the kernel unrolled for this width where there is one (the same sums: equal bit for bit, faster)
        name = f"s_cells_{kw}" if kernels.has(f"s_cells_{kw}", self.device) else "s_cells"
        kernels.get(name, self.device)(xp, a, c, _FUSED_MODES[self.tuning], r or 0.0, theta, out)
        return out

    forward = __call__

    def __repr__(self) -> str:
        k, ch, kh, kw = self.templates.shape
        extra = f", r={self.r:g}" if self.r is not None else ""
        return f"SLayer({self.name}: {ch} -> {k} planes, {kh}x{kw}, tuning={self.tuning!r}{extra})"
